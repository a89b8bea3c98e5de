"""Mistakes a student makes get an error that names the problem: the op, the
shapes or dtypes involved, and what was expected."""
import re

import numpy as np
import pytest

import engine as eg
from engine import nn
import engine.nn.functional as F


def _shape(s):
    """A shape as it appears in a message: (3, 4) or (4,)."""
    return re.escape(str(tuple(s)))


def test_matmul_inner_dims(device):
    a, b = eg.randn(3, 4), eg.randn(5, 6)
    with pytest.raises(ValueError, match=rf"matmul.*{_shape((3, 4))}.*{_shape((5, 6))}"):
        a @ b
    with pytest.raises(ValueError, match=rf"{_shape((2, 3, 4))}.*{_shape((2, 5, 6))}"):
        eg.randn(2, 3, 4) @ eg.randn(2, 5, 6)
    with pytest.raises(ValueError, match=rf"{_shape((4,))}.*{_shape((5,))}"):
        eg.randn(4) @ eg.randn(5)
    with pytest.raises(ValueError, match=r"at least 1 dimension"):
        eg.tensor(2.0) @ eg.randn(3)


def test_matmul_batch_dims_do_not_broadcast(device):
    with pytest.raises(ValueError, match=rf"{_shape((2,))}.*{_shape((3,))}|"
                                         rf"{_shape((2, 4, 5))}.*{_shape((3, 5, 6))}"):
        eg.randn(2, 4, 5) @ eg.randn(3, 5, 6)


def test_cross_entropy_errors(device):
    logits = eg.randn(4, 3)
    with pytest.raises(ValueError, match=rf"4 rows.*{_shape((5,))}"):
        F.cross_entropy(logits, eg.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(TypeError, match=r"int32.*float32"):
        F.cross_entropy(logits, eg.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match=rf"\(batch, classes\).*{_shape((3,))}"):
        F.cross_entropy(eg.randn(3), eg.tensor([0]))
    with pytest.raises(ValueError, match=r"reduction.*'avg'"):
        F.cross_entropy(logits, eg.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(TypeError, match="targets must be a tensor"):
        F.cross_entropy(logits, [0, 1, 2, 0])


def test_mse_loss_shape_mismatch(device):
    with pytest.raises(ValueError, match=rf"mse_loss.*{_shape((4, 3))}.*{_shape((4, 1))}"):
        F.mse_loss(eg.randn(4, 3), eg.randn(4, 1))
    with pytest.raises(ValueError, match=rf"binary_cross_entropy_with_logits.*{_shape((4,))}"):
        F.binary_cross_entropy_with_logits(eg.randn(4), eg.rand(4, 1))
    with pytest.raises(TypeError, match=r"int32"):
        F.mse_loss(eg.randn(3), eg.tensor([1, 2, 3]))


def test_int_tensor_where_float_needed(device):
    ints = eg.tensor([[1, 2], [3, 4]])
    assert ints.dtype == "int32"
    with pytest.raises(TypeError, match=r"int32.*\.float\(\)"):
        ints.relu()
    with pytest.raises(TypeError, match=r"int32"):
        F.sigmoid(ints)
    with pytest.raises(TypeError, match=r"matmul.*int32"):
        ints @ eg.randn(2, 2)
    with pytest.raises(TypeError, match=r"matmul.*int32"):
        eg.randn(2, 2) @ ints
    with pytest.raises(TypeError, match=r"int32"):
        ints.exp()
    with pytest.raises(TypeError, match=r"int32"):
        ints.sum()
    with pytest.raises(TypeError, match=r"int32"):
        nn.Linear(2, 3)(ints)
    with pytest.raises(TypeError, match=r"float32"):
        eg.tensor([1, 2, 3], requires_grad=True)
    # and the fix the message suggests works
    assert ints.float().relu().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_broadcasting_failure_names_both_shapes(device):
    with pytest.raises(ValueError, match=rf"{_shape((2, 3))}.*{_shape((4,))}"):
        eg.randn(2, 3) + eg.randn(4)
    with pytest.raises(ValueError, match=rf"{_shape((5, 3))}.*{_shape((2, 3))}"):
        eg.randn(5, 3) * eg.randn(2, 3)
    with pytest.raises(ValueError, match=rf"expand.*{_shape((3, 2))}.*{_shape((3, 4))}"):
        eg.randn(3, 2).expand(3, 4)


def test_reshape_wrong_size(device):
    x = eg.randn(2, 3)
    with pytest.raises(ValueError, match=rf"reshape.*{_shape((4, 4))}.*16.*6"):
        x.reshape(4, 4)
    with pytest.raises(ValueError, match=r"cannot infer -1.*\(4, -1\).*6"):
        x.reshape(4, -1)
    with pytest.raises(ValueError, match=r"only one dimension can be -1"):
        x.view(-1, -1)


def test_linear_wrong_feature_count(device):
    layer = nn.Linear(3, 5)
    with pytest.raises(ValueError, match=rf"3 features.*{_shape((2, 4))}"):
        layer(eg.randn(2, 4))
    with pytest.raises(ValueError, match=rf"linear.*4 features.*{_shape((2, 4))}.*3"):
        F.linear(eg.randn(2, 4), eg.randn(5, 3))
    with pytest.raises(ValueError, match=rf"bias.*{_shape((4,))}.*{_shape((5,))}"):
        F.linear(eg.randn(2, 3), eg.randn(5, 3), eg.randn(4))


def test_reduction_dim_out_of_range(device):
    x = eg.randn(2, 3)
    for fn in (lambda: x.sum(2), lambda: x.max(-3), lambda: x.argmax(5), lambda: x.mean(2)):
        with pytest.raises(IndexError, match=rf"dim.*out of range.*{_shape((2, 3))}"):
            fn()


def test_permute_and_item_errors(device):
    with pytest.raises(ValueError, match=r"permute.*not a permutation"):
        eg.randn(2, 3, 4).permute(0, 0, 1)
    with pytest.raises(ValueError, match=rf"one element.*{_shape((2,))}"):
        eg.randn(2).item()


def test_backward_errors(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        eg.randn(3).sum().backward()
    y = eg.randn(2, 2, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=rf"scalar.*{_shape((2, 2))}"):
        y.backward()
    with pytest.raises(ValueError, match=rf"gradient.*{_shape((2, 2))}.*{_shape((3,))}"):
        y.backward(eg.ones(3))


def test_device_name_checked():
    with pytest.raises(ValueError, match=r"'tpu'"):
        eg.set_device("tpu")


def test_ragged_nested_list(device):
    with pytest.raises(ValueError, match="ragged"):
        eg.tensor([[1.0, 2.0], [3.0]])


def test_optimizer_errors(device):
    with pytest.raises(ValueError, match="empty parameter list"):
        eg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"does not require grad"):
        eg.optim.SGD([eg.randn(3)], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        eg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, nesterov=True)


def test_load_state_dict_names_key_and_shapes(device):
    model = nn.Sequential(nn.Linear(4, 3))
    state = {"0.weight": np.zeros((3, 5), np.float32), "0.bias": np.zeros(3, np.float32)}
    with pytest.raises(ValueError, match=rf"0\.weight.*{_shape((3, 5))}.*{_shape((3, 4))}"):
        model.load_state_dict(state)
