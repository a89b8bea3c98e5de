"""Hyper-parameter search: many short trainings, each scored on a validation split.

    from engine.search import LogUniform, Choice, Budget, random_search, results_table
    space = {"lr": LogUniform(1e-4, 1e-1), "batch_size": Choice([32, 64, 128]),
             "optimizer": Choice(["sgd", "adam"]), "width": Choice([64, 128, 256])}
    results = random_search(space, trials=8, budget=Budget(examples=6000), seed=0)
    print(results_table(results))

Strategies: grid_search and random_search (here, one trial after another),
optuna_search (Bayesian, TPE; needs optuna) and ray_search (Ray Tune, local or a cluster;
needs ray[tune]). The command: python -m engine.search --strategy random --trials 8
"""
from .space import (SEARCHABLE, Choice, LogUniform, Uniform, default_space, grid_configs,
                    parse_space, random_configs)
from .trial import Budget, run_trial, split_training_set
from .strategies import grid_search, random_search
from .optuna_search import optuna_search
from .ray_search import ray_search
from .report import best, describe_best, ranked, results_table

STRATEGIES = {"grid": grid_search, "random": random_search, "optuna": optuna_search,
              "ray": ray_search}

__all__ = ["Choice", "LogUniform", "Uniform", "SEARCHABLE", "default_space", "parse_space",
           "grid_configs", "random_configs", "Budget", "run_trial", "split_training_set",
           "grid_search", "random_search", "optuna_search", "ray_search", "STRATEGIES",
           "results_table", "ranked", "best", "describe_best"]
