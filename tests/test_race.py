"""The page's optimizer race (web/playground/race.py), natively: numpy and lavapipe.

Six optimizers, one network: the same initial weights and the same batches in the same
order, so that the curves differ by the optimizer alone. The page test
(tests/test_page.py, "optimizer race") drives the same code on WebGPU in Chromium.
"""
import os
import sys

import pytest

import engine as eg
import engine.nn.functional as F
from engine.data import DataLoader, available_datasets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "web"))

import playground as pg  # noqa: E402
from playground.model_code import build_model  # noqa: E402
from playground.race import BATCH_SIZE, RACERS  # noqa: E402

SMALL_MLP = """from engine import nn


def build(in_shape, num_classes):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, num_classes))
"""


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def playground(request):
    """The playground on the numpy backend, and on wgpu (lavapipe), where the race's steps
    are recorded and replayed (engine.jit) as in the page."""
    pg.boot(request.param)
    present = available_datasets()
    if "mnist" not in present:
        pytest.fail("MNIST is missing: run `bash scripts/setup.sh` (it fetches MNIST)")
    pg.open_dataset("mnist", present["mnist"]["folder"])
    assert pg.build(SMALL_MLP)["ok"]
    yield pg._playground
    eg.set_device("auto", quiet=True)


def test_six_optimizers_start_equal_and_see_the_same_batches(playground):
    started = pg.race_start(12)
    assert started["ok"] and started["optimizers"] == [label for label, _, _ in RACERS]
    race = playground.race
    first = {k: v.tolist() for k, v in race.racers[0].model.state_dict().items()}
    for racer in race.racers[1:]:
        assert {k: v.tolist() for k, v in racer.model.state_dict().items()} == first

    losses = []
    while True:
        progress = pg.race_run(5)
        losses += progress["losses"]
        if progress["finished"]:
            break
    assert progress["steps"] == 12 and len(losses) == 12 and all(len(row) == 6 for row in losses)
    # the first step's loss is computed before any update: the same weights on the same batch
    assert max(losses[0]) - min(losses[0]) < 1e-6, losses[0]
    # ... after that the optimizers part ways
    assert len({round(loss, 5) for loss in losses[-1]}) == 6, losses[-1]

    # the Adam column is what plain Adam gives from the same start on the same batches
    eg.manual_seed(0)
    model = build_model(SMALL_MLP, (1, 28, 28), 10).model
    model.load_state_dict({k: eg.tensor(v) for k, v in first.items()})
    optimizer = eg.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(playground.train_set, batch_size=BATCH_SIZE, shuffle=True, seed=0,
                        drop_last=True)
    adam = []
    for (x, y), _ in zip(loader, range(12)):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        adam.append(loss.item())
    assert [row[5] for row in losses] == pytest.approx(adam, abs=1e-5)

    results = pg.race_results()
    assert [row["optimizer"] for row in results["rows"]] == started["optimizers"]
    assert results["test_count"] == 1000 and results["steps"] == 12
    for row in results["rows"]:
        assert 0 <= row["test_acc"] <= 1 and row["lr"] > 0
        assert row["final_loss"] == pytest.approx(
            sum(r[started["optimizers"].index(row["optimizer"])] for r in losses[-12:]) / 12)
    assert playground.race is None        # the six models are let go


def test_the_race_leaves_the_pages_model_alone(playground):
    before = {k: v.tolist() for k, v in playground.built.model.state_dict().items()}
    pg.race_start(3)
    pg.race_run(3)
    pg.race_results()
    assert {k: v.tolist() for k, v in playground.built.model.state_dict().items()} == before


@pytest.mark.parametrize("steps", [0, -5, 2.5, 10**6, "ten"])
def test_a_race_length_that_cannot_work_is_refused(playground, steps):
    result = pg.race_start(steps)
    assert not result["ok"] and "steps must be a whole number from 1 to" in result["error"]["message"]
