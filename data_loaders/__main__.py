"""Command line of the loader (CONTRACT §7): demo, sync, export, import, cube, audit.

Exit codes: 0 done, 1 some work failed (the rest stored), 2 bad configuration.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from data_loaders import audit_log, bundle, warehouse
from data_loaders.demo import sources_toml, write_demo_country, write_demo_url
from data_loaders.programme import ProgrammeError, load_programme
from data_loaders.snapshot import take_snapshot
from data_loaders.sources import (
    SourcesError,
    check_mappings,
    load_sources,
    sources_path,
)
from data_loaders.sync import describe_failure, sync_all

CSV_COLUMNS = (
    "country",
    "site",
    "period",
    "indicator",
    "sex",
    "age_band",
    "service",
    "value",
    "status",
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.command(args)
    except (ProgrammeError, SourcesError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_loaders", description=__doc__)
    parser.add_argument(
        "--programme",
        help="programme file (default: DASHBOARD_PROGRAMME or the CTRP III file)",
    )
    commands = parser.add_subparsers(required=True, metavar="command")

    demo = commands.add_parser("demo", help="write synthetic demo country databases")
    demo.add_argument("--out", default="var/demo", help="folder (default var/demo)")
    demo.add_argument("--seed", type=int, default=1, help="same seed, same rows")
    demo.add_argument("--scale", type=float, default=1.0, help="multiply the volume")
    demo.add_argument(
        "--url",
        help="write one country into this database instead (any SQLAlchemy URL: "
        "sqlite:///path, postgresql+psycopg://..., mariadb+pymysql://...)",
    )
    demo.add_argument(
        "--country", help="with --url: which country (default: the first)"
    )
    demo.set_defaults(command=run_demo)

    sync = commands.add_parser("sync", help="pull, protect and store each country")
    sync.add_argument(
        "--sources",
        help="sources file (default DASHBOARD_SOURCES or var/demo/sources.toml)",
    )
    sync.add_argument(
        "--warehouse",
        help="warehouse URL (default "
        "DASHBOARD_WAREHOUSE_URL or sqlite:///var/warehouse.sqlite)",
    )
    sync.add_argument(
        "--country", action="append", help="only this country (repeatable)"
    )
    sync.set_defaults(command=run_sync)

    export = commands.add_parser(
        "export", help="a signed, protected bundle of one country (push)"
    )
    export.add_argument("--sources", help="sources file (default DASHBOARD_SOURCES)")
    export.add_argument("--country", required=True, help="the country to export")
    export.add_argument("--out", required=True, help="bundle file to write")
    export.set_defaults(command=run_export)

    load = commands.add_parser("import", help="check and store a bundle")
    load.add_argument("file", help="the bundle file")
    load.add_argument("--warehouse", help="warehouse URL")
    load.set_defaults(command=run_import)

    cube = commands.add_parser("cube", help="the published cells as CSV")
    cube.add_argument("--warehouse", help="warehouse URL")
    cube.add_argument("--out", help="file (default: standard output)")
    cube.set_defaults(command=run_cube)

    audit = commands.add_parser(
        "audit", help="check that no suppressed cell can be narrowed down (§5)"
    )
    audit.add_argument("--warehouse", help="warehouse URL")
    audit.set_defaults(command=run_audit)
    return parser


def run_demo(args) -> int:
    programme = load_programme(args.programme)
    if args.url:
        return _demo_url(args, programme)
    out = Path(args.out)
    paths = {}
    for country in programme.countries:
        paths[country] = out / f"demo-{country}.sqlite"
        counts = write_demo_country(
            paths[country], country, programme, args.seed, args.scale
        )
        print(
            f"{country}  {paths[country]}  "
            + ", ".join(f"{count} {table}" for table, count in counts.items())
        )
    (out / "sources.toml").write_text(sources_toml(paths), encoding="utf-8")
    print(f"sources file: {out / 'sources.toml'} (synthetic demo data)")
    return 0


def _demo_url(args, programme) -> int:
    country = args.country or next(iter(programme.countries))
    if country not in programme.countries:
        raise SourcesError(
            f"--country {country}: use one of {', '.join(programme.countries)}"
        )
    counts = write_demo_url(args.url, country, programme, args.seed, args.scale)
    safe = sa.make_url(args.url).render_as_string(hide_password=True)
    print(
        f"{country}  {safe}  "
        + ", ".join(f"{count} {table}" for table, count in counts.items())
        + " (synthetic demo data)"
    )
    return 0


def run_sync(args) -> int:
    programme = load_programme(args.programme)
    path = sources_path(args.sources)
    sources = load_sources(path, programme.countries)
    for country in args.country or []:
        if country not in sources:
            raise SourcesError(
                f"{path}: no [countries.{country}] to sync; "
                f"the file has {', '.join(sources)}"
            )
    if args.country:
        sources = {code: sources[code] for code in args.country}
    # Every mapping is checked before the warehouse is even opened: a bad sources
    # file (exit 2) changes nothing there.
    check_mappings(path, sources)
    engine = warehouse.warehouse_engine(args.warehouse)
    started = time.perf_counter()
    outcomes = sync_all(engine, sources, programme)
    for outcome in outcomes:
        status = "ok" if outcome.ok else "failed"
        audit_log.record_cli(engine, "sync", f"country {outcome.country}", status)
    failed = [o.country for o in outcomes if not o.ok]
    print(
        f"{len(outcomes) - len(failed)} of {len(outcomes)} countries synced in "
        f"{time.perf_counter() - started:.1f} s"
        + (f"; failed: {', '.join(failed)} (last good snapshot kept)" if failed else "")
    )
    return 1 if failed else 0


def run_export(args) -> int:
    programme = load_programme(args.programme)
    path = sources_path(args.sources)
    sources = load_sources(path, programme.countries)
    source = sources.get(args.country)
    if source is None:
        raise SourcesError(
            f"{path}: no [countries.{args.country}] to export; "
            f"the file has {', '.join(sources)}"
        )
    try:
        key = bundle.country_key(source.country)
    except bundle.KeyMissing as error:
        raise SourcesError(str(error)) from None
    check_mappings(path, {source.country: source})
    try:
        snapshot = take_snapshot(source, programme)
    except Exception as error:  # a failed read is reported, not a traceback
        logging.getLogger(__name__).debug("export failed", exc_info=True)
        print(f"{source.country}  FAILED  {describe_failure(error, source)}")
        return 1
    data = bundle.make_bundle(snapshot, programme, key, source.synthetic)
    Path(args.out).write_bytes(data)
    suppressed = int((snapshot.cells["status"] == "suppressed").sum())
    print(
        f"{source.country}  {args.out}: {len(snapshot.cells)} cells "
        f"({suppressed} suppressed), {len(snapshot.sites)} sites, signed "
        f"with {bundle.KEY_VARIABLE.format(country=source.country)}"
    )
    return 0


def run_import(args) -> int:
    programme = load_programme(args.programme)
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"rejected: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    try:  # checked in full before the warehouse is even opened
        snapshot, payload = bundle.read_bundle(data, programme)
    except bundle.BundleError as error:
        print(f"rejected {args.file}: {error}; nothing stored", file=sys.stderr)
        return 1
    engine = warehouse.warehouse_engine(args.warehouse)
    bundle.store_imported(engine, snapshot, payload)
    audit_log.record_cli(engine, "import", f"country {snapshot.country}", "ok")
    print(
        f"{snapshot.country}  imported {len(snapshot.cells)} cells from "
        f"{args.file} (generated {payload['generated_at']}, loader "
        f"{payload['loader_version']})"
    )
    return 0


def run_cube(args) -> int:
    engine = warehouse.warehouse_engine(args.warehouse)
    frame = warehouse.read_cells(engine)
    if not args.out:
        _write_cube(frame, sys.stdout)
        return 0
    with open(args.out, "w", newline="", encoding="utf-8") as out:
        _write_cube(frame, out)
    return 0


def run_audit(args) -> int:
    from data_loaders.protection import audit_cells

    programme = load_programme(args.programme)
    engine = warehouse.warehouse_engine(args.warehouse)
    cells = warehouse.read_cells(engine)
    started = time.perf_counter()
    violations = audit_cells(cells, programme)
    suppressed = int((cells["status"] == "suppressed").sum())
    for country, v in violations:
        high = "unbounded" if v.high is None else f"{v.high:g}"
        print(
            f"VIOLATION {country} {v.indicator} {v.period} site={v.site} sex={v.sex} "
            f"age={v.age_band} service={v.service}: between {v.low:g} and {high}"
        )
    print(
        f"audited {len(cells)} cells ({suppressed} suppressed) of "
        f"{cells['country'].nunique()} countries in {time.perf_counter() - started:.1f}"
        f" s: {len(violations)} violations"
    )
    return 1 if violations else 0


def _write_cube(frame: pd.DataFrame, out) -> None:
    """CONTRACT §8: RFC 4180 CSV, empty value when suppressed."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in frame.itertuples(index=False):
        value = "" if pd.isna(row.value) else int(row.value)
        writer.writerow(
            [
                row.country,
                row.site,
                row.period,
                row.indicator,
                row.sex,
                row.age_band,
                row.service,
                value,
                row.status,
            ]
        )


if __name__ == "__main__":
    sys.exit(main())
