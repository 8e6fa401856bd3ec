#!/usr/bin/env bash
# Debian/Ubuntu libraries that GPAW (the open-source DFT reference engine) builds against.
# Runs apt-get as root, or through sudo otherwise. Safe to run twice.
# GPAW (>= 25) compiles its C sources as C++17: without a siteconfig it picks `mpic++` when that
# is on PATH (from libopenmpi-dev) and otherwise falls back to `gcc -std=c++17`, which fails on
# .c files. libopenmpi-dev is therefore required for a plain `pip install gpaw`, not optional.
# g++ provides the C++ standard library headers that mpic++ wraps.
set -euo pipefail
pkgs=(g++ libxc-dev libopenblas-dev libfftw3-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
