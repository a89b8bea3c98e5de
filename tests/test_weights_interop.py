"""Weights move between webgrad and PyTorch as .safetensors files.

A file that engine.serialize writes (natively here; the page writes the same bytes
through web/playground/weights.py) is read by PyTorch's own reader,
`safetensors.torch.load_file`, into a PyTorch twin of each zoo model (the same
layers, the same state_dict names), and the twin computes the same logits.
"""
import os
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import engine as eg
from engine import models as zoo
from engine import serialize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "web"))

import playground.weights as page_weights  # noqa: E402

from torch_twins import torch_twin  # noqa: E402


def trained_a_little(name, x):
    """A zoo model after one SGD step on x (so that batch norm's running statistics, and
    every weight, are not their initial values)."""
    import engine.nn.functional as F
    eg.manual_seed(1)
    model = zoo.build(name)
    optimizer = eg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss = F.cross_entropy(model(eg.tensor(x)), eg.tensor(np.arange(len(x)) % 10, dtype="int32"))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model.eval()
    return model


@pytest.mark.parametrize("name", list(zoo.MODELS))
def test_a_saved_file_loads_into_the_pytorch_twin_with_the_same_logits(device, name, tmp_path):
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    model = trained_a_little(name, x)
    path = tmp_path / f"{name}.safetensors"
    serialize.save(model.state_dict(), path)

    state = load_file(str(path))                 # PyTorch's reader, not ours
    assert list(state) == list(model.state_dict())
    twin = torch_twin(name)
    twin.load_state_dict(state)                  # strict: every name and shape must match
    twin.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    with eg.no_grad():
        got = np.array(model(eg.tensor(x)).tolist(), dtype=np.float32)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
    if name == "resnet_mini":                    # the running statistics came across too
        assert not torch.allclose(twin[1].running_mean, torch.zeros(16))


@pytest.mark.parametrize("name", list(zoo.MODELS))
def test_a_file_pytorch_saves_loads_into_the_engine_with_the_same_logits(device, name, tmp_path):
    """The other way: PyTorch's writer (batch norm's num_batches_tracked is int64 there)."""
    from safetensors.torch import save_file
    x = np.random.default_rng(1).standard_normal((8, 1, 28, 28)).astype(np.float32)
    torch.manual_seed(0)
    twin = torch_twin(name)
    twin.train()
    twin(torch.from_numpy(x))                    # moves batch norm's running statistics
    twin.eval()
    path = tmp_path / f"{name}-torch.safetensors"
    save_file({k: v.contiguous() for k, v in twin.state_dict().items()}, str(path))
    model = zoo.build(name)
    model.load_state_dict(serialize.load(path))
    model.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    with eg.no_grad():
        got = np.array(model(eg.tensor(x)).tolist(), dtype=np.float32)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
    if name == "resnet_mini":
        assert model.state_dict()["1.num_batches_tracked"].item() == 1


def test_the_pages_bytes_are_the_engines_file(tmp_path):
    """web/playground/weights.py (what the page downloads) writes what serialize.save writes,
    and reads it back into a fresh model."""
    eg.set_device("cpu")
    eg.manual_seed(3)
    model = zoo.build("lenet5")
    name, data = page_weights.to_safetensors(model, "lenet5 / mnist")
    assert name == "lenet5-mnist.safetensors"
    serialize.save(model.state_dict(), tmp_path / "native.safetensors")
    assert data == (tmp_path / "native.safetensors").read_bytes()
    eg.manual_seed(4)
    fresh = zoo.build("lenet5")
    page_weights.load_safetensors(fresh, data, "lenet5-mnist.safetensors")
    for key, value in model.state_dict().items():
        assert fresh.state_dict()[key].tolist() == value.tolist(), key


def test_a_file_that_does_not_fit_names_the_problem_and_changes_nothing():
    eg.set_device("cpu")
    eg.manual_seed(3)
    mlp = zoo.build("mlp")
    _, data = page_weights.to_safetensors(zoo.build("mlp", hidden=(128, 256)), "narrow")
    before = {k: v.tolist() for k, v in mlp.state_dict().items()}
    with pytest.raises(ValueError, match=r"1\.weight has shape \(128, 784\) in the file but "
                                         r"\(256, 784\) in the model; loading narrow\.safetensors"):
        page_weights.load_safetensors(mlp, data, "narrow.safetensors")
    _, data = page_weights.to_safetensors(zoo.build("lenet5"), "lenet5")
    with pytest.raises(KeyError, match=r"missing keys \['1\.weight'.*loading lenet5\.safetensors"):
        page_weights.load_safetensors(mlp, data, "lenet5.safetensors")
    with pytest.raises(ValueError, match=r"^junk\.safetensors: not a safetensors file"):
        page_weights.load_safetensors(mlp, b"junk", "junk.safetensors")
    assert {k: v.tolist() for k, v in mlp.state_dict().items()} == before


@pytest.mark.gpu
def test_weights_loaded_into_the_page_train_on_after_a_recorded_step():
    """The page's model trains with a recorded step (engine.jit); weights loaded in the
    middle of that are the ones the following steps train, and saving gives back exactly
    the bytes that were loaded."""
    import playground as pg
    from engine.data import available_datasets
    pg.boot("gpu")
    pg.open_dataset("mnist", available_datasets()["mnist"]["folder"])
    with open(os.path.join(ROOT, "engine", "models", "mlp.py")) as f:
        assert pg.build(f.read(), None, "mlp")["ok"]
    pg.train_steps(4)                               # recorded on the 2nd step, replayed after
    assert pg._playground.trainer.step.replays > 0
    eg.manual_seed(5)
    data = pg.weights_file()["bytes"]               # the page's own weights after 4 steps ...
    other = page_weights.to_safetensors(zoo.build("mlp"), "fresh")[1]
    assert pg.load_weights(other, "fresh.safetensors")["ok"]
    model = pg._playground.built.model
    loaded = {k: v.tolist() for k, v in model.state_dict().items()}
    pg.train_steps(4)
    trained = {k: v.tolist() for k, v in model.state_dict().items()}
    assert trained["1.weight"] != loaded["1.weight"]    # the loaded weights are the ones trained
    assert pg.load_weights(data, "back.safetensors")["ok"]
    assert pg.weights_file()["bytes"] == data
    eg.set_device("auto", quiet=True)
