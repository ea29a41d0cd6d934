"""`subsidy policy load FILE --as USER`, `approve ID --as USER`, `reject ID --as USER --reason …`, `list`.

The same rules as the API and the admin page (subsidy.api.policy_versions): the user named by `--as` must exist
and hold the role (load: admin; approve and reject: admin or city_dpf), and an approval needs a different user from
the loader. Against a running `subsidy up` when DATABASE_URL is unset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select

from subsidy.api import policy_versions
from subsidy.api.errors import ServiceError
from subsidy.db.models import PolicyVersionRow, User
from subsidy.db.session import create_engine, session_factory
from subsidy.settings import Settings


def add_policy_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = commands.add_parser("policy", help="policy versions: load a file (pending), approve or reject, list")
    actions = policy.add_subparsers(dest="policy_command", required=True)
    load = actions.add_parser("load", help="load a version file (YAML or JSON) as pending; prints the difference")
    load.add_argument("file", type=Path)
    load.add_argument("--as", dest="username", required=True, help="the administrator loading it (role admin)")
    approve = actions.add_parser("approve", help="approve a pending version (a second official: admin or city_dpf)")
    approve.add_argument("id", help="the version's id (its code)")
    approve.add_argument("--as", dest="username", required=True)
    reject = actions.add_parser("reject", help="reject a pending version")
    reject.add_argument("id")
    reject.add_argument("--as", dest="username", required=True)
    reject.add_argument("--reason", required=True)
    actions.add_parser("list", help="every version: status, window, loaded by, approved by")


async def policy_command(settings: Settings, args: argparse.Namespace) -> int:
    from subsidy.service.auditing import embedded_database_url

    engine = create_engine(settings.database_url or embedded_database_url(settings), pool_size=2)
    try:
        async with session_factory(engine)() as session:
            if args.policy_command == "list":
                for row in await policy_versions.listed(session):
                    _print_row(row)
                return 0
            user = await session.scalar(select(User).where(User.username == args.username))
            if user is None:
                print(f"subsidy policy: no user {args.username}", file=sys.stderr)
                return 2
            try:
                if args.policy_command == "load":
                    return await _load(session, args.file, user)
                if args.policy_command == "approve":
                    row = await policy_versions.approve_version(
                        session, args.id, username=user.username, roles=user.roles
                    )
                else:
                    row = await policy_versions.reject_version(
                        session, args.id, username=user.username, roles=user.roles, reason=args.reason
                    )
            except ServiceError as refused:
                await session.rollback()
                _print_refusal(refused)
                return 1
            await session.commit()
            _print_row(row)
            return 0
    finally:
        await engine.dispose()


async def _load(session, file: Path, user: User) -> int:  # type: ignore[no-untyped-def]
    if not file.is_file():
        print(f"subsidy policy load: no file {file}", file=sys.stderr)
        return 2
    try:
        version = policy_versions.check_file(file.read_bytes(), file.name)
        row = await policy_versions.load_version(
            session, version, loaded_by=user.username, roles=user.roles, source=file.name
        )
    except ServiceError as refused:
        await session.rollback()
        _print_refusal(refused)
        return 1
    await session.commit()
    print(f"loaded {row.code} as pending ({_window(row)}); it applies once another official approves it:")
    print(f"  subsidy policy approve {row.code} --as USERNAME")
    for change in row.difference or []:
        print(f"  {change['path']}: {change['in_force']} -> {change['proposed']}")
    return 0


def _window(row: PolicyVersionRow) -> str:
    return f"{row.valid_from.isoformat()} to {row.valid_to.isoformat() if row.valid_to else 'no end'}"


def _print_row(row: PolicyVersionRow) -> None:
    approved = f"approved by {row.approved_by}" if row.approved_by else ""
    rejected = f"rejected by {row.rejected_by}" if row.rejected_by else ""
    print(f"{row.code}\t{row.status}\t{_window(row)}\tloaded by {row.loaded_by}\t{approved or rejected}".rstrip())


def _print_refusal(refused: ServiceError) -> None:
    if isinstance(refused.detail, list):
        for item in refused.detail:
            path = ".".join(str(part) for part in item["loc"][1:]) or "file"
            print(f"subsidy policy: {path}: {item['msg']}", file=sys.stderr)
    else:
        print(f"subsidy policy: {refused.detail}", file=sys.stderr)
