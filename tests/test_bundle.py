"""Push bundles (issue 3): export signs a protected snapshot; import checks format,
programme, country, signature and every rule of §5, and either stores exactly what a
pull stores or rejects with a reason and stores nothing."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa

from data_loaders import bundle, warehouse
from data_loaders.__main__ import main

COUNTRY = "RS"
KEY = "rs-office-and-region-shared-secret"


@pytest.fixture(scope="module", autouse=True)
def keys():
    """The shared signing key of RS (and one for ME), as both sides would set it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASHBOARD_BUNDLE_KEY_RS", KEY)
        patch.setenv("DASHBOARD_BUNDLE_KEY_ME", "me-office-and-region-secret")
        yield


@pytest.fixture(scope="module")
def exported(demo_sources, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("bundle") / "rs.json"
    argv = ["export", "--sources", str(demo_sources), "--country", COUNTRY]
    assert main([*argv, "--out", str(out)]) == 0
    return out.read_bytes()


def resigned(data: bytes, change, key: str = KEY) -> bytes:
    """The bundle after `change(payload)`, signed again with a valid key: what a
    country holding the key could send. Import must still refuse bad content."""
    document = json.loads(data)
    change(document["payload"])
    document["signature"]["value"] = bundle._sign(document["payload"], key.encode())
    return json.dumps(document).encode()


def import_file(data: bytes, tmp_path, capsys) -> tuple[int, str, str]:
    path = tmp_path / "in.json"
    path.write_bytes(data)
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    code = main(["import", str(path), "--warehouse", url])
    return code, capsys.readouterr().err, url


def stored_cells(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM cells")).scalar()
    except sa.exc.OperationalError:
        return 0  # no warehouse at all: nothing stored either
    finally:
        engine.dispose()


def test_an_imported_bundle_gives_the_same_cells_as_a_pull(
    exported, synced_warehouse, tmp_path, capsys
):
    code, error, url = import_file(exported, tmp_path, capsys)
    assert code == 0, error
    engine, pulled = warehouse.warehouse_engine(url), sa.create_engine(synced_warehouse)
    pd.testing.assert_frame_equal(
        warehouse.read_cells(engine, COUNTRY),
        warehouse.read_cells(pulled, COUNTRY),
    )
    for table in (warehouse.sites, warehouse.quality):
        query = sa.select(table).where(table.c.country == COUNTRY)
        order = list(table.primary_key.columns)
        with engine.connect() as a, pulled.connect() as b:
            assert a.execute(query.order_by(*order)).all() == (
                b.execute(query.order_by(*order)).all()
            )
    status = warehouse.country_status(engine)[COUNTRY]
    assert status["last_method"] == "import" and status["last_status"] == "ok"


def test_a_bundle_holds_only_what_the_warehouse_would(exported):
    text = exported.decode()
    assert "-C0" not in text  # no demo child id
    assert "true_value" not in text and "contact_id" not in text
    payload = json.loads(text)["payload"]
    assert set(payload) == {
        "programme",
        "country",
        "period",
        "generated_at",
        "loader_version",
        "synthetic",
        "disclosure",
        "cells",
        "sites",
        "quality",
    }
    hidden = [s for s in payload["sites"] if not s["public_location"]]
    for site in hidden:
        assert site["name"] is site["municipality"] is site["latitude"] is None


def test_a_changed_value_breaks_the_signature_and_nothing_is_stored(
    exported, tmp_path, capsys
):
    document = json.loads(exported)
    rows = document["payload"]["cells"]["rows"]
    published = next(r for r in rows if r[-1] == "published" and r[-2])
    published[-2] += 5
    code, error, url = import_file(json.dumps(document).encode(), tmp_path, capsys)
    assert code == 1
    assert "signature does not match RS's key" in error and "nothing stored" in error
    assert stored_cells(url) == 0


def test_a_bundle_signed_with_another_key_is_rejected(exported, tmp_path, capsys):
    forged = resigned(exported, lambda payload: None, key="someone-elses-key-123")
    code, error, _ = import_file(forged, tmp_path, capsys)
    assert code == 1 and "signature does not match" in error


def first_row(payload, status="published", sensitive=True):
    sensitive_codes = {"children_reached", "attendance_visits", "referrals_out"}
    return next(
        row
        for row in payload["cells"]["rows"]
        if row[-1] == status and (row[3] in sensitive_codes) == sensitive
    )


def _set_value(value):
    return lambda payload: first_row(payload).__setitem__(-2, value)


def _suppressed_with_value(payload):
    first_row(payload, "suppressed")[-2] = 3


def _drop_cell(payload):
    payload["cells"]["rows"].pop()


def _extra_cell(payload):
    row = list(payload["cells"]["rows"][0])
    row[2] = "2012Q1"
    payload["cells"]["rows"].append(row)


def _twice(payload):
    payload["cells"]["rows"].append(list(payload["cells"]["rows"][0]))


def _hidden_site_named(payload):
    for site in payload["sites"]:
        site.update(public_location=False)
        site["name"] = site["name"] or "Safe house, 12 Secret Street"


def _not_sensitive_suppressed(payload):
    row = first_row(payload, sensitive=False)
    row[-2], row[-1] = None, "suppressed"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set_value(7), "neither 0 nor a multiple of 5 of at least 10"),
        (_set_value(12), "neither 0 nor a multiple of 5 of at least 10"),
        (_set_value(-5), "not empty or a whole number"),
        (_set_value(2.5), "not empty or a whole number"),
        (_set_value(True), "not empty or a whole number"),
        (_suppressed_with_value, "a suppressed cell carries a value"),
        (_not_sensitive_suppressed, "not sensitive is suppressed"),
        (_drop_cell, "1 missing, 0 unexpected"),
        (_extra_cell, "0 missing, 1 unexpected"),
        (_twice, "a cell appears twice"),
        (_hidden_site_named, "is not public yet the bundle carries its name"),
        (lambda p: p.update(programme="OTHER"), "bundle of programme 'OTHER'"),
        (lambda p: p.update(period=["2009Q1", "2012Q4"]), "bundle covers"),
        (
            lambda p: p.update(disclosure={"threshold": 5, "rounding_base": 1}),
            "bundle protected with",
        ),
        (lambda p: p.update(country="FR"), "no signing key for FR"),
        (lambda p: p.update(quality=[{"rule": 1}]), "data-quality count"),
    ],
)
def test_signed_but_unsafe_or_foreign_content_is_rejected(
    exported, tmp_path, capsys, change, reason
):
    data = resigned(exported, change)
    code, error, url = import_file(data, tmp_path, capsys)
    assert code == 1 and reason in error and "nothing stored" in error
    assert stored_cells(url) == 0


def test_a_bundle_whose_suppression_the_audit_can_undo_is_rejected(exported, programme):
    def narrowable(cells, programme):
        return ["a suppressed cell pinned between 3 and 4"]

    with pytest.raises(bundle.BundleError, match="could be narrowed down"):
        bundle.read_bundle(exported, programme, audit=narrowable)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG not json", "not JSON"),
        (b'{"format": "zip"}', "not a bundle"),
        (b'{"format": "ctrp-bundle", "version": 9}', "bundle version 9"),
    ],
)
def test_files_that_are_no_bundle_are_rejected(tmp_path, capsys, data, reason):
    code, error, _ = import_file(data, tmp_path, capsys)
    assert code == 1 and reason in error


def test_export_without_a_key_is_a_configuration_error(
    demo_sources, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("DASHBOARD_BUNDLE_KEY_RS")
    out = tmp_path / "rs.json"
    argv = ["export", "--sources", str(demo_sources), "--country", COUNTRY]
    assert main([*argv, "--out", str(out)]) == 2
    assert "set DASHBOARD_BUNDLE_KEY_RS" in capsys.readouterr().err
    assert not out.exists()


def test_export_of_an_unreadable_database_exits_1_with_the_reason(
    demo_sources, tmp_path, capsys
):
    broken = tmp_path / "broken.sqlite"
    sqlite3.connect(broken).close()  # an empty database: no contract tables
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[countries.ME]\nurl = "sqlite:///{broken}"\n')
    out = tmp_path / "me.json"
    argv = ["export", "--sources", str(sources), "--country", "ME"]
    assert main([*argv, "--out", str(out)]) == 1
    assert "table 'sites' does not exist" in capsys.readouterr().out
    assert not out.exists()


def test_import_bundle_is_the_api_an_upload_page_calls(exported, programme, tmp_path):
    engine = warehouse.warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    tampered = exported.replace(b'"published"', b'"suppressed"', 1)
    with pytest.raises(bundle.BundleError):
        bundle.import_bundle(engine, tampered, programme)
    assert warehouse.read_cells(engine).empty
    snapshot, payload = bundle.import_bundle(engine, exported, programme)
    assert payload["country"] == COUNTRY
    assert len(warehouse.read_cells(engine, COUNTRY)) == len(snapshot.cells)
