#!/usr/bin/env bash
# Makes sure the machine has what the suite drives for real: Debian's Chromium, a Chinese font (without
# it Chinese renders as boxes in screenshots), PostgreSQL and faketime (the suite runs again with the clock
# moved). As root on Debian it installs what is missing; otherwise it prints the exact command and fails,
# so nothing is ever skipped silently.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v faketime >/dev/null || missing+=(faketime)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "system-deps: missing ${missing[*]}. Install them with:" >&2
echo "  sudo apt-get install -y ${missing[*]}" >&2
exit 1
