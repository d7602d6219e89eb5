"""The one place that decides which countries a request may see.

Every page, callback and export asks `visible_countries()`; nothing else filters by
country for permission's sake.
"""

from __future__ import annotations

from dashboard.data import warehouse


def visible_countries() -> list[str]:
    """Country codes the current request may see, in programme order."""
    return list(warehouse().programme.countries)
