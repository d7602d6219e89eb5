#!/usr/bin/env bash
# Re-create every vendored front-end file of the dashboard from pinned npm packages.
#
# Why: the dashboard must work with no internet access. Nothing may be loaded from a CDN
# (dbc.themes.* are CDN URLs; plotly's built-in maps come from cdn.plot.ly), so the
# Bootstrap CSS and the country shapes are copied into assets/ and committed.
# This script is the single, repeatable way those files were made. Re-run it only to
# upgrade a pin; the outputs are committed, so the app never needs npm at run time.
#
# Writes:
#   assets/vendor/bootstrap/bootstrap.min.css   (sourceMappingURL comment stripped, no .map)
#   assets/vendor/bootstrap/LICENSE
#   assets/geo/countries.geojson                (7 programme countries, id = ISO3)
#   assets/geo/neighbours.geojson               (11 neighbours for grey context, id = ISO3)
#   assets/geo/LICENSE
#
# Needs: bash, node >= 18, npm, tar (reaches the npm registry only).
# Idempotent: files whose content would not change are left untouched.
#
# NOTE: the GeoJSON converter is embedded below on purpose: Dash serves and runs every
# .js file under assets/ in the browser, so a node script must not live in assets/.
set -euo pipefail

BOOTSTRAP=bootstrap@5.3.8
WORLD_ATLAS=world-atlas@2.0.2
TOPOJSON_CLIENT=topojson-client@3.1.0

# sha512 of the exact tarballs (as published in the npm registry's "integrity" field).
declare -A INTEGRITY=(
  ["$BOOTSTRAP"]="sha512-HP1SZDqaLDPwsNiqRqi5NcP0SSXciX2s9E+RyqJIIqGo+vJeN5AJVM98CXmW/Wux0nQ5L7jeWUdplCEf0Ee+tg=="
  ["$WORLD_ATLAS"]="sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ=="
  ["$TOPOJSON_CLIENT"]="sha512-605uxS6bcYxGXw9qi62XyrV6Q3xwbndjachmNxu8HWTtVPxZfEJN9fd/SZS1Q54Sn2y0TMyMxFj/cJINqGHrKw=="
)

ASSETS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# fetch SPEC -> unpacks the package into $TMP/<name> after checking its integrity
fetch() {
  local spec=$1 name=${1%@*} tgz got
  tgz="$(cd "$TMP" && npm pack --silent "$spec" | tail -n 1)"
  got="sha512-$(node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$TMP/$tgz")"
  if [[ "$got" != "${INTEGRITY[$spec]}" ]]; then
    echo "integrity mismatch for $spec: got $got" >&2
    exit 1
  fi
  mkdir -p "$TMP/$name"
  tar -xzf "$TMP/$tgz" -C "$TMP/$name" --strip-components=1
}

# put SRC DEST -> installs SRC at DEST unless DEST already has the same bytes; reports
put() {
  local src=$1 dest=$2 rel=${2#"$ASSETS"/}
  mkdir -p "$(dirname "$dest")"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
    echo "unchanged assets/$rel ($(wc -c <"$dest") bytes)"
  else
    install -m 0644 "$src" "$dest"
    echo "wrote     assets/$rel ($(wc -c <"$dest") bytes)"
  fi
}

fetch "$BOOTSTRAP"
fetch "$WORLD_ATLAS"
fetch "$TOPOJSON_CLIENT"

# ---------------------------------------------------------------- Bootstrap CSS
# Drop the trailing "/*# sourceMappingURL=bootstrap.min.css.map */" so that browsers with
# dev tools open do not ask for a .map file we do not ship.
sed -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$TMP/bootstrap/dist/css/bootstrap.min.css" \
  >"$TMP/bootstrap.min.css"
if grep -q 'sourceMappingURL' "$TMP/bootstrap.min.css"; then
  echo "sourceMappingURL still present in bootstrap.min.css" >&2
  exit 1
fi
put "$TMP/bootstrap.min.css" "$ASSETS/vendor/bootstrap/bootstrap.min.css"
put "$TMP/bootstrap/LICENSE" "$ASSETS/vendor/bootstrap/LICENSE"

# ---------------------------------------------------------------- country shapes
cat >"$TMP/topojson_to_geojson.js" <<'NODE'
// usage: node topojson_to_geojson.js <topojson-client dir> <countries-50m.json> <out dir>
"use strict";
const fs = require("fs");
const path = require("path");
const [clientDir, atlasFile, outDir] = process.argv.slice(2);
const { feature } = require(path.join(clientDir, "dist", "topojson-client.js"));

// [name in world-atlas, ISO numeric id in world-atlas (null: has none), ISO3, English name]
const PROGRAMME = [
  ["Bosnia and Herz.", "070", "BIH", "Bosnia and Herzegovina"],
  ["Serbia", "688", "SRB", "Serbia"],
  ["Montenegro", "499", "MNE", "Montenegro"],
  ["Kosovo", null, "XKX", "Kosovo"], // no ISO id in Natural Earth; XKX is the usual code
  ["Albania", "008", "ALB", "Albania"],
  ["Romania", "642", "ROU", "Romania"],
  ["Bulgaria", "100", "BGR", "Bulgaria"],
];
const NEIGHBOURS = [
  ["Croatia", "191", "HRV", "Croatia"],
  ["Slovenia", "705", "SVN", "Slovenia"],
  ["Hungary", "348", "HUN", "Hungary"],
  ["Macedonia", "807", "MKD", "North Macedonia"],
  ["Greece", "300", "GRC", "Greece"],
  ["Moldova", "498", "MDA", "Moldova"],
  ["Ukraine", "804", "UKR", "Ukraine"],
  ["Turkey", "792", "TUR", "Turkey"],
  ["Italy", "380", "ITA", "Italy"],
  ["Austria", "040", "AUT", "Austria"],
  ["Slovakia", "703", "SVK", "Slovakia"],
];

const topo = JSON.parse(fs.readFileSync(atlasFile, "utf8"));
const all = feature(topo, topo.objects.countries).features;

const r3 = (v) => Math.round(v * 1000) / 1000 + 0; // "+ 0" turns -0 into 0
function ring(coords) {
  const out = [];
  for (const [x, y] of coords) {
    const p = [r3(x), r3(y)];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  const [f, l] = [out[0], out[out.length - 1]];
  if (f[0] !== l[0] || f[1] !== l[1]) out.push([f[0], f[1]]);
  return out.length >= 4 ? out : null; // ring collapsed by rounding
}
function polygon(rings) {
  const kept = [];
  for (let i = 0; i < rings.length; i++) {
    const r = ring(rings[i]);
    if (r) kept.push(r);
    else if (i === 0) return null; // exterior ring gone: drop the polygon
  }
  return kept;
}
function geometry(g) {
  if (g.type === "Polygon") return { type: "Polygon", coordinates: polygon(g.coordinates) };
  if (g.type === "MultiPolygon") {
    return { type: "MultiPolygon", coordinates: g.coordinates.map(polygon).filter(Boolean) };
  }
  throw new Error("unexpected geometry type " + g.type);
}

function collection(table, programme) {
  const feats = table.map(([atlasName, numId, iso3, name]) => {
    const hits = all.filter((f) => f.properties.name === atlasName);
    if (hits.length !== 1) throw new Error(`${atlasName}: ${hits.length} features in world-atlas`);
    const f = hits[0];
    if ((f.id === undefined ? null : f.id) !== numId) {
      throw new Error(`${atlasName}: id ${f.id} in world-atlas, expected ${numId}`);
    }
    return { type: "Feature", id: iso3, properties: { name, programme }, geometry: geometry(f.geometry) };
  });
  // one feature per line: small, and readable in a diff
  return '{"type":"FeatureCollection","features":[\n' + feats.map((f) => JSON.stringify(f)).join(",\n") + "\n]}\n";
}

fs.writeFileSync(path.join(outDir, "countries.geojson"), collection(PROGRAMME, true));
fs.writeFileSync(path.join(outDir, "neighbours.geojson"), collection(NEIGHBOURS, false));
NODE

mkdir -p "$TMP/geo"
node "$TMP/topojson_to_geojson.js" "$TMP/topojson-client" "$TMP/world-atlas/countries-50m.json" "$TMP/geo"
put "$TMP/geo/countries.geojson" "$ASSETS/geo/countries.geojson"
put "$TMP/geo/neighbours.geojson" "$ASSETS/geo/neighbours.geojson"

{
  cat <<EOF
countries.geojson and neighbours.geojson in this folder are derived from the
1:50m "Admin 0 - Countries" data of Natural Earth (https://www.naturalearthdata.com/),
which is in the public domain, as packaged in the npm package $WORLD_ATLAS
(TopoJSON, ISC licence, text below) and converted to GeoJSON with $TOPOJSON_CLIENT
(ISC) by assets/vendor/make_vendor.sh: features renamed, ids set to ISO 3166-1
alpha-3 codes (XKX for Kosovo), coordinates rounded to 3 decimals.

Boundaries follow Natural Earth's de facto depiction and imply no position on the
status of any territory.

---- world-atlas LICENSE ----
EOF
  cat "$TMP/world-atlas/LICENSE"
} >"$TMP/geo/LICENSE"
put "$TMP/geo/LICENSE" "$ASSETS/geo/LICENSE"
