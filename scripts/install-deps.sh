#!/usr/bin/env bash
# Installs the Debian packages Hark builds and tests against (scripts/debian-packages.txt; needs root or
# sudo), then the tests' Python packages (scripts/test-requirements.txt).
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $(cat debian-packages.txt) >/dev/null
echo "system packages installed"
# The tests' Python packages (the README's test command needs them; `hark` itself does not).
# Not fatal: `hark` runs without them (a Debian python3 without pip, or one that refuses system-wide
# installs, says so here and the test command is the part that needs them).
if python3 -m pip install --quiet --disable-pip-version-check -r test-requirements.txt; then
  echo "test packages installed"
else
  echo "note: the tests' Python packages were not installed (pip install -r scripts/test-requirements.txt, in a venv if needed)" >&2
fi
