#!/usr/bin/env bash
# Re-create assets/vendor/plotly/plotly-ctrp.min.js: plotly.js 4.1.1 (the version
# plotly 7.1.0 ships) with only the traces the dashboard draws (bar, heatmap,
# choropleth, scattergeo; scatter comes with the core).
#
# Why: the full plotly.min.js is 4.8 MB, 1.23 MB even Brotli-compressed, most of a
# first visit. This bundle is 1.4 MB (0.44 MB compressed). Dash's dcc.Graph uses
# window.Plotly when a script has defined it, and every .js under assets/ is loaded
# before any graph draws, so the full file is then never requested.
#
# Needs node >= 18 and npm (the npm registry only). Versions are pinned by
# package.json and package-lock.json (integrity of every package). The output is
# committed: the app never needs npm at run time. Re-run only to upgrade.
# When a chart needs another trace type, add it to entry.js and re-run; the browser
# tests fail (console error) if a page draws a trace the bundle lacks.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/../../assets/vendor/plotly"
cd "$HERE"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
npm ci --silent
node build.js "$OUT/plotly-ctrp.min.js"
cp node_modules/plotly.js/LICENSE "$OUT/LICENSE"
echo "wrote assets/vendor/plotly/plotly-ctrp.min.js ($(wc -c <"$OUT/plotly-ctrp.min.js") bytes)"
