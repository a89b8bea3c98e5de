#!/usr/bin/env bash
# Set up what is missing, test dependencies included, then run the tests: bash scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
