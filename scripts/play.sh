#!/usr/bin/env bash
# Set up what is missing (see scripts/setup.sh), then serve the playground: bash scripts/play.sh [server options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python server.py "$@"
