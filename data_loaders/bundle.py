"""Push bundles (CONTRACT §1, §7): a country's protected snapshot as a signed file.

A country office runs `export` next to its own database; the regional server checks
the file with `import` and stores it exactly as a pull would have. A bundle holds only
what the warehouse would hold: protected cells, public site metadata, data-quality
counts. It is JSON (readable by the country's IT before it leaves) signed with
HMAC-SHA256 under a key that only that country and the regional server hold:
`DASHBOARD_BUNDLE_KEY_<CC>` in the environment of both.

`read_bundle` trusts nothing: format, programme, period, country, signature, the
dense set of cells, every rule of §5 and the audit of secondary suppression; any
failure rejects the whole file with a reason, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Callable

import pandas as pd

from data_loaders import __version__
from data_loaders.contract import CELL_KEY, SITE_KINDS, TABLES
from data_loaders.cube import empty_cells
from data_loaders.programme import Programme
from data_loaders.snapshot import Snapshot

FORMAT = "ctrp-bundle"
VERSION = 1
ALGORITHM = "HMAC-SHA256"
KEY_VARIABLE = "DASHBOARD_BUNDLE_KEY_{country}"
MIN_KEY_LENGTH = 16
CELL_COLUMNS = (*CELL_KEY, "value", "status")
SITE_COLUMNS = (
    "site_id",
    "kind",
    "name",
    "municipality",
    "latitude",
    "longitude",
    "public_location",
    "opened_on",
    "closed_on",
)
PRIVATE_SITE_COLUMNS = ("name", "municipality", "latitude", "longitude")
MAX_BYTES = 64 * 1024 * 1024


class BundleError(ValueError):
    """A bundle is rejected; the message says why, in one line."""


class KeyMissing(BundleError):
    """No signing key for a country in this environment (a configuration error)."""


def country_key(country: str, environ=os.environ) -> bytes:
    """The HMAC key this country shares with the regional server."""
    name = KEY_VARIABLE.format(country=country)
    key = environ.get(name, "")
    if len(key) < MIN_KEY_LENGTH:
        raise KeyMissing(
            f"no signing key for {country}: set {name} to the secret shared by the "
            f"country office and the regional server (at least {MIN_KEY_LENGTH} "
            "characters, e.g. from `openssl rand -hex 32`)"
        )
    return key.encode("utf-8")


def _canonical(payload: dict) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _sign(payload: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def make_bundle(
    snapshot: Snapshot, programme: Programme, key: bytes, synthetic: bool = False
) -> bytes:
    """The signed bundle of one protected snapshot."""
    if "true_value" in snapshot.cells:
        raise ValueError("true values must never leave the loader")
    cells = snapshot.cells[list(CELL_COLUMNS)]
    rows = [
        [
            *(str(v) for v in row[:-2]),
            None if pd.isna(row[-2]) else int(row[-2]),
            str(row[-1]),
        ]
        for row in cells.itertuples(index=False, name=None)
    ]
    payload = {
        "programme": programme.code,
        "country": snapshot.country,
        "period": [programme.first_quarter, programme.last_quarter],
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loader_version": __version__,
        "synthetic": bool(synthetic),
        "disclosure": {
            "threshold": programme.threshold,
            "rounding_base": programme.rounding_base,
        },
        "cells": {"columns": list(CELL_COLUMNS), "rows": rows},
        "sites": [{c: site[c] for c in SITE_COLUMNS} for site in snapshot.sites],
        "quality": [
            {"table_name": q["table_name"], "rule": q["rule"], "rows": int(q["rows"])}
            for q in snapshot.quality
        ],
    }
    bundle = {
        "format": FORMAT,
        "version": VERSION,
        "payload": payload,
        "signature": {"algorithm": ALGORITHM, "value": _sign(payload, key)},
    }
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")


def read_bundle(
    data: bytes,
    programme: Programme,
    key_for: Callable[[str], bytes] = country_key,
    audit: Callable | None = None,
) -> tuple[Snapshot, dict]:
    """Check a bundle completely; return its snapshot and payload, or raise
    BundleError with the reason. `audit(cells, programme)` lists the cells whose
    suppression can be undone (default: protection.audit_cells)."""
    payload = _envelope(data, key_for)
    _check_header(payload, programme)
    country = payload["country"]
    sites = _sites(payload.get("sites"), country)
    cells = _cells(payload.get("cells"), country)
    _check_dense(cells, programme, country, [s["site_id"] for s in sites])
    _check_values(cells, programme)
    if audit is None:
        from data_loaders.protection import audit_cells as audit
    violations = audit(cells, programme)
    if violations:
        raise BundleError(
            f"{len(violations)} suppressed cells could be narrowed down by "
            "differencing (CONTRACT §5 audit): re-export with this loader version"
        )
    quality = _quality(payload.get("quality"), country)
    return Snapshot(country, cells, sites, quality), payload


def import_bundle(engine, data: bytes, programme: Programme) -> tuple[Snapshot, dict]:
    """Check a bundle and store it (the command and an upload page both call this).
    Raises BundleError before anything is stored."""
    snapshot, payload = read_bundle(data, programme)
    store_imported(engine, snapshot, payload)
    return snapshot, payload


def store_imported(engine, snapshot: Snapshot, payload: dict) -> None:
    """Store a checked bundle as one run of method "import", like a pull."""
    from data_loaders import warehouse

    run_id = warehouse.start_run(
        engine, snapshot.country, "import", bool(payload["synthetic"])
    )
    warehouse.store_snapshot(
        engine,
        run_id,
        snapshot.country,
        snapshot.cells,
        snapshot.sites,
        snapshot.quality,
    )


def _envelope(data: bytes, key_for) -> dict:
    if len(data) > MAX_BYTES:
        raise BundleError(f"file larger than {MAX_BYTES // 2**20} MiB: not a bundle")
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("not a bundle: the file is not JSON text") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not a bundle: no format {FORMAT!r}")
    if bundle.get("version") != VERSION:
        raise BundleError(
            f"bundle version {bundle.get('version')!r}; this loader reads version "
            f"{VERSION}: export again with the same loader version as the region"
        )
    payload, signature = bundle.get("payload"), bundle.get("signature")
    if not isinstance(payload, dict) or not isinstance(signature, dict):
        raise BundleError("not a bundle: payload or signature missing")
    if signature.get("algorithm") != ALGORITHM:
        raise BundleError(f"signature must be {ALGORITHM}")
    country = payload.get("country")
    if not isinstance(country, str) or not country.isalnum() or len(country) != 2:
        raise BundleError("the bundle names no valid country")
    expected = _sign(payload, key_for(country))
    if not hmac.compare_digest(expected, str(signature.get("value", ""))):
        raise BundleError(
            f"the signature does not match {country}'s key: the file was changed "
            "after export, or the keys differ"
        )
    return payload


def _check_header(payload: dict, programme: Programme) -> None:
    country = payload["country"]
    if payload.get("programme") != programme.code:
        raise BundleError(
            f"bundle of programme {payload.get('programme')!r}, this server runs "
            f"{programme.code!r}"
        )
    if country not in programme.countries:
        raise BundleError(f"country {country} is not in programme {programme.code}")
    period = [programme.first_quarter, programme.last_quarter]
    if payload.get("period") != period:
        raise BundleError(
            f"bundle covers {payload.get('period')}, the programme {period}"
        )
    disclosure = {
        "threshold": programme.threshold,
        "rounding_base": programme.rounding_base,
    }
    if payload.get("disclosure") != disclosure:
        raise BundleError(
            f"bundle protected with {payload.get('disclosure')}, the programme "
            f"requires {disclosure}"
        )
    try:
        dt.datetime.fromisoformat(str(payload.get("generated_at")))
    except ValueError:
        raise BundleError("generated_at is not a time") from None
    if not isinstance(payload.get("loader_version"), str):
        raise BundleError("loader_version missing")


def _sites(rows, country: str) -> list[dict]:
    if not isinstance(rows, list):
        raise BundleError("sites missing")
    sites, seen = [], set()
    for row in rows:
        if not isinstance(row, dict) or set(row) != set(SITE_COLUMNS):
            raise BundleError(f"a site must have exactly {', '.join(SITE_COLUMNS)}")
        site_id = row["site_id"]
        if not isinstance(site_id, str) or site_id in seen or site_id == "ALL":
            raise BundleError(f"site id {site_id!r} is missing, repeated or reserved")
        seen.add(site_id)
        if row["kind"] not in SITE_KINDS:
            raise BundleError(f"site {site_id}: unknown kind {row['kind']!r}")
        if not isinstance(row["public_location"], bool):
            raise BundleError(f"site {site_id}: public_location must be true/false")
        if not row["public_location"] and any(
            row[c] is not None for c in PRIVATE_SITE_COLUMNS
        ):
            raise BundleError(
                f"site {site_id} is not public yet the bundle carries its name or "
                "place: refused"
            )
        sites.append({"country": country, **row})
    return sites


def _cells(block, country: str) -> pd.DataFrame:
    if not isinstance(block, dict) or block.get("columns") != list(CELL_COLUMNS):
        raise BundleError(f"cells must have the columns {', '.join(CELL_COLUMNS)}")
    rows = block.get("rows")
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == len(CELL_COLUMNS) for r in rows
    ):
        raise BundleError("cells: every row needs one value per column")
    position = CELL_COLUMNS.index("value")
    values = [row[position] for row in rows]
    # JSON true is a Python int and 2.0 a float: only real whole numbers pass
    if not all(v is None or (type(v) is int and v >= 0) for v in values):
        raise BundleError("cells: a value is not empty or a whole number ≥ 0")
    text = [c for c in CELL_COLUMNS if c != "value"]
    cells = pd.DataFrame(
        [[row[CELL_COLUMNS.index(c)] for c in text] for row in rows], columns=text
    )
    for column in text:
        if not cells[column].map(lambda v: isinstance(v, str)).all():
            raise BundleError(f"cells: {column} must be text")
    if (cells["country"] != country).any():
        raise BundleError(f"cells of another country than {country}")
    cells.insert(position, "value", pd.array(values, dtype="Int64"))
    return cells


def _check_dense(cells, programme, country, site_ids) -> None:
    """Exactly the cells of §4: no cell missing, none extra, none twice."""
    if cells.duplicated(list(CELL_KEY)).any():
        raise BundleError("a cell appears twice")
    expected = empty_cells(programme, country, site_ids)
    have = pd.MultiIndex.from_frame(cells[list(CELL_KEY)])
    want = pd.MultiIndex.from_frame(expected[list(CELL_KEY)].astype(str))
    missing, extra = want.difference(have), have.difference(want)
    if len(missing) or len(extra):
        example = (list(missing) or list(extra))[0]
        raise BundleError(
            f"the cells are not the programme's cube: {len(missing)} missing, "
            f"{len(extra)} unexpected (e.g. {'/'.join(example)})"
        )


def _check_values(cells: pd.DataFrame, programme: Programme) -> None:
    """Every published value obeys §5; a suppressed one carries no value."""
    status = cells["status"]
    if not status.isin(["published", "suppressed"]).all():
        raise BundleError("a cell status is neither published nor suppressed")
    suppressed = status == "suppressed"
    if cells.loc[suppressed, "value"].notna().any():
        raise BundleError("a suppressed cell carries a value: refused")
    if cells.loc[~suppressed, "value"].isna().any():
        raise BundleError("a published cell has no value")
    sensitive = cells["indicator"].isin([i.code for i in programme.sensitive()])
    if (suppressed & ~sensitive).any():
        raise BundleError("a cell of an indicator that is not sensitive is suppressed")
    k, b = programme.threshold, programme.rounding_base
    shown = cells.loc[sensitive & ~suppressed, "value"].astype("int64")
    bad = shown[(shown != 0) & ((shown < k) | (shown % b != 0))]
    if len(bad):
        row = cells.loc[bad.index[0]]
        raise BundleError(
            f"{len(bad)} sensitive values are neither 0 nor a multiple of {b} of at "
            f"least {k} (e.g. {row['indicator']} {row['period']} = {row['value']}): "
            "unprotected figures are refused"
        )


def _quality(rows, country: str) -> list[dict]:
    if not isinstance(rows, list):
        raise BundleError("quality counts missing")
    out = []
    for row in rows:
        if (
            not isinstance(row, dict)
            or set(row) != {"table_name", "rule", "rows"}
            or row["table_name"] not in TABLES
            or not isinstance(row["rule"], str)
            or type(row["rows"]) is not int
            or row["rows"] < 0
        ):
            raise BundleError(f"a data-quality count is malformed: {row!r}")
        out.append({"country": country, **row})
    return out
