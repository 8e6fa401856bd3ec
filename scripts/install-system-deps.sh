#!/usr/bin/env bash
# Debian/Ubuntu libraries that GPAW (the open-source DFT reference engine) builds against.
# Runs apt-get as root, or through sudo otherwise. Safe to run twice.
set -euo pipefail
pkgs=(libxc-dev libopenblas-dev libfftw3-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
