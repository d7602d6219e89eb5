"""`make bench` sections: the pages (issue 5).

1. Each page's main callback under 10 concurrent clients, beside a trivial callback
   measured in the same run: median and p95 of the server's own time (a
   Server-Timing header from a thin WSGI wrapper, so queueing in the clients does
   not count), and the p95 ratio to the trivial one. Goal: every ratio ≤ 5.
2. A first visit of each page in headless Chromium with an empty cache: the bytes
   it transfers (compressed, as on the wire) and the time from navigation to the
   first chart drawn. Goal: under 2 MB.

Served as in production: gunicorn, several workers, the demo warehouse at scale 1
(SQLite here, so that `make bench` needs no database server), the cache in Redis
when one listens on 127.0.0.1:6379 (as in production), in-process otherwise.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench-admin", "bench password for pages"
CLIENTS = 10
ROUNDS = 30  # requests per client and callback
WORKERS = 4
ALL = ["BA", "RS", "ME", "XK", "AL", "RO", "BG"]
TRIVIAL = (
    "trivial: a map click that is no click",
    "overview-nav.href",
    [{"overview-map-graph": None, "overview-url": ""}],
)
# Each page's main callback and the views the clients cycle through.
CALLBACKS = [
    (
        "overview",
        "overview-map-graph.figure",
        [
            {"overview-indicator-picker": i, "overview-period-picker": p}
            for i in ("children_reached", "referrals_out")
            for p in ("ALL", "2010", "2011Q2")
        ],
    ),
    (
        "compare countries",
        "compare-trend-graph.figure",
        [
            {
                "compare-indicator-picker": i,
                "compare-period-picker": p,
                "compare-countries-checklist": ALL,
                "compare-breakdown-radio": "quarters",
            }
            for i in ("children_reached", "attendance_visits")
            for p in ("ALL", "2010", "2011Q2")
        ],
    ),
    (
        "country",
        "country-sites-graph.figure",
        [
            {
                "country-country-picker": c,
                "country-period-picker": p,
                "country-indicator-picker": "children_reached",
                "country-breakdown-radio": "sex_age",
            }
            for c in ("RS", "ME", "RO")
            for p in ("ALL", "2010")
        ],
    ),
    (
        "objectives",
        "objectives-status-graph.figure",
        [
            {
                "objectives-objective-radio": o,
                "objectives-period-picker": p,
                "objectives-countries-checklist": ALL,
            }
            for o in ("all", "2")
            for p in ("ALL", "2010", "2011")
        ],
    ),
    (
        "data status",
        "status-age-graph.figure",
        [{"status-countries-checklist": c} for c in (ALL, ALL[:3], ALL[3:])],
    ),
]
PAGES = ["/", "/compare", "/country/RS", "/objectives", "/data-status"]
REDIS = "redis://127.0.0.1:6379/13"  # a database of its own, emptied before a run


def timed_server():
    """The app for gunicorn, each answer carrying the server's own time."""
    from app import create_app

    server = create_app().server
    inner = server.wsgi_app

    def timed(environ, start_response):
        began = time.perf_counter()

        def start(status, headers, exc_info=None):
            spent = (time.perf_counter() - began) * 1000
            headers.append(("Server-Timing", f"app;dur={spent:.3f}"))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    server.wsgi_app = timed
    return server


def demo_warehouse(bench) -> str:
    """The demo countries at scale 1, synced once into a SQLite warehouse, with a
    bench account."""
    from tests.bench import CACHE, _demo_version

    sources = bench.demo(1)
    path = CACHE / f"pages-warehouse-{_demo_version()[:12]}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        print("syncing the demo warehouse for the pages (once)", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "data_loaders",
                "sync",
                "--sources",
                str(sources),
                "--warehouse",
                url,
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
    from dashboard import users
    from data_loaders.programme import load_programme
    from data_loaders.warehouse import warehouse_engine

    engine = warehouse_engine(url)
    if users.find(engine, USER) is None:
        programme = load_programme()
        users.create(engine, USER, PASSWORD, "admin", (), programme.countries)
    engine.dispose()
    return url


def load(url: str, output: str, views: list[dict]) -> dict:
    """CLIENTS signed-in clients, each calling `output` ROUNDS times through the
    views; the server's times and the round trips, in ms."""
    from tests.served import Client

    clients = [Client(url, USER, PASSWORD) for _ in range(CLIENTS)]
    first = []  # each view's first computation, alone: nothing of it cached yet
    for values in views:
        answer = clients[0].call(output, values)
        assert answer.status_code in (200, 204), answer.status_code
        first.append(_server_ms(answer))
    server, trips, errors = [], [], []
    start = threading.Barrier(CLIENTS)

    def run(index: int, client) -> None:
        start.wait()
        for n in range(ROUNDS):
            values = views[(index + n) % len(views)]
            began = time.perf_counter()
            answer = client.call(output, values)
            trips.append((time.perf_counter() - began) * 1000)
            if answer.status_code not in (200, 204):
                errors.append(answer.status_code)
            server.append(_server_ms(answer))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{output}: {len(errors)} failed answers {errors[:5]}")
    return {"server": server, "trips": trips, "first": first}


def _server_ms(answer) -> float:
    return float(answer.headers.get("Server-Timing", "app;dur=nan").split("dur=")[1])


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _forget(cache_url: str) -> None:
    """Drop what an earlier bench left in Redis (its own database)."""
    if cache_url:
        import redis

        redis.Redis.from_url(cache_url).flushdb()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def callbacks(bench) -> object:
    from tests.bench import Section
    from tests.served import gunicorn

    cache_url = REDIS if _listening(6379) else ""
    url_env = {
        "DASHBOARD_WAREHOUSE_URL": demo_warehouse(bench),
        "DASHBOARD_SECRET_KEY": "bench: one key for every worker",
        "DASHBOARD_CACHE_URL": cache_url,
    }
    section = Section(
        f"Page callbacks, {CLIENTS} concurrent clients × {ROUNDS} requests, gunicorn "
        f"{WORKERS} workers",
        [
            "callback",
            "server median ms",
            "server p95 ms",
            "p95 ÷ trivial p95",
            "round trip p95 ms",
            "first ask ms",
        ],
    )
    _forget(cache_url)  # every view starts uncached
    with gunicorn(url_env, WORKERS, "tests.bench_pages:timed_server()") as url:
        name, output, views = TRIVIAL
        trivial = load(url, output, views)
        base = p95(trivial["server"])
        rows = [(name, trivial)]
        for name, output, views in CALLBACKS:
            print(f"  {name} …", flush=True)
            rows.append((f"{name}: {output.split('.')[0]}", load(url, output, views)))
    worst = 0.0
    for name, result in rows:
        ratio = p95(result["server"]) / base
        worst = max(worst, ratio if not name.startswith("trivial") else 0)
        section.rows.append(
            [
                name,
                f"{statistics.median(result['server']):.1f}",
                f"{p95(result['server']):.1f}",
                "1.0×" if name.startswith("trivial") else f"{ratio:.1f}×",
                f"{p95(result['trips']):.1f}",
                f"{statistics.median(result['first']):.0f}",
            ]
        )
    section.notes += [
        f"worst p95 ratio {worst:.1f}× (goal ≤ 5×)",
        "server time: from the WSGI call to the start of the answer, in the worker "
        "(Server-Timing), gate, session and compression included; round trip adds "
        "queueing behind the other clients",
        "the clients cycle through 3–6 views per page; every view was asked once "
        "before timing, as the first user after a sync would: *first ask* is the "
        "median server time of those first computations, alone (no answer cached "
        "yet; later ones are served from the cache of answers per view and scope)",
        "cache: "
        + (
            "Redis, shared by the workers, as in production"
            if cache_url
            else "in-process (no Redis on this machine): each worker warms its own"
        ),
        f"machine: {os.cpu_count()} cores shared by server and clients, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}",
    ]
    return section


FIRST_CHART = """
(() => {
  const seen = () => document.querySelector(
    '.js-plotly-plot .main-svg :is(.trace, .hm, .choroplethlocation)');
  new MutationObserver((_m, observer) => {
    if (seen() && window.__firstChart === undefined) {
      window.__firstChart = performance.now();
      observer.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""


def first_visits(bench) -> object:
    from playwright.sync_api import sync_playwright

    from tests.bench import Section
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.served import gunicorn

    url_env = {
        "DASHBOARD_WAREHOUSE_URL": demo_warehouse(bench),
        "DASHBOARD_SECRET_KEY": "bench: one key for every worker",
    }
    section = Section(
        "First visit of each page, headless Chromium, empty cache",
        ["page", "transferred (compressed)", "requests", "time to first chart s"],
    )
    results = {}
    with gunicorn(url_env, WORKERS) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        signed = browser.new_context()
        page = signed.new_page()
        page.goto(url + "/login")
        page.fill("#login-username", USER)
        page.fill("#login-password", PASSWORD)
        with page.expect_navigation():
            page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        cookies = signed.storage_state()
        for path in PAGES:
            runs = [_visit(browser, cookies, url + path) for _ in range(3)]
            results[path] = runs
        browser.close()
    for path, runs in results.items():
        bytes_ = statistics.median(r[0] for r in runs)
        section.rows.append(
            [
                path,
                f"{bytes_ / 1e6:.2f} MB",
                f"{statistics.median(r[1] for r in runs):.0f}",
                f"{statistics.median(r[2] for r in runs):.2f}",
            ]
        )
    largest = max(statistics.median(r[0] for r in runs) for runs in results.values())
    section.notes += [
        f"largest first visit {largest / 1e6:.2f} MB (goal < 2 MB); plotly.js is "
        "0.44 MB of it (only the traces the pages draw, tools/plotly_bundle; "
        "the full plotly.min.js would be 1.23 MB)",
        "bytes: every response's encoded length (Chrome DevTools protocol), cache "
        "disabled, after sign-in; time: navigation start to the first trace drawn "
        "(median of 3 visits)",
    ]
    return section


def _visit(browser, cookies, url: str) -> tuple[int, int, float]:
    context = browser.new_context(storage_state=cookies)
    page = context.new_page()
    page.add_init_script(FIRST_CHART)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(url, wait_until="domcontentloaded")
    deadline = time.monotonic() + 60
    while page.evaluate("() => window.__firstChart") is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no chart drawn at {url}")
        page.wait_for_timeout(50)
    first_chart = page.evaluate("() => window.__firstChart") / 1000
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    context.close()
    return sum(sizes.values()), len(sizes), first_chart


SECTIONS = [callbacks, first_visits]
