"""The CTRP III regional dashboard: builds the Dash app and exposes `server` for WSGI.

`python app.py` serves it on HOST:PORT; a WSGI server imports `app:server`.
"""

from __future__ import annotations

import functools

import dash

from dashboard import cache, compression, data, security, settings
from dashboard.components import shell
from data_loaders.programme import load_programme
from data_loaders.warehouse import warehouse_engine


def create_app(overrides: dict | None = None) -> dash.Dash:
    """A dashboard on the warehouse named by the settings (`overrides` win)."""

    security.refuse_unsafe_environment()  # before Dash can start an MCP server
    _claim_the_process()

    def value(name):
        return settings.setting(name, overrides)

    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="dashboard/pages",
        title="CTRP III regional dashboard",
        external_stylesheets=[],  # Bootstrap is vendored in assets/: no CDN
        serve_locally=True,  # plotly.js from the package, not from a CDN
        suppress_callback_exceptions=False,
    )
    programme = load_programme(value("DASHBOARD_PROGRAMME") or None)
    engine = warehouse_engine(value("DASHBOARD_WAREHOUSE_URL"))
    store = data.Warehouse(engine, programme)
    app.server.extensions[data.EXTENSION] = store
    # Warehouse reads through a cache keyed by the snapshot (in-process, or Redis).
    cache.install(app.server, store, value("DASHBOARD_CACHE_URL"))
    compression.install(app.server)  # every answer; static bundles hard, once
    app.layout = lambda: shell(programme)
    # Register the page callbacks now rather than on the first request: the CSP
    # hashes and the callback envelope check of security.install need them.
    app._setup_server()
    # The gate, sessions, CSRF and headers: after the pages, before any request.
    security.install(app, overrides)
    return app


_built = []


def _claim_the_process() -> None:
    """One dashboard per process: Dash pages register their callbacks and our
    panels their ids globally, so a second app would share or clash with them."""
    if _built:
        raise RuntimeError(
            "create_app() runs once per process (Dash pages are global); "
            "start another process for another dashboard"
        )
    _built.append(True)


@functools.cache
def _default_app() -> dash.Dash:
    return create_app()


def __getattr__(name: str):
    # Built on first use, so importing create_app opens no warehouse.
    if name == "app":
        return _default_app()
    if name == "server":
        return _default_app().server
    raise AttributeError(name)


if __name__ == "__main__":
    _default_app().run(
        host=settings.setting("HOST"), port=int(settings.setting("PORT")), debug=False
    )
