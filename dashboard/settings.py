"""Every setting of the dashboard, declared once: name, default, help line.

Order of precedence: an explicit argument (tests, create_app) > the environment > the
default here. Secrets come only from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from data_loaders.warehouse import DEFAULT_WAREHOUSE


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = (
    Setting(
        "DASHBOARD_WAREHOUSE_URL",
        DEFAULT_WAREHOUSE,
        "SQLAlchemy URL of the warehouse the dashboard reads",
    ),
    Setting(
        "DASHBOARD_PROGRAMME",
        "",
        "programme file (empty: the CTRP III file shipped in data_loaders)",
    ),
    Setting(
        "DASHBOARD_SOURCES",
        "var/demo/sources.toml",
        "sources file of the country databases (read by sync and by the Data status "
        "page's Run a sync; pages never open a country database)",
    ),
    Setting(
        "DASHBOARD_SECRET_KEY",
        "",
        "key signing session cookies; empty: a random key, sessions end on restart",
    ),
    Setting(
        "DASHBOARD_CACHE_URL",
        "",
        "redis://… for a cache shared by several workers; empty: in-process cache",
    ),
    Setting(
        "DASHBOARD_HTTPS",
        "",
        "1 when users reach the dashboard over HTTPS (directly or through a proxy): "
        "Secure cookies and HSTS",
    ),
    Setting(
        "DASHBOARD_IDLE_MINUTES",
        "30",
        "a session ends after this many minutes without a request",
    ),
    Setting(
        "DASHBOARD_SESSION_HOURS",
        "8",
        "a session ends this many hours after sign-in, active or not",
    ),
    Setting("HOST", "127.0.0.1", "address the development server listens on"),
    Setting("PORT", "8050", "port the development server listens on"),
)


def setting(name: str, overrides: dict | None = None) -> str:
    """The value of a declared setting: override > environment > default."""
    declared = {s.name: s for s in SETTINGS}
    if name not in declared:
        raise KeyError(f"undeclared setting {name}")
    if overrides and name in overrides:
        return overrides[name]
    return os.environ.get(name) or declared[name].default
