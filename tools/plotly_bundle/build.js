// esbuild settings of plotly.js's own esbuild-config.js, minus the CSS it inlines
// for maplibre maps, which the dashboard does not draw.
const path = require('path');
const out = process.argv[2];
const noCss = {
    name: 'no-css',
    setup(build) {
        build.onLoad({ filter: /\.css$/ }, () => ({ contents: '', loader: 'js' }));
    },
};
require('esbuild')
    .build({
        entryPoints: [path.join(__dirname, 'entry.js')],
        outfile: out,
        format: 'iife',
        globalName: 'Plotly',
        bundle: true,
        minify: true,
        legalComments: 'none',
        plugins: [noCss],
        define: { global: 'window', 'define.amd': 'false' },
        target: 'es2016',
        logLevel: 'warning',
    })
    .catch(() => process.exit(1));
