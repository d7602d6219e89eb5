"""Accounts (CONTRACT §10): stored in the warehouse, passwords as Argon2id hashes.

    python -m dashboard.users add NAME --role ROLE [--country CC]...
    python -m dashboard.users list | remove NAME | passwd NAME | demo

A password is read from the terminal (getpass) or, when standard input is not a
terminal, from its first line; never from the command line, where `ps` and the shell
history would keep it. Exit codes: 0 done, 2 bad input or configuration (§7).
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin

from data_loaders import audit_log
from data_loaders.warehouse import accounts, now

ROLES = ("admin", "regional_manager", "country_lead", "donor")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing a megabyte per guess would be a denial of service
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
DEMO_ACCOUNTS = (  # name, role, countries: one per role (make run)
    ("admin", "admin", ()),
    ("manager", "regional_manager", ()),
    ("lead-rs", "country_lead", ("RS",)),
    ("donor", "donor", ("BA", "ME")),
)

hasher = PasswordHasher()  # Argon2id, 64 MiB, t=3: above OWASP's minimum
# Verified when the account does not exist, so both answers take the same time.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Input a person can fix: the message says how."""


@dataclass(frozen=True, eq=False)
class Account(UserMixin):
    id: int
    username: str
    role: str
    countries: tuple[str, ...]
    session_epoch: int

    def get_id(self) -> str:
        # The epoch travels in the session: bumping it ends every older session.
        return f"{self.id}.{self.session_epoch}"


def _account(row) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=row.role,
        countries=tuple(row.countries.split()),
        session_epoch=row.session_epoch,
    )


def normalise_name(name: str) -> str:
    return str(name).strip().lower()


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )


def check_role(role: str, countries, known_countries) -> tuple[str, ...]:
    """The countries an account of `role` holds, validated (programme order kept)."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    unknown = [c for c in countries if c not in known_countries]
    if unknown:
        raise AccountError(
            f"unknown country {', '.join(unknown)}; one of {', '.join(known_countries)}"
        )
    chosen = tuple(c for c in known_countries if c in set(countries))
    if role == "country_lead" and len(chosen) != 1:
        raise AccountError("a country lead has exactly one --country")
    if role == "donor" and not chosen:
        raise AccountError("a donor needs at least one --country (or --country all)")
    if role in ("admin", "regional_manager") and chosen:
        raise AccountError(f"a {role} sees every country: give no --country")
    return chosen


def create(
    engine: sa.Engine, username: str, password: str, role: str, countries, known
) -> Account:
    name = normalise_name(username)
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(
            "an account name is 1 to 64 of a-z 0-9 . _ @ -, starting with a letter "
            "or digit"
        )
    chosen = check_role(role, countries, known)
    check_password(password)
    stamp = now()
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(accounts).values(
                    username=name,
                    password_hash=hasher.hash(password),
                    role=role,
                    countries=" ".join(chosen),
                    session_epoch=0,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
    except sa.exc.IntegrityError:
        raise AccountError(f"account {name} exists already") from None
    return find(engine, name)


def find(engine: sa.Engine, username: str) -> Account | None:
    query = sa.select(accounts).where(accounts.c.username == normalise_name(username))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return _account(row) if row else None


def load(engine: sa.Engine, session_id: str) -> Account | None:
    """The account of a session id `<id>.<epoch>`, if it still holds."""
    account_id, _, epoch = str(session_id).partition(".")
    if not (account_id.isdigit() and epoch.isdigit()):
        return None
    query = sa.select(accounts).where(accounts.c.id == int(account_id))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.session_epoch != int(epoch):
        return None
    return _account(row)


def all_accounts(engine: sa.Engine) -> list[Account]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(accounts).order_by(accounts.c.username))
        return [_account(row) for row in rows]


def authenticate(engine: sa.Engine, username: str, password: str) -> Account | None:
    """The account if the password matches; None otherwise, in the same time."""
    name = normalise_name(username)[:64]
    password = str(password)[:MAX_PASSWORD]
    query = sa.select(accounts).where(accounts.c.username == name)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    try:
        hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    values = {"last_login_at": now()}
    if hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = hasher.hash(password)
    with engine.begin() as connection:
        connection.execute(
            sa.update(accounts).where(accounts.c.id == row.id).values(**values)
        )
    return _account(row)


def end_sessions(engine: sa.Engine, account_id: int) -> None:
    """Every session of the account ends (logout, new password)."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(session_epoch=accounts.c.session_epoch + 1, updated_at=now())
        )


def set_password(engine: sa.Engine, username: str, password: str) -> None:
    check_password(password)
    account = find(engine, username)
    if account is None:
        raise AccountError(f"no account {normalise_name(username)}")
    with engine.begin() as connection:
        connection.execute(
            sa.update(accounts)
            .where(accounts.c.id == account.id)
            .values(password_hash=hasher.hash(password), updated_at=now())
        )
    end_sessions(engine, account.id)


def remove(engine: sa.Engine, username: str) -> None:
    account = find(engine, username)
    if account is None:
        raise AccountError(f"no account {normalise_name(username)}")
    with engine.begin() as connection:
        connection.execute(sa.delete(accounts).where(accounts.c.id == account.id))


def describe(account: Account) -> str:
    countries = " ".join(account.countries)
    return f"{account.role} {countries}".strip()


# -- command line ---------------------------------------------------------------


def main(argv: list[str] | None = None, stdin=None) -> int:
    from dashboard import settings
    from data_loaders.programme import ProgrammeError, load_programme
    from data_loaders.warehouse import warehouse_engine

    args = _parser().parse_args(argv)
    stdin = stdin or sys.stdin
    try:
        programme = load_programme(settings.setting("DASHBOARD_PROGRAMME") or None)
        engine = warehouse_engine(
            args.warehouse or settings.setting("DASHBOARD_WAREHOUSE_URL")
        )
        return args.command(args, engine, list(programme.countries), stdin)
    except (AccountError, ProgrammeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.users",
        description="Accounts of the dashboard. Passwords are read from the "
        "terminal, or from standard input when it is not a terminal.",
    )
    parser.add_argument(
        "--warehouse", help="warehouse URL (default DASHBOARD_WAREHOUSE_URL)"
    )
    commands = parser.add_subparsers(required=True, metavar="command")
    add = commands.add_parser("add", help="create an account (asks for a password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--country",
        action="append",
        default=[],
        help="country code (repeatable; 'all' for a donor of every country)",
    )
    add.set_defaults(command=_add)
    listing = commands.add_parser("list", help="accounts, roles and countries")
    listing.set_defaults(command=_list)
    rm = commands.add_parser("remove", help="delete an account; its sessions end")
    rm.add_argument("name")
    rm.set_defaults(command=_remove)
    passwd = commands.add_parser("passwd", help="new password; old sessions end")
    passwd.add_argument("name")
    passwd.set_defaults(command=_passwd)
    demo = commands.add_parser(
        "demo", help="one account per role with random passwords, if none exist"
    )
    demo.set_defaults(command=_demo)
    return parser


def read_password(stdin, prompt="Password: ") -> str:
    if stdin.isatty():
        import getpass

        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise AccountError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def _add(args, engine, known, stdin) -> int:
    countries = known if args.country == ["all"] else args.country
    check_role(args.role, countries, known)  # before asking for a password
    account = create(
        engine, args.name, read_password(stdin), args.role, countries, known
    )
    audit_log.record_cli(engine, "account", f"add {account.username}", "ok")
    print(f"added {account.username} ({describe(account)})")
    return 0


def _list(args, engine, known, stdin) -> int:
    for account in all_accounts(engine):
        print(f"{account.username:24} {describe(account)}")
    return 0


def _remove(args, engine, known, stdin) -> int:
    remove(engine, args.name)
    audit_log.record_cli(engine, "account", f"remove {normalise_name(args.name)}", "ok")
    print(f"removed {normalise_name(args.name)}")
    return 0


def _passwd(args, engine, known, stdin) -> int:
    if find(engine, args.name) is None:
        raise AccountError(f"no account {normalise_name(args.name)}")
    set_password(engine, args.name, read_password(stdin, "New password: "))
    audit_log.record_cli(engine, "account", f"passwd {normalise_name(args.name)}", "ok")
    print(f"new password set for {normalise_name(args.name)}; its sessions ended")
    return 0


def _demo(args, engine, known, stdin) -> int:
    if all_accounts(engine):
        print("accounts exist already: no demo account created")
        return 0
    print("Demo accounts (passwords shown this once; change one with")
    print("  .venv/bin/python -m dashboard.users passwd NAME):")
    for name, role, countries in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        account = create(engine, name, password, role, countries, known)
        audit_log.record_cli(engine, "account", f"add {name} (demo)", "ok")
        print(f"  {name:10} {password:18} {describe(account)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
