#!/usr/bin/env bash
# Fresh Debian machine → Hark listening: installs the system packages, builds a release binary and
# runs `hark listen`, which uses the microphone (PulseAudio, else ALSA) or, when the machine has
# none, plays the bundled demo recording as a live stream. Extra arguments go to `hark listen`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product hark
exec .build/release/hark listen "$@"
