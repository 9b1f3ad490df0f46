#!/usr/bin/env bash
# Installs the Debian packages Hark builds and tests against (needs root or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  pkg-config libsndfile1-dev libsoxr-dev libkissfft-dev libopenblas-dev libasound2-dev libpulse-dev \
  pulseaudio pulseaudio-utils alsa-utils libasound2-plugins >/dev/null
echo "system packages installed"
