"""webgrad as a pip package: the wheel carries the engine and its WGSL kernels, installs into a
fresh virtual environment outside the checkout, trains there on lavapipe and has its CLI.

The wheel is built offline by the checkout's .venv (its pip and the setuptools pinned in
requirements-test.txt, `--no-build-isolation`); the new environment gets the pinned runtime
dependencies (wgpu, numpy, tqdm) from that .venv through a .pth line instead of the network.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import pytest

from engine.data.datasets import data_root

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command, cwd, env=None, timeout=300):
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, \
        f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def engine_packages():
    """Every package under engine/ (a folder with __init__.py), as dotted names."""
    found = set()
    for folder, dirs, files in os.walk(os.path.join(ROOT, "engine")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        if "__init__.py" in files:
            found.add(os.path.relpath(folder, ROOT).replace(os.sep, "."))
    return found


def shader_files():
    """Every kernel under shaders/, subfolders included, as paths relative to shaders/."""
    found = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "shaders")):
        found |= {os.path.relpath(os.path.join(folder, f), os.path.join(ROOT, "shaders")).replace(os.sep, "/")
                  for f in files if f.endswith(".wgsl")}
    return found


def test_pyproject_lists_every_engine_package():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    missing = engine_packages() - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml, " \
                        f"or the wheel leaves them out"
    assert listed == engine_packages() | {"engine._shaders"}, sorted(listed - engine_packages())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of what it is made of, so the checkout gets no build/ folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    for folder in ("engine", "shaders"):
        shutil.copytree(os.path.join(ROOT, folder), source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", tmp / "dist", source], cwd=tmp)
    (built,) = (tmp / "dist").glob("webgrad-*.whl")
    return built


def test_wheel_holds_engine_and_every_kernel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kernels = {n[len("engine/_shaders/"):] for n in names if n.startswith("engine/_shaders/")}
    assert kernels == shader_files(), "the wheel's kernels differ from shaders/"
    assert "fill.wgsl" in kernels
    for package in engine_packages():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    outside = {n.split("/")[0] for n in names} - {"engine", "webgrad-0.1.0.dist-info"}
    assert not outside, f"the wheel ships more than the engine: {sorted(outside)}"
    entry_points = zipfile.ZipFile(wheel).read("webgrad-0.1.0.dist-info/entry_points.txt").decode()
    assert "webgrad-train = engine.train:main" in entry_points
    assert "webgrad-search = engine.search.__main__:main" in entry_points


TRAIN_A_FEW_STEPS = """
import os
import engine as eg
import engine.nn.functional as F
from engine import nn, optim, shaders
from engine.data import MNIST, DataLoader

package = os.path.dirname(eg.__file__)
assert package.startswith(os.environ["VENV"]), f"engine imported from {package}, not the wheel"
assert shaders._find_shader_dir() == os.path.join(package, "_shaders"), shaders._find_shader_dir()
print(eg.set_device("gpu"))
eg.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for step, (x, y) in enumerate(DataLoader(MNIST(train=False), batch_size=64, shuffle=True, seed=0)):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    if step == 19:
        break
print("loss", losses[0], "->", losses[-1])
assert losses[-1] < 0.7 * losses[0], losses
"""


@pytest.mark.gpu
def test_installed_wheel_trains_on_lavapipe(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--quiet", wheel], cwd=tmp_path)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).strip()
    with open(os.path.join(site, "webgrad_test_deps.pth"), "w") as f:  # after the venv's own packages
        f.write(sysconfig.get_path("purelib") + "\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "WEBGRAD_DATA")}
    env.update(VENV=str(venv), XDG_CACHE_HOME=str(tmp_path / "cache"))
    # Installed, the engine keeps named datasets in the user's cache ...
    printed = run([python, "-c", "from engine.data import data_root; print(data_root())"], cwd=tmp_path, env=env)
    assert printed.strip() == str(tmp_path / "cache" / "webgrad")
    # ... which WEBGRAD_DATA overrides: here, with the checkout's MNIST, so nothing is downloaded.
    env["WEBGRAD_DATA"] = data_root()
    out = run([python, "-c", TRAIN_A_FEW_STEPS], cwd=tmp_path, env=env)
    print(out)
    assert "gpu:" in out and "loss" in out, out

    help_text = run([venv / "bin" / "webgrad-train", "--help"], cwd=tmp_path, env=env)
    assert "--dataset" in help_text and "--model" in help_text, help_text
