"""`subsidy accounts …`: the administrators' account work from a shell, the same rules as the API and the pages.

Every change names the administrator making it (`--as`, an enabled account with the role `admin`), which is what the
audit log records; an administrator cannot act on their own account.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from subsidy.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    accounts = commands.add_parser("accounts", help="administrators: create, list, disable, enable, reset accounts")
    actions = accounts.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new account; prints its one-time password")
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, dest="roles", help="a role (repeat for more)")
    create.add_argument("--county", help="6-digit county code, for county roles")
    create.add_argument("--name", help="the name shown on the pages (default: the user name)")
    listing = actions.add_parser("list", help="accounts whose user name or name contains QUERY")
    listing.add_argument("query", nargs="?", default="")
    waiting = actions.add_parser("registrations", help="registrations waiting for the County DPF's verification")
    waiting.add_argument("--county", help="6-digit county code (default: every county)")
    for action, text in (
        ("disable", "refuse sign-in and end every session now"),
        ("enable", "allow sign-in again"),
        ("reset-password", "a new one-time password; ends every session"),
    ):
        actions.add_parser(action, help=text).add_argument("username")
    for name, parser in actions.choices.items():
        if name not in ("list", "registrations"):
            parser.add_argument("--as", dest="admin", required=True, help="your own administrator account")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from subsidy.api import admin_accounts
    from subsidy.api.account_schemas import AccountIn
    from subsidy.api.errors import ServiceError
    from subsidy.api.security import Identity
    from subsidy.db.models import User
    from subsidy.db.session import create_engine, session_factory
    from subsidy.service.auditing import embedded_database_url

    url = settings.database_url or embedded_database_url(settings)
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine).begin() as db:
            if args.action == "list":
                users, total = await admin_accounts.list_accounts(db, args.query, 500, 0)
                for user in users:
                    state = "disabled" if user.disabled_at else ("must-change" if user.must_change_password else "")
                    print(f"{user.username:<24} {','.join(user.roles):<24} {user.county or '-':<7} {state}".rstrip())
                print(f"{total} accounts")
                return 0
            if args.action == "registrations":
                return await _registrations(db, args.county)
            admin = await db.scalar(select(User).where(User.username == args.admin))
            if admin is None or admin.disabled_at is not None or "admin" not in admin.roles:
                print(f"subsidy accounts: {args.admin!r} is not an enabled administrator account", file=sys.stderr)
                return 2
            acting = Identity(admin.username, tuple(admin.roles), admin.county)
            if args.action == "create":
                body = AccountIn(username=args.username, roles=args.roles, county=args.county, display_name=args.name)
                made = await admin_accounts.create_account(db, acting, body)
                print(f"{made.username}: one-time password {made.one_time_password}")
            elif args.action == "reset-password":
                made = await admin_accounts.reset_password(db, acting, args.username)
                print(f"{made.username}: one-time password {made.one_time_password}")
            elif args.action == "disable":
                await admin_accounts.disable_account(db, acting, args.username)
                print(f"{args.username}: disabled")
            else:
                await admin_accounts.enable_account(db, acting, args.username)
                print(f"{args.username}: enabled")
            return 0
    except ValidationError as invalid:
        for problem in invalid.errors():
            print(f"subsidy accounts: {'.'.join(map(str, problem['loc']))}: {problem['msg']}", file=sys.stderr)
        return 1
    except ServiceError as refused:
        print(f"subsidy accounts: {refused.detail}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def _registrations(db: object, county: str | None) -> int:
    """One line per registration waiting for verification, the longest waiting first (names and ID numbers masked)."""
    from datetime import UTC, datetime

    from subsidy.api.pending_registrations import pending_registrations, waited_parts
    from subsidy.policy.counties import BAOTOU_COUNTIES

    if county is not None and county not in BAOTOU_COUNTIES:
        print(f"subsidy accounts: {county!r} is not a county of Baotou", file=sys.stderr)
        return 1
    waiting = await pending_registrations(db, county, datetime.now(UTC))  # type: ignore[arg-type]
    for row in waiting:
        days, hours, minutes = waited_parts(row.waited_seconds)
        due = f"due {row.task_due_at:%Y-%m-%d}" if row.task_due_at else "no due date"
        held = f"held by {row.task_held_by}" if row.task_held_by else "not claimed"
        line = (
            f"{row.submitted_at:%Y-%m-%d %H:%M} waited {days}d {hours}h {minutes}m  {row.username:<20} {row.kind:<8} "
            f"{row.name} {row.id_number_masked or row.credit_code} {row.county}  {due}, {held}"
        )
        print(line + ("  OVERDUE: waited past its due date" if row.overdue else ""))
    print(f"{len(waiting)} registrations waiting for verification")
    return 0
