#!/usr/bin/env bash
# Installs the Debian packages Hark builds and tests against (scripts/debian-packages.txt; needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $(cat debian-packages.txt) >/dev/null
echo "system packages installed"
