/*
 * Why this file exists: keep plotly geo maps from calling a CDN.
 *
 * plotly.js 4.1.1 (bundled in plotly 7.1.0, served by Dash) downloads
 * "https://cdn.plot.ly/un/<scope>_<resolution>m.json" (config.topojsonURL) for every
 * geo subplot that shows a base layer OR has a trace with a `locationmode` -- and a
 * go.Choropleth with geojson= gets locationmode "geojson-id", so it fetches even with
 * geo.visible=False. Offline that request fails and the map stays blank.
 *
 * plotly only fetches when `window.PlotlyGeoAssets.topojson[name] === undefined`, where
 * name = scope with spaces as "-", "_", resolution, "m" (e.g. "world_110m",
 * "europe_50m", "north-america_110m"). We pre-seed every such name with an empty
 * TopoJSON Topology, so the dashboard's own GeoJSON (/assets/geo/*.geojson) is all
 * that gets drawn.
 *
 * Consequences for the app:
 *  - base layers (showland, showcountries, showcoastlines, showocean, showlakes,
 *    showrivers, showsubunits) draw nothing: draw context shapes from our GeoJSON;
 *  - locationmode "ISO-3" / "country names" / "USA-states" match nothing: always pass
 *    geojson= plus featureidkey (our features have top-level id = ISO3).
 *
 * plotly itself does `if (window.PlotlyGeoAssets === undefined) window.PlotlyGeoAssets =
 * {topojson: {}}` when it registers the geo module, and caches fetched geojson URLs as
 * top-level keys of the same object, so we only add what is missing and never replace
 * an existing object or entry.
 */
(function () {
    "use strict";

    var assets = (window.PlotlyGeoAssets = window.PlotlyGeoAssets || {});
    var topojson = (assets.topojson = assets.topojson || {});

    // plotly's geo `scope` values (layout.geo.scope) and `resolution` values.
    var SCOPES = [
        "world", "europe", "usa", "asia", "africa", "north america",
        "south america", "antarctica", "oceania"
    ];
    var RESOLUTIONS = [110, 50];

    // Every object that plotly's updateBaseLayers / getTopojsonFeatures may pass to
    // topojson.feature(); an empty GeometryCollection turns into an empty
    // FeatureCollection, so nothing throws and nothing is drawn.
    var LAYERS = [
        "land", "ocean", "lakes", "rivers", "coastlines", "countries", "subunits"
    ];

    function emptyTopology() {
        var objects = {};
        for (var i = 0; i < LAYERS.length; i++) {
            objects[LAYERS[i]] = { type: "GeometryCollection", geometries: [] };
        }
        return { type: "Topology", arcs: [], objects: objects };
    }

    for (var s = 0; s < SCOPES.length; s++) {
        for (var r = 0; r < RESOLUTIONS.length; r++) {
            var name = SCOPES[s].replace(/ /g, "-") + "_" + RESOLUTIONS[r] + "m";
            if (topojson[name] === undefined) {
                topojson[name] = emptyTopology();
            }
        }
    }
})();
