"""The sources file (CONTRACT §8a): where each country's database is and how it
names things.

A country's tables and columns may be renamed; here they are mapped back to the contract
names, so every query speaks the contract and nothing else.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from data_loaders.contract import TABLES

DEFAULT_SOURCES = Path("var/demo/sources.toml")
DEFAULT_TIMEOUT = 30
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SourcesError(ValueError):
    """Unusable sources file; the message names the file, the country, the fix."""


@dataclass(frozen=True)
class Source:
    country: str
    url: str
    timeout_seconds: float = DEFAULT_TIMEOUT
    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    synthetic: bool = False

    def table_name(self, table: str) -> str:
        return self.tables.get(table, table)

    def column_name(self, table: str, column: str) -> str:
        return self.columns.get(table, {}).get(column, column)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return sa.make_url(self.url).render_as_string(hide_password=True)


def sources_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("DASHBOARD_SOURCES") or DEFAULT_SOURCES)


def load_sources(path: Path, known_countries) -> dict[str, Source]:
    """Read and check a sources file; raise SourcesError with a fix on any problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(
            f"{path}: no such sources file; run `python -m data_loaders demo` for the "
            "demo one, or set DASHBOARD_SOURCES / --sources"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SourcesError(f"{path}: cannot read the sources file: {error}") from None
    countries = raw.get("countries")
    if not isinstance(countries, dict) or not countries:
        raise SourcesError(f"{path}: no [countries.XX] section; add one per country")
    return {
        code: _source(path, code, spec, known_countries)
        for code, spec in countries.items()
    }


def _source(path: Path, code: str, spec: dict, known_countries) -> Source:
    where = f"{path}: [countries.{code}]"
    if code not in known_countries:
        raise SourcesError(
            f"{where}: unknown country; use one of {', '.join(known_countries)}"
        )
    if "url" not in spec:
        raise SourcesError(f'{where}: no url; add url = "<SQLAlchemy URL>"')
    url = _driver(where, _expand(where, str(spec["url"])))
    tables = spec.get("tables", {})
    columns = spec.get("columns", {})
    _check_names(where, tables, columns)
    timeout = spec.get("timeout_seconds", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise SourcesError(f"{where}: timeout_seconds must be a positive number")
    return Source(
        code, url, float(timeout), tables, columns, bool(spec.get("synthetic"))
    )


# The drivers this project installs (requirements.txt), used when a URL names none.
DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
ENGINES = ("sqlite", "postgresql", "mysql", "mariadb")


def _driver(where: str, url: str) -> str:
    """Check the URL and give it a driver this project installs."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise SourcesError(
            f"{where}: the url is not a database URL; write it like "
            "postgresql+psycopg://user:${PASSWORD}@host/db"
        ) from None
    if parsed.get_backend_name() not in ENGINES:
        raise SourcesError(
            f"{where}: {parsed.get_backend_name()!r} databases are not supported; "
            "use sqlite:///path, postgresql+psycopg://... or mariadb+pymysql://..."
        )
    if parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    try:
        parsed.get_dialect()
    except (sa.exc.NoSuchModuleError, ImportError):
        raise SourcesError(
            f"{where}: no driver {parsed.drivername!r} is installed; use "
            "postgresql+psycopg:// or mariadb+pymysql://"
        ) from None
    return parsed.render_as_string(hide_password=False)


def _expand(where: str, url: str) -> str:
    """Replace ${VAR} from the environment, so no secret is written in the file.

    A variable inside the URL (a password) is percent-encoded, so '@' or '/' in it
    cannot break the URL; a variable that is the whole URL is used as it is.
    """
    whole = _VARIABLE.fullmatch(url) is not None

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourcesError(
                f"{where}: the url needs the environment variable {name}; set it "
                "before the sync (it is never written to the sources file)"
            )
        return os.environ[name] if whole else quote(os.environ[name], safe="")

    return _VARIABLE.sub(value, url)


def _check_names(where: str, tables: dict, columns: dict) -> None:
    for table in list(tables) + list(columns):
        if table not in TABLES:
            raise SourcesError(
                f"{where}: {table!r} is not a contract table; map one of "
                f"{', '.join(TABLES)}"
            )
    for table, mapping in columns.items():
        for column in mapping:
            if column not in TABLES[table]:
                raise SourcesError(
                    f"{where}: {table}.{column} is not a contract column; map one of "
                    f"{', '.join(TABLES[table])}"
                )


def check_mappings(path: Path, sources: dict[str, Source]) -> None:
    """Open each country database and check that every table and column the
    sources file maps exists there; raise SourcesError naming them all.

    A database that cannot be reached is not a configuration error: its sync will
    fail with the reason, and the others go on.
    """
    from concurrent.futures import ThreadPoolExecutor

    from data_loaders import connections

    def problems(source: Source) -> list[str]:
        if not source.tables and not source.columns:
            return []
        engine = connections.source_engine(source)
        try:
            with engine.connect() as connection:
                names = connections.inspect_names(connection, source)
        except sa.exc.SQLAlchemyError:
            return []
        finally:
            engine.dispose()
        return connections.schema_problems(source, names, mapped_only=True)

    with ThreadPoolExecutor(max_workers=min(8, len(sources) or 1)) as pool:
        found = dict(zip(sources, pool.map(problems, sources.values()), strict=True))
    lines = [
        f"{path}: [countries.{code}]: {problem}"
        for code, country_problems in found.items()
        for problem in country_problems
    ]
    if lines:
        raise SourcesError("\n".join(lines))
