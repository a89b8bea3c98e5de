"""The graph and its walk, and the nn.Module bookkeeping around parameters."""
import math

import numpy as np
import pytest
import torch

import engine as eg
from engine import nn, optim
from helpers import assert_close


def _t(x, grad=False):
    return eg.tensor(np.asarray(x, np.float32), requires_grad=grad)


# -- the graph -----------------------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls(device):
    x = _t([1.0, -2.0, 3.0], grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    (x * 3.0).sum().backward()          # a second graph: adds into .grad
    np.testing.assert_allclose(x.grad.numpy(), [5.0, -1.0, 9.0])
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_tensor_used_twice_gradients_add(device):
    a = _t([[1.0, 2.0], [3.0, 4.0]], grad=True)
    b = _t([0.5, -1.0], grad=True)
    y = a * b + a.exp() * a       # a appears three times, through different paths
    y.sum().backward()
    ta = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    (ta * tb + ta.exp() * ta).sum().backward()
    assert_close(a.grad.numpy(), ta.grad.numpy(), what="grad a")
    assert_close(b.grad.numpy(), tb.grad.numpy(), what="grad b")
    x = _t(2.0, grad=True)
    (x + x + x).backward()  # the same leaf three times in one op chain
    assert x.grad.item() == 3.0


def test_diamond_graph(device):
    x = _t([0.3, -0.7], grad=True)
    h = x.tanh()
    y = (h * 2.0 + h.sigmoid() * h).sum()   # h reached along two paths
    y.backward()
    tx = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    th = tx.tanh()
    (th * 2.0 + th.sigmoid() * th).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), what="grad x")


def test_no_grad(device):
    x = _t([1.0, 2.0], grad=True)
    with eg.no_grad():
        y = x * 2.0 + 1.0
        assert not eg.is_grad_enabled()
    assert eg.is_grad_enabled()
    assert y.requires_grad is False
    assert (x * 2.0).requires_grad is True
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_restores_on_exception(device):
    with pytest.raises(ZeroDivisionError):
        with eg.no_grad():
            1 / 0
    assert eg.is_grad_enabled()


def test_detach(device):
    x = _t([1.0, 2.0], grad=True)
    d = (x * 3.0).detach()
    assert d.requires_grad is False and d.grad is None
    np.testing.assert_allclose(d.numpy(), [3.0, 6.0])
    y = (x * d).sum()            # d is a constant: d(x*d)/dx = d
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


def test_requires_grad_propagation(device):
    a = _t([1.0, 2.0], grad=True)
    b = _t([3.0, 4.0])
    assert a.requires_grad and not b.requires_grad
    assert (a + b).requires_grad and (b * a).requires_grad
    assert not (b + b).requires_grad
    assert not (b * 2.0).exp().requires_grad
    assert (a.reshape(2, 1) @ b.reshape(1, 2)).requires_grad
    y = (a * b).sum()
    y.backward()
    assert b.grad is None                    # a constant gets no gradient
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])
    c = _t([1.0]).requires_grad_()
    assert c.requires_grad
    assert (a == b).requires_grad is False   # comparisons carry no gradient
    assert a.argmax().requires_grad is False


def test_intermediates_keep_no_grad(device):
    x = _t([1.0, 2.0], grad=True)
    h = x * 2.0
    h.sum().backward()
    assert h.grad is None    # like PyTorch: only leaves keep .grad
    assert x.grad is not None


def test_backward_needs_scalar_or_gradient(device):
    x = _t([[1.0, 2.0], [3.0, 4.0]], grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        y.backward()
    y.backward(eg.ones(2, 2))       # with an explicit gradient it's fine
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 2.0], [2.0, 2.0]])


def test_backward_twice_through_one_graph_is_an_error(device):
    x = _t([1.0, 2.0], grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_deep_graph_no_recursion_limit(device):
    x = _t([0.5], grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


# -- modules ---------------------------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_parameters_and_named_parameters(device):
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight"]
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(3, 4), (3,), (2, 3)]
    assert all(p.requires_grad for p in net.parameters())
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_module_gradients_flow_to_every_parameter(device):
    net = Net()
    out = net(eg.randn(5, 4)).sum()
    out.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip(device):
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["fc1.weight", "fc1.bias", "fc2.weight"]
    x = eg.randn(6, 4)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    b.load_state_dict(sd)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # from numpy arrays too (what a checkpoint file gives back)
    c = Net()
    c.load_state_dict({k: v.numpy() for k, v in sd.items()})
    np.testing.assert_array_equal(a(x).numpy(), c(x).numpy())


def test_load_state_dict_copies(device):
    """Like PyTorch, loading copies values: training the copy leaves the source alone."""
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    before = a.fc1.weight.numpy().copy()
    opt = optim.SGD(b.parameters(), lr=0.5)
    b(eg.randn(3, 4)).sum().backward()
    opt.step()
    assert not np.array_equal(b.fc1.weight.numpy(), before)
    np.testing.assert_array_equal(a.fc1.weight.numpy(), before)


def test_load_state_dict_errors(device):
    net = Net()
    sd = dict(net.state_dict())
    sd["fc1.weight"] = eg.zeros(3, 5)
    with pytest.raises(ValueError, match=r"fc1\.weight.*\(3, 5\).*\(3, 4\)"):
        net.load_state_dict(sd)
    sd = dict(net.state_dict())
    del sd["fc1.bias"]
    with pytest.raises(KeyError, match=r"fc1\.bias"):
        net.load_state_dict(sd)
    sd = dict(net.state_dict())
    sd["extra"] = eg.zeros(1)
    with pytest.raises(KeyError, match="extra"):
        net.load_state_dict(sd)
    net.load_state_dict(sd, strict=False)


def test_train_eval_modes(device):
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc1.training and not net.act.training
    net.train()
    assert net.training and net.fc2.training


def test_linear_default_init_like_pytorch(device):
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound          # uniform over the whole range
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound
    ref = torch.nn.Linear(400, 300)
    assert abs(w.std() - ref.weight.detach().std().item()) < 0.02 * bound
    assert abs(np.abs(b).max() - bound) < 0.05 * bound
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert nn.Linear(3, 2, bias=False).bias is None


INIT_CASES = {
    # name: (call, expected std of a (fan_out=512, fan_in=1024) weight)
    "kaiming_uniform_relu": (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"),
                             math.sqrt(2 / 1024)),
    "kaiming_normal_relu": (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"),
                            math.sqrt(2 / 1024)),
    "kaiming_normal_fan_out": (lambda t: nn.init.kaiming_normal_(t, mode="fan_out",
                                                                nonlinearity="relu"),
                               math.sqrt(2 / 512)),
    "xavier_uniform": (nn.init.xavier_uniform_, math.sqrt(2 / (1024 + 512))),
    "xavier_normal": (nn.init.xavier_normal_, math.sqrt(2 / (1024 + 512))),
    "xavier_uniform_gain": (lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh")),
                            5 / 3 * math.sqrt(2 / (1024 + 512))),
    "normal": (lambda t: nn.init.normal_(t, 0.0, 0.02), 0.02),
    "uniform": (lambda t: nn.init.uniform_(t, -0.5, 0.5), 1 / math.sqrt(12)),
}


@pytest.mark.parametrize("name", list(INIT_CASES))
def test_init_std(device, name):
    fn, expected = INIT_CASES[name]
    t = eg.zeros(512, 1024)
    out = fn(t)
    assert out is t
    v = t.numpy().astype(np.float64)
    assert abs(v.std() / expected - 1) < 0.01, (v.std(), expected)    # 512k samples
    assert abs(v.mean()) < 0.01 * expected + 1e-6
    # against torch's own init of the same shape
    tt = torch.empty(512, 1024)
    {"kaiming_uniform_relu": lambda: torch.nn.init.kaiming_uniform_(tt, nonlinearity="relu"),
     "kaiming_normal_relu": lambda: torch.nn.init.kaiming_normal_(tt, nonlinearity="relu"),
     "kaiming_normal_fan_out": lambda: torch.nn.init.kaiming_normal_(tt, mode="fan_out",
                                                                    nonlinearity="relu"),
     "xavier_uniform": lambda: torch.nn.init.xavier_uniform_(tt),
     "xavier_normal": lambda: torch.nn.init.xavier_normal_(tt),
     "xavier_uniform_gain": lambda: torch.nn.init.xavier_uniform_(
         tt, gain=torch.nn.init.calculate_gain("tanh")),
     "normal": lambda: torch.nn.init.normal_(tt, 0.0, 0.02),
     "uniform": lambda: torch.nn.init.uniform_(tt, -0.5, 0.5)}[name]()
    assert abs(v.std() / tt.std().item() - 1) < 0.02


def test_init_constants(device):
    t = eg.zeros(3, 4)
    nn.init.ones_(t)
    assert t.tolist() == [[1.0] * 4] * 3
    nn.init.constant_(t, 2.5)
    assert t.numpy().min() == 2.5 == t.numpy().max()
    nn.init.zeros_(t)
    assert not t.numpy().any()
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    with pytest.raises(ValueError, match=r"at least 2 dims.*\(5,\)"):
        nn.init.xavier_uniform_(eg.zeros(5))


def test_sequential_indexing(device):
    l0, l2 = nn.Linear(4, 8), nn.Linear(8, 2)
    seq = nn.Sequential(l0, nn.ReLU(), l2)
    assert len(seq) == 3
    assert seq[0] is l0 and seq[2] is l2 and seq[-1] is l2
    assert isinstance(seq[1], nn.ReLU)
    assert list(seq) == [seq[0], seq[1], seq[2]]
    x = eg.randn(5, 4)
    np.testing.assert_allclose(seq(x).numpy(), l2(l0(x).relu()).numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_summary_counts_mlp_parameters(device):
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                        nn.ReLU(), nn.Linear(256, 10))
    s = eg.summary(mlp, (1, 28, 28))   # more in tests/test_summary.py
    assert s.total_params == 269_322 == sum(p.numel() for p in mlp.parameters())
    assert "269,322" in str(s)


def test_module_forward_matches_torch(device):
    """A small MLP with the same weights as a torch one: outputs and every gradient."""
    ours = nn.Sequential(nn.Linear(20, 33), nn.Tanh(), nn.Linear(33, 5))
    theirs = torch.nn.Sequential(torch.nn.Linear(20, 33), torch.nn.Tanh(),
                                 torch.nn.Linear(33, 5)).double()
    with torch.no_grad():
        for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            tp.copy_(torch.tensor(p.numpy().astype(np.float64)))
    x = np.random.default_rng(0).standard_normal((9, 20)).astype(np.float32)
    y = ours(eg.tensor(x))
    ty = theirs(torch.tensor(x, dtype=torch.float64))
    assert_close(y.numpy(), ty.detach().numpy(), what="output")
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad.numpy(), tp.grad.numpy(), what=f"grad {name}")


def test_download_reads_many_tensors_with_one_read_back(device, monkeypatch):
    a = eg.tensor([[1.5, -2.0], [3.0, 4.25]])
    b = eg.tensor([0, 1, 2, 3, 4], dtype="int32")
    c = eg.zeros(3) + 7.0
    backend = a.backend
    calls = []
    real = type(backend).download_many
    monkeypatch.setattr(type(backend), "download_many",
                        lambda self, arrays: calls.append(len(arrays)) or real(self, arrays))
    raw = eg.download([a, b, c])
    assert calls == [3]
    assert raw == (np.array([1.5, -2.0, 3.0, 4.25], np.float32).tobytes()
                   + np.arange(5, dtype=np.int32).tobytes() + np.full(3, 7.0, np.float32).tobytes())
    assert eg.download([]) == b""
