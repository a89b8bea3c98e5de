"""The same search spread over many processes or machines with Ray Tune.

Without an address, Ray starts a local instance on this machine (one trial per CPU core
at a time); with one (`--address HOST:PORT` of a running cluster's head, or "auto"), the
trials run on the cluster's nodes. Each node then needs webgrad installed and the dataset
at hand (a named dataset is fetched on first use), as a trial is a normal `fit` there.
Configurations are drawn at random from the space by Ray's seeded variant generator.
"""
import contextlib
import math
import shutil
import socket
import sys
import tempfile

from .space import check_space
from .strategies import _check_trials
from .trial import Budget, run_trial

RAY = "ray[tune]==2.60.0"  # the version requirements-test.txt pins


def _trainable(config, budget):
    """What a Ray worker runs: one trial; the returned dict is the trial's final result."""
    result = run_trial(config, budget)
    return {k: v for k, v in result.items() if k != "config"}


def check_reachable(address, timeout=5.0):
    """Fail fast, with the address in the message, when nothing listens there: Ray itself
    retries for a long while before giving up."""
    if address == "auto":
        return
    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"Ray address {address!r}: expected HOST:PORT (e.g. 10.0.0.5:6379), "
                         f"ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ConnectionError(f"cannot reach a Ray cluster at {address}: {err}. Is the head "
                              f"node running (ray start --head) and the port open?") from None


def ray_search(space, trials=8, budget=Budget(), seed=0, address=None, num_cpus=None,
               storage_path=None, on_result=None):
    """`trials` random configurations run as Ray Tune trials; results in trial order.
    address: None starts a local Ray (num_cpus cores, default all); otherwise connect there.
    storage_path: where Ray Tune writes its trial records (a temporary folder, removed
    afterwards, by default; on a multi-machine cluster, a folder every node shares)."""
    try:
        import ray
        from ray import tune
        from ray.tune.search import BasicVariantGenerator
    except ImportError:
        raise ImportError(f"the ray strategy needs Ray Tune: pip install '{RAY}' "
                          f"(or pip install 'webgrad[search]')") from None
    check_space(space)
    _check_trials(trials)
    budget.check()
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            check_reachable(address)
            ray.init(address=address, log_to_driver=False)
    records = storage_path or tempfile.mkdtemp(prefix="webgrad-ray-")
    try:
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_trainable, budget=budget), {"cpu": 1}),
            param_space={name: values.to_ray(tune) for name, values in space.items()},
            # reuse_actors: a worker process runs trial after trial, so it imports the engine
            # and reads the dataset once (split_training_set's cache), not once per trial
            tune_config=tune.TuneConfig(num_samples=trials, reuse_actors=True,
                                        search_alg=BasicVariantGenerator(random_state=seed)),
            run_config=tune.RunConfig(name="webgrad-search", storage_path=records, verbose=0))
        with contextlib.redirect_stdout(sys.stderr):  # Ray Tune's banners: stdout is for results
            grid = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
        if storage_path is None:
            shutil.rmtree(records, ignore_errors=True)
    results = [_result(i + 1, grid[i]) for i in range(len(grid))]
    if on_result:
        for result in results:
            on_result(result["trial"], result)
    return results


def _result(number, ray_result):
    config = {k: v for k, v in ray_result.config.items()}
    if ray_result.error is not None:
        # a trial that raised: the table shows it, the message's last line says why
        reason = str(ray_result.error).strip().splitlines()[-1]
        return {"trial": number, "config": config, "val_accuracy": math.nan,
                "val_loss": math.nan, "seconds": math.nan, "status": f"failed: {reason}"}
    m = ray_result.metrics
    return {"trial": number, "config": config, "val_accuracy": m["val_accuracy"],
            "val_loss": m["val_loss"], "seconds": m["seconds"], "status": m["status"]}
