#!/usr/bin/env bash
# Install Jupyter (classic Notebook, nbconvert, nbclient) from Debian/Ubuntu packages.
#   sudo npm run jupyter:debian              what `npm start` needs
#   sudo npm run jupyter:debian -- --tests   also Chromium, for `npm test`'s browser checks
# JupyterLab has no Debian package; get it with `pip install jupyterlab` or `conda install jupyterlab`.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "This installs Debian packages and must run as root: sudo npm run jupyter:debian" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: this script is for Debian/Ubuntu. Install JupyterLab with pip or conda instead." >&2
  exit 1
fi
packages=(jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium fonts-dejavu-core)
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
