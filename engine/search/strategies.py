"""Grid and random search: the configurations are known before the first trial, and the
trials run one after another in this process.

Random search usually beats a grid of the same size: a grid spends its trials repeating
each value of an unimportant hyper-parameter, while random trials each try a new value of
every one (Bergstra and Bengio, 2012).
"""
import random

from .space import grid_configs, random_configs
from .trial import Budget, run_trial


def run_configs(configs, budget=Budget(), on_result=None):
    """Run one trial per configuration; `on_result(number, result)` after each."""
    budget.check()
    results = []
    for number, config in enumerate(configs, 1):
        result = dict(run_trial(config, budget), trial=number)
        results.append(result)
        if on_result:
            on_result(number, result)
    return results


def grid_search(space, budget=Budget(), points=3, on_result=None):
    """Every combination (a continuous range gives `points` values)."""
    return run_configs(grid_configs(space, points), budget, on_result)


def random_search(space, trials=8, budget=Budget(), seed=0, on_result=None):
    """`trials` configurations drawn at random; the same seed draws the same ones."""
    _check_trials(trials)
    return run_configs(random_configs(space, trials, random.Random(seed)), budget, on_result)


def _check_trials(trials):
    if trials < 1:
        raise ValueError(f"the number of trials must be at least 1, got {trials}")
