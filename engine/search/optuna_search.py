"""Bayesian search with Optuna's TPE sampler (Tree-structured Parzen Estimator).

After a few random trials, TPE splits the trials so far into good and bad ones, fits a
density to the values each group used, and proposes values that are likely under the
good density and unlikely under the bad one: later trials crowd where the good ones were.
"""
from .space import check_space
from .strategies import _check_trials
from .trial import Budget, run_trial

OPTUNA = "optuna==5.1.0"  # the version requirements-test.txt pins


def optuna_search(space, trials=8, budget=Budget(), seed=0, on_result=None):
    """`trials` trials proposed by a seeded TPE sampler, maximising validation accuracy."""
    try:
        import optuna
    except ImportError:
        raise ImportError(f"the optuna strategy needs Optuna: pip install {OPTUNA} "
                          f"(or pip install 'webgrad[search]')") from None
    check_space(space)
    _check_trials(trials)
    budget.check()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # TPE starts with 10 random trials by default, which would make a short search a plain
    # random one: here a third of the trials explore at random, the rest are proposed by TPE.
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(2, trials // 3))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    results = []

    def objective(trial):
        config = {name: values.suggest(trial, name) for name, values in space.items()}
        result = dict(run_trial(config, budget), trial=trial.number + 1)
        results.append(result)
        if on_result:
            on_result(trial.number + 1, result)
        # a diverged run scores 0: worse than chance, so TPE learns to avoid its region
        return 0.0 if result["status"] == "diverged" else result["val_accuracy"]

    study.optimize(objective, n_trials=trials)
    return results
