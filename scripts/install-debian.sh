#!/usr/bin/env bash
# What a fresh Debian/Ubuntu machine lacks for the course, from the distribution's packages:
#   sudo npm run deps:debian
# Chromium and a font, for `npm test`'s browser checks; and Python's venv module (python3-venv) when
# `python3 -m venv` cannot work, so that `npm install` can set up JupyterLab in .venv/ (scripts/jupyter-env.mjs).
# JupyterLab itself never comes from here: `npm install` installs the pinned one with pip, inside the project.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "This installs Debian packages and must run as root: sudo npm run deps:debian" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: this script is for Debian/Ubuntu. Install Chromium (or set CHROMIUM_PATH) and Python 3.9+ yourself." >&2
  exit 1
fi
packages=(chromium fonts-dejavu-core)
if ! command -v python3 >/dev/null; then
  packages+=(python3 python3-venv)
elif ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  packages+=(python3-venv)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "Already installed: ${packages[*]}"
  exit 0
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
