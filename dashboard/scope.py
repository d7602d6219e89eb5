"""The one place that decides what a request may see and do (CONTRACT §10).

Every page, callback and export asks here; nothing else filters by country for
permission's sake. Default deny: no account, an unknown action or an unknown country
is refused. A refusal goes through `deny`: one audit record, then 403.

    role              sees                may change, may do
    admin             every country       all a regional manager may, and accounts
    regional_manager  every country       targets, notes of any country; sync, import
    country_lead      every country       targets, notes of its country; import its own
    donor             its countries only  nothing; may export what it sees
"""

from __future__ import annotations

from flask import abort, has_request_context
from flask_login import current_user

from dashboard.data import warehouse

ACTIONS = (
    "edit",  # targets and notes of one country
    "run_sync",
    "import_bundle",  # of one country
    "export",  # what the account sees
    "read_audit",
    "manage_accounts",
)
_MANAGERS = ("admin", "regional_manager")


def current_account():
    """The signed-in account of this request, or None."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def visible_countries() -> list[str]:
    """Country codes the current request may see, in programme order."""
    account = current_account()
    if account is None:
        return []
    countries = list(warehouse().programme.countries)
    if account.role == "donor":
        return [c for c in countries if c in account.countries]
    return countries


def can_see(country) -> bool:
    return isinstance(country, str) and country in visible_countries()


def can_change(country) -> bool:
    """Whether the current request may edit targets and notes of `country`."""
    return can("edit", country)


def can(action: str, country=None) -> bool:
    """Whether the current account may do `action` (on `country`, where it applies)."""
    account = current_account()
    if account is None or action not in ACTIONS:
        return False
    known = warehouse().programme.countries
    if country is not None and not (isinstance(country, str) and country in known):
        return False
    role = account.role
    if action in ("edit", "import_bundle"):
        if role in _MANAGERS:
            return action == "import_bundle" or country is not None
        return role == "country_lead" and country in account.countries
    if action == "export":
        return country is None or can_see(country)
    if action in ("run_sync", "read_audit"):
        return role in _MANAGERS
    return action == "manage_accounts" and role == "admin"


def can_open(page: dict) -> bool:
    """Whether a page of `dash.page_registry` is open to the current account.

    A page says who may open it with `register_page(..., roles=(...))`; without
    `roles` every signed-in account may.
    """
    account = current_account()
    if account is None:
        return False
    roles = page.get("roles")
    return roles is None or account.role in roles


def require(action: str, country=None, target: str = "") -> None:
    """Go on if allowed; otherwise one audit record and 403."""
    if not can(action, country):
        deny(target or f"{action} {country or ''}".strip())


def require_see(country, target: str = "") -> None:
    """Go on if `country` is visible; otherwise one audit record and 403."""
    if not can_see(country):
        deny(target or f"see {str(country)[:20]}")


def deny(target: str, action: str = "denial"):
    """Record the refusal, then answer 403 (raises)."""
    from dashboard import audit

    audit.record(action, target, "denied")
    abort(403)


def describe(account=None) -> str:
    """The scope of an account in words, for the audit log."""
    account = account or current_account()
    if account is None:
        return "none"
    if account.role == "donor":
        return "sees " + " ".join(account.countries)
    if account.role == "country_lead":
        return "sees all; changes " + " ".join(account.countries)
    return "all"


def describe_role(account) -> str:
    """The role as the navbar shows it: 'country lead RS', 'donor BA ME'."""
    words = account.role.replace("_", " ")
    return f"{words} {' '.join(account.countries)}".strip()
