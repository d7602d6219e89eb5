"""The sources file (CONTRACT §8a): mappings work, and a bad file stops with exit 2,
a message naming the file, the country and the fix, and no change to the warehouse."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_loaders import warehouse
from data_loaders.__main__ import main
from data_loaders.sources import load_sources
from tests.servers import copy_warehouse


def demo_db(demo_sources: Path, country: str) -> Path:
    return demo_sources.parent / f"demo-{country}.sqlite"


def write_sources(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def renamed_rs(demo_sources, tmp_path_factory) -> Path:
    """RS's demo database as a country that named things its own way."""
    path = tmp_path_factory.mktemp("renamed") / "rs-renamed.sqlite"
    shutil.copy(demo_db(demo_sources, "RS"), path)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE contacts RENAME TO ctrp_visits")
        db.execute("ALTER TABLE ctrp_visits RENAME COLUMN contact_date TO visit_date")
        db.execute("ALTER TABLE children RENAME COLUMN sex TO gender")
    db.close()
    return path


def mapped(path: Path, table="ctrp_visits", column="visit_date") -> str:
    return f"""
[countries.RS]
url = "sqlite:///{path}"
[countries.RS.tables]
contacts = "{table}"
[countries.RS.columns.contacts]
contact_date = "{column}"
[countries.RS.columns.children]
sex = "gender"
"""


def cells_of(url: str, country: str):
    return (
        warehouse.read_cells(warehouse.warehouse_engine(url), country)
        .drop(columns="country")
        .reset_index(drop=True)
    )


def test_renamed_tables_and_columns_map_back_to_the_same_cells(
    renamed_rs, demo_sources, tmp_path, synced_warehouse
):
    sources = write_sources(tmp_path / "sources.toml", mapped(renamed_rs))
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert main(["sync", "--sources", str(sources), "--warehouse", url]) == 0
    assert cells_of(url, "RS").equals(cells_of(synced_warehouse, "RS"))


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("ctrp_contacts", "visit_date", "table 'ctrp_contacts' (mapped from contacts)"),
        ("ctrp_visits", "visited_on", "column contacts.visited_on (mapped from"),
    ],
)
def test_a_mapping_to_a_missing_name_stops_before_the_warehouse_changes(
    renamed_rs, tmp_path, capsys, table, column, expected
):
    sources = write_sources(tmp_path / "s.toml", mapped(renamed_rs, table, column))
    target = tmp_path / "w.sqlite"
    argv = ["sync", "--sources", str(sources), "--warehouse", f"sqlite:///{target}"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert str(sources) in error and "[countries.RS]" in error
    assert expected in error and "fix [countries.RS." in error
    assert not target.exists(), "exit 2 must leave the warehouse untouched"


def test_a_bad_mapping_leaves_an_existing_warehouse_exactly_as_it_was(
    renamed_rs, tmp_path, synced_warehouse
):
    copy = tmp_path / "copy.sqlite"
    copy_warehouse(synced_warehouse, copy)
    before = copy.read_bytes()
    sources = write_sources(tmp_path / "s.toml", mapped(renamed_rs, "nope"))
    assert main(["sync", "--sources", str(sources), "--warehouse", f"sqlite:///{copy}"])
    assert copy.read_bytes() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[countries.FR]\nurl = "sqlite:///x"\n', "[countries.FR]: unknown country"),
        ('[countries.RS]\nurl = "not a url"\n', "[countries.RS]: the url is not"),
        (
            '[countries.RS]\nurl = "postgresql+psycopg://u:${NO_SUCH_VAR_3}@h/db"\n',
            "needs the environment variable NO_SUCH_VAR_3",
        ),
        ('[countries.RS]\nurl = "oracle://u@h/db"\n', "'oracle' databases are not"),
        ("[countries.RS]\n", '[countries.RS]: no url; add url = "'),
        (
            '[countries.RS]\nurl = "sqlite:///x"\ntimeout_seconds = -1\n',
            "timeout_seconds must be a positive number",
        ),
        (
            '[countries.RS]\nurl = "sqlite:///x"\n'
            '[countries.RS.tables]\nvisits = "v"\n',
            "'visits' is not a contract table",
        ),
        ("not toml at all [", "cannot read the sources file"),
        ("[other]\n", "no [countries.XX] section"),
    ],
)
def test_bad_sources_files_exit_2_with_file_country_and_fix(
    tmp_path, capsys, body, expected
):
    sources = write_sources(tmp_path / "bad.toml", body)
    target = tmp_path / "w.sqlite"
    argv = ["sync", "--sources", str(sources), "--warehouse", f"sqlite:///{target}"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert str(sources) in error and expected in error
    assert not target.exists()


def test_missing_sources_file_says_how_to_make_one(tmp_path, capsys):
    assert main(["sync", "--sources", str(tmp_path / "none.toml")]) == 2
    assert "python -m data_loaders demo" in capsys.readouterr().err


def test_secrets_come_from_the_environment_and_drivers_are_filled_in(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("RS_DB_PASSWORD", "s3cret/with:odd@chars")
    sources = write_sources(
        tmp_path / "s.toml",
        """
[countries.RS]
url = "mariadb://reader:${RS_DB_PASSWORD}@10.1.2.3/cases"
timeout_seconds = 12
[countries.ME]
url = "postgresql://reader:${RS_DB_PASSWORD}@10.1.2.4/cases"
""",
    )
    loaded = load_sources(sources, ["RS", "ME"])
    url = sa.make_url(loaded["RS"].url)
    assert url.drivername == "mariadb+pymysql"
    assert url.password == "s3cret/with:odd@chars"
    assert loaded["RS"].timeout_seconds == 12
    assert "s3cret" not in loaded["RS"].safe_url
    assert sa.make_url(loaded["ME"].url).get_dialect().driver == "psycopg"


def test_sync_of_a_country_not_in_the_file_is_refused(demo_sources, capsys):
    argv = ["sync", "--sources", str(demo_sources), "--country", "FR"]
    assert main(argv) == 2
    assert "no [countries.FR] to sync" in capsys.readouterr().err
