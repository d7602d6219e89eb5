"""The one place that decides what a request may see and change.

Every page, callback and export asks here; nothing else filters by country for
permission's sake. Until accounts exist every request sees every country and may
change nothing.
"""

from __future__ import annotations

from dashboard.data import warehouse


def visible_countries() -> list[str]:
    """Country codes the current request may see, in programme order."""
    return list(warehouse().programme.countries)


def can_see(country: str) -> bool:
    return country in visible_countries()


def can_change(country: str) -> bool:
    """Whether the current request may edit targets and notes of `country`."""
    return False
