#!/usr/bin/env bash
# Sets up a development environment in .venv (idempotent): system libraries from Debian where
# this user may install them, then the project and its test tools with pip.
#   usage: scripts/setup.sh            (env: VENV=.venv PYTHON=python3)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(libusb-1.0-0 libgomp1 rtklib mosquitto snmpd chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup.sh: apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup.sh: not root: install ${missing[*]} yourself (tests that need them skip)" >&2
  fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]'
echo "setup.sh: ready: $VENV"
