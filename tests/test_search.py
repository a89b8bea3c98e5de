"""Hyper-parameter search (engine/search/): the spaces, a trial, the four strategies and
the command. The commands run as a user runs them (a subprocess), on the numpy backend,
with a small budget so that 8 trials take seconds."""
import math
import os
import random
import re
import socket
import subprocess
import sys

import pytest

from engine.search import (Budget, Choice, LogUniform, Uniform, grid_configs, grid_search,
                           optuna_search, parse_space, random_configs, ranked, results_table,
                           run_trial, split_training_set)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--examples", "1000", "--validation", "500", "--device", "cpu"]
TINY = Budget(examples=300, validation=200, device="cpu")


def search(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "engine.search", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def table_rows(stdout):
    """The results table's rows as dicts keyed by the header's names."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
            for line in lines[2:]]


def check_table(run, trials):
    assert run.returncode == 0, run.stderr
    rows = table_rows(run.stdout)
    assert len(rows) == trials
    assert [int(r["rank"]) for r in rows] == list(range(1, trials + 1))
    assert sorted(int(r["trial"]) for r in rows) == list(range(1, trials + 1))
    accuracies = [float(r["val accuracy"].rstrip("%")) for r in rows
                  if r["val accuracy"][0].isdigit()]  # not "diverged"
    assert accuracies == sorted(accuracies, reverse=True), "the table is not best first"
    assert accuracies[0] > 50, "the best of the trials should learn something"
    # one progress line per trial on stderr, and the best configuration is the first row's
    assert len(re.findall(r"^trial \d+/%d: " % trials, run.stderr, re.M)) == trials
    best = rows[0]
    best_line = next(l for l in run.stdout.splitlines() if l.startswith("best configuration:"))
    assert f"trial {best['trial']}:" in best_line
    assert f"lr={best['lr']}," in best_line and f"optimizer={best['optimizer']}" in best_line
    return rows


def test_random_search_command_runs_8_trials_and_prints_the_table():
    rows = check_table(search("--strategy", "random", "--trials", "8", *SMALL), 8)
    assert {r["optimizer"] for r in rows} <= {"sgd", "adam"}
    assert all(1e-4 <= float(r["lr"]) <= 1e-1 for r in rows)


def test_optuna_search_command_runs_8_trials_and_prints_the_table():
    check_table(search("--strategy", "optuna", "--trials", "8", *SMALL), 8)


def test_the_same_seed_gives_the_same_optuna_search():
    space = {"lr": LogUniform(1e-3, 1e-1), "width": Choice([16, 32])}
    first = [r["config"] for r in optuna_search(space, 5, TINY, seed=3)]
    assert first == [r["config"] for r in optuna_search(space, 5, TINY, seed=3)]
    assert first != [r["config"] for r in optuna_search(space, 5, TINY, seed=4)]


def test_ray_tune_search_runs_on_a_local_ray_instance():
    space = '{"lr": {"log": [1e-3, 1e-2]}, "optimizer": ["adam"], "width": [32, 64]}'
    run = search("--strategy", "ray", "--trials", "3", "--num-cpus", "2", "--space", space, *SMALL)
    rows = check_table(run, 3)
    assert all(r["width"] in ("32", "64") and 1e-3 <= float(r["lr"]) <= 1e-2 for r in rows)


def test_grid_search_enumerates_the_product():
    space = {"lr": LogUniform(1e-3, 1e-1), "optimizer": Choice(["sgd", "adam"]),
             "width": Choice([32, 64])}
    configs = grid_configs(space, points=3)
    assert len(configs) == 3 * 2 * 2
    assert {(c["optimizer"], c["width"]) for c in configs} == \
        {(o, w) for o in ("sgd", "adam") for w in (32, 64)}
    assert sorted({c["lr"] for c in configs}) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert len({tuple(c.items()) for c in configs}) == len(configs)  # no combination twice
    assert [c["lr"] for c in grid_configs({"lr": Uniform(0.0, 1.0)}, 5)] == \
        [0.0, 0.25, 0.5, 0.75, 1.0]


def test_grid_search_runs_every_combination():
    space = parse_space({"lr": [0.01, 0.05], "width": [16, 32]})
    results = grid_search(space, TINY)
    assert [r["config"] for r in results] == [{"lr": 0.01, "width": 16}, {"lr": 0.01, "width": 32},
                                              {"lr": 0.05, "width": 16}, {"lr": 0.05, "width": 32}]
    assert [r["trial"] for r in results] == [1, 2, 3, 4]
    assert all(r["status"] == "ok" and 0 <= r["val_accuracy"] <= 1 for r in results)


def test_the_same_seed_draws_the_same_random_configs():
    space = {"lr": LogUniform(1e-4, 1e-1), "batch_size": Choice([32, 64, 128]),
             "momentum": Uniform(0.8, 0.99)}
    first = random_configs(space, 8, random.Random(0))
    assert first == random_configs(space, 8, random.Random(0))
    assert first != random_configs(space, 8, random.Random(1))
    assert all(1e-4 <= c["lr"] <= 1e-1 and 0.8 <= c["momentum"] <= 0.99 for c in first)


def test_log_uniform_spreads_evenly_over_orders_of_magnitude():
    rng = random.Random(0)
    draws = [LogUniform(1e-4, 1e-1).sample(rng) for _ in range(3000)]
    per_decade = [sum(10 ** e <= d < 10 ** (e + 1) for d in draws) for e in (-4, -3, -2)]
    assert all(abs(n - 1000) < 100 for n in per_decade), per_decade


def test_validation_split_is_held_out_of_the_training_set():
    train, val = split_training_set("mnist", 3000, 1000, 0)
    assert train.dataset is val.dataset and train.dataset.train  # never the test set
    assert len(train) == 3000 and len(val) == 1000
    assert not set(train.indices) & set(val.indices)
    assert split_training_set("mnist", 3000, 1000, 1)[1].indices != val.indices
    with pytest.raises(ValueError, match="holds 60,000"):
        split_training_set("mnist", 59_000, 2000, 0)


def test_a_trial_is_reproducible_and_learns():
    config = {"lr": 3e-3, "optimizer": "adam", "batch_size": 32, "width": 64}
    first, second = run_trial(config, TINY), run_trial(config, TINY)
    assert first["status"] == "ok"
    assert (first["val_accuracy"], first["val_loss"]) == (second["val_accuracy"], second["val_loss"])
    stalled = run_trial(dict(config, lr=1e-7), TINY)  # a learning rate too small to move
    assert first["val_accuracy"] > stalled["val_accuracy"] + 0.2
    assert first["val_loss"] < stalled["val_loss"]


@pytest.mark.gpu
def test_a_trial_scores_the_same_on_the_wgsl_kernels_as_on_numpy():
    config = {"lr": 3e-3, "optimizer": "adam", "batch_size": 32, "width": 32}
    on_gpu = run_trial(config, Budget(examples=300, validation=200, device="gpu"))
    on_cpu = run_trial(config, TINY)
    assert on_gpu["val_accuracy"] == pytest.approx(on_cpu["val_accuracy"], abs=0.011)  # 2 images
    assert on_gpu["val_loss"] == pytest.approx(on_cpu["val_loss"], rel=1e-3)


def test_the_validation_loss_is_pytorchs_cross_entropy():
    import torch
    import engine as eg
    from engine.search.trial import build_model, mean_loss
    from engine.data import DataLoader
    eg.set_device("cpu")
    eg.manual_seed(0)
    _, val = split_training_set("mnist", 300, 200, 0)
    model = build_model("mlp", (1, 28, 28), width=16)
    logits, labels = [], []
    for x, y in DataLoader(val, 64):
        logits.append(torch.tensor(model(x).numpy()))
        labels.append(torch.tensor(y.numpy()).long())
    expected = torch.nn.functional.cross_entropy(torch.cat(logits), torch.cat(labels)).item()
    assert mean_loss(model, DataLoader(val, 64)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy, on the diverged weights
def test_a_diverged_trial_is_reported_and_ranked_last():
    diverged = run_trial({"lr": 1e4, "optimizer": "sgd", "width": 16}, TINY)
    assert diverged["status"] == "diverged" and math.isnan(diverged["val_accuracy"])
    fine = run_trial({"lr": 0.05, "optimizer": "sgd", "width": 16}, TINY)
    results = [dict(diverged, trial=1), dict(fine, trial=2)]
    assert [r["trial"] for r in ranked(results)] == [2, 1]
    last_row = results_table(results).splitlines()[-1]
    assert "diverged" in last_row and last_row.startswith("| 2 ")


def test_ties_in_accuracy_are_broken_by_the_lower_loss():
    def result(trial, accuracy, loss):
        return {"trial": trial, "config": {"lr": 0.1}, "val_accuracy": accuracy,
                "val_loss": loss, "seconds": 1.0, "status": "ok"}
    assert [r["trial"] for r in ranked([result(1, 0.9, 0.5), result(2, 0.95, 0.6),
                                        result(3, 0.9, 0.3)])] == [2, 3, 1]


@pytest.mark.parametrize("args, message", [
    (["--strategy", "bayes"], "invalid choice: 'bayes'"),
    (["--strategy", "random", "--space", "{}"], "the search space is empty"),
    (["--strategy", "random", "--space", '{"learning_rate": [0.1]}'], "cannot search 'learning_rate'"),
    (["--strategy", "random", "--space", '{"lr": {"log": [0, 1]}}'], "LogUniform needs positive"),
    (["--strategy", "random", "--space", '{"optimizer": ["sdg"]}'], "unknown 'sdg'"),
    (["--strategy", "random", "--space", '{"lr": [0.1'], "not valid JSON"),
    (["--strategy", "random", "--trials", "0"], "--trials must be at least 1"),
    (["--strategy", "grid", "--trials", "8"], "grid search runs every combination"),
    (["--strategy", "random", "--model", "lenet5", "--space", '{"width": [8]}'],
     "model 'lenet5' has none"),
    (["--strategy", "random", "--examples", "59000"], "holds 60,000"),
])
def test_bad_input_gets_a_clear_message(args, message):
    run = search(*args, "--device", "cpu", timeout=120)
    assert run.returncode in (1, 2) and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_an_unreachable_ray_address_gets_a_clear_message():
    with socket.socket() as s:  # a port nobody listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = search("--strategy", "ray", "--address", f"127.0.0.1:{port}", *SMALL, timeout=60)
    assert run.returncode == 1
    assert f"cannot reach a Ray cluster at 127.0.0.1:{port}" in run.stderr, run.stderr
    run = search("--strategy", "ray", "--address", "head-node", *SMALL, timeout=60)
    assert "expected HOST:PORT" in run.stderr, run.stderr


@pytest.mark.parametrize("strategy, package", [("optuna", "optuna"), ("ray", "ray")])
def test_a_missing_optional_package_is_named_with_its_pinned_version(strategy, package):
    hide = f"import sys; sys.modules[{package!r}] = None; from engine.search.__main__ import main; main()"
    run = subprocess.run([sys.executable, "-c", hide, "--strategy", strategy, "--device", "cpu"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"the {strategy} strategy needs" in run.stderr and "==" in run.stderr, run.stderr
