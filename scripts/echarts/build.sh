#!/usr/bin/env bash
# The dashboard's ECharts, built once from npm and committed: portal/static/vendor/echarts/echarts-dashboard.min.js
# is ECharts' own modular build (echarts/core + only the series and components dashboard.js draws, see entry.js)
# with the word-cloud series, one minified IIFE that sets the global `echarts`. On the wire (brotli 11, as the
# portal compresses static files) the full echarts.min.js and the word-cloud plugin were 279 KB, this is 157 KB:
# the dashboard's first load on a phone went from 316 KB to 194 KB, within issue 14's 400 KB
# (bench/bench_pages.py --bytes-only; tests/browser/test_dashboard_light.py).
#
#   bash scripts/echarts/build.sh          rebuild it (and its licence files) after changing a version or entry.js
#   bash scripts/echarts/build.sh --check  rebuild into a temporary file and fail unless it is the committed bytes
#
# Versions are pinned in package.json and package-lock.json (npm ci checks every tarball's integrity hash);
# esbuild's output depends only on its version, its flags and its input, so the same bytes come out every time.
# --ignore-scripts: nothing from the registry runs at install; esbuild's CLI finds its platform binary without.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DEST="$ROOT/portal/static/vendor/echarts"
cd "$HERE"
if ! command -v npm >/dev/null; then  # like scripts/system-deps.sh: Debian's Node.js, installed as root, else said
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "echarts: installing nodejs npm"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "echarts: needs Node.js and npm. Install them with:  sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
version() { node -p "require('./node_modules/$1/package.json').version"; }
BANNER="/*! Apache ECharts $(version echarts) (Apache-2.0, see LICENSE and NOTICE beside this file), zrender\
 $(version zrender) (BSD-3-Clause, licenses/LICENSE-zrender) and echarts-wordcloud $(version echarts-wordcloud) (ISC):\
 the portal dashboard's custom build (scripts/echarts/build.sh, esbuild $(version esbuild)) with pie, candlestick,\
 line, wordCloud; aria, grid, legend, tooltip; the canvas renderer. */"
OUT="$DEST/echarts-dashboard.min.js"
if [[ "${1:-}" == "--check" ]]; then OUT="$(mktemp --suffix=.js)"; trap 'rm -f "$OUT"' EXIT; fi
# The word cloud imports the legacy echarts/lib/echarts (core plus a dataset component and label layout it does not
# use): aliased to echarts/core, the same modules without those.
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=echarts --target=es5 \
  --legal-comments=eof --define:process.env.NODE_ENV='"production"' --alias:echarts/lib/echarts=echarts/core \
  --banner:js="$BANNER" --log-level=warning --outfile="$OUT"
if [[ "${1:-}" == "--check" ]]; then
  cmp "$OUT" "$DEST/echarts-dashboard.min.js" && echo "echarts-dashboard.min.js: the build reproduces the committed bytes"
  exit
fi
# Apache-2.0 §4: the licence and NOTICE go with the work; d3's licence covers parts of ECharts' source, and
# zrender (ECharts' renderer, BSD-3-Clause, bundled in) asks for its notice with every binary copy.
mkdir -p "$DEST/licenses"
cp node_modules/echarts/LICENSE node_modules/echarts/NOTICE "$DEST/"
cp node_modules/echarts/licenses/LICENSE-d3 "$DEST/licenses/"
cp node_modules/zrender/LICENSE "$DEST/licenses/LICENSE-zrender"
# The word cloud's tarball has no licence file: its package.json says ISC, and is kept as the record.
cp node_modules/echarts-wordcloud/package.json "$DEST/echarts-wordcloud.package.json"
sha256sum "$OUT" | sed "s|$ROOT/||"
