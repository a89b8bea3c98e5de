"""engine.summary: the Keras-style table the CLI, Python and the page share.

Parameter counts are checked against PyTorch twins of the zoo's models (same state_dict
names and shapes), FLOPs against counts done by hand with the conventions of
engine/summary.py (a multiply-add is 2 FLOPs, an activation 1 per value, ...).
"""
import io

import pytest

import engine as eg
from engine import models as zoo
from engine import nn

from torch_twins import torch_twin


def conv(c_in, c_out, k, out_side, bias=True):
    out = c_out * out_side * out_side
    return out * (2 * c_in * k * k + (1 if bias else 0))


def dense(n_in, n_out):
    return 2 * n_in * n_out + n_out


HAND_FLOPS = {   # by hand, layer by layer, with the module docstring's conventions
    "mlp": dense(784, 256) + 256 + dense(256, 256) + 256 + dense(256, 10),
    "lenet5": (conv(1, 6, 5, 28) + 6 * 28 * 28 + 6 * 14 * 14 * 4
               + conv(6, 16, 5, 10) + 16 * 10 * 10 + 16 * 5 * 5 * 4
               + dense(400, 120) + 120 + dense(120, 84) + 84 + dense(84, 10)),
    "convnetjs": (conv(1, 8, 5, 28) + 8 * 28 * 28 + 8 * 14 * 14 * 4
                  + conv(8, 16, 5, 14) + 16 * 14 * 14 + 16 * 4 * 4 * 9 + dense(256, 10)),
    "resnet_mini": (conv(1, 16, 3, 28, False) + 2 * 16 * 28 * 28 + 16 * 28 * 28 + 16 * 14 * 14 * 4
                    # block 1 at 16 x 14 x 14: conv-BN, conv-BN, then the sum and the ReLU
                    + 2 * (conv(16, 16, 3, 14, False) + 2 * 16 * 14 * 14) + 2 * 16 * 14 * 14
                    # block 2 at 32 x 7 x 7, with its 1x1 projection shortcut
                    + conv(16, 32, 3, 7, False) + conv(32, 32, 3, 7, False) + 2 * 2 * 32 * 7 * 7
                    + conv(16, 32, 1, 7, False) + 2 * 32 * 7 * 7 + 2 * 32 * 7 * 7
                    + 32 * 49 + dense(32, 10)),
}


@pytest.mark.parametrize("name", list(zoo.MODELS))
def test_zoo_counts_equal_pytorch_and_a_hand_count(device, name):
    model = zoo.build(name)
    s = eg.summary(model, (1, 28, 28))
    twin = torch_twin(name)
    assert s.total_params == sum(p.numel() for p in twin.parameters())
    ours = {k: v.shape for k, v in model.named_parameters()}
    theirs = {k: tuple(v.shape) for k, v in twin.named_parameters()}
    assert ours == theirs
    assert s.trainable_params == s.total_params and s.non_trainable_params == 0
    assert s.flops == HAND_FLOPS[name] and s.flops_complete
    assert sum(r.parameters for r in s.rows) == s.total_params   # every parameter in one row


def test_rows_are_the_layers_the_forward_pass_runs(device):
    s = eg.summary(zoo.build("resnet_mini"), (1, 28, 28))
    names = [r.name for r in s.rows]
    assert names[:5] == ["0", "1", "2", "3", "4.conv1"]
    assert names.index("4") == names.index("4.bn2") + 1          # a block after its layers
    assert "5.shortcut" not in names and "5.shortcut.0" in names   # containers are not rows
    assert s.rows[names.index("5")].output_shape == (32, 7, 7)
    assert s.rows[-1].output_shape == (10,)


def test_table_and_frozen_parameters(device):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    model[1].requires_grad_(False)
    out = io.StringIO()
    s = eg.summary(model, (1, 28, 28), file=out)
    text = out.getvalue()
    assert text.strip() == str(s).strip()
    assert "Total params: 25,450" in text and "Trainable params: 330" in text
    assert "Non-trainable params: 25,120" in text
    assert "1 (Linear)" in text and "(32,)" in text
    assert s.as_dict()["layers"][1] == {"name": "1", "type": "Linear",
                                        "arguments": "in_features=784, out_features=32, bias=True",
                                        "output_shape": [32], "parameters": 25_120, "trainable": 0,
                                        "flops": 2 * 784 * 32 + 32}


def test_summary_leaves_the_model_as_it_was(device):
    model = zoo.build("resnet_mini")
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    eg.summary(model, (1, 28, 28))
    assert model.training
    for k, v in model.state_dict().items():   # eval mode: running statistics untouched
        assert (v.numpy() == state[k]).all(), k
    assert all(not m._forward_hooks for m in model.modules())


def test_a_model_that_does_not_fit_the_input_raises_the_layers_error(device):
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(ValueError, match="100 features"):
        eg.summary(model, (1, 28, 28))
    assert all(not m._forward_hooks for m in model.modules())


def test_unknown_layers_count_no_flops_and_say_so(device):
    class Double(nn.Module):
        def forward(self, x):
            return x * 2
    s = eg.summary(nn.Sequential(nn.Flatten(), nn.Linear(784, 10), Double()), (1, 28, 28))
    assert s.rows[-1].flops is None and not s.flops_complete
    assert "not counted" in str(s)


def test_cli_prints_the_same_summary(capsys):
    from engine.train import main
    assert main(["--model", "lenet5", "--summary", "--device", "cpu"]) is None   # no training
    out = capsys.readouterr().out
    assert out.strip() == str(eg.summary(zoo.build("lenet5"), (1, 28, 28))).strip()
    assert "Total params: 61,706" in out and f"FLOPs per example (forward): {HAND_FLOPS['lenet5']:,}" in out
