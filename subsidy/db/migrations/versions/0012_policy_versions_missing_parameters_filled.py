"""stored policy versions brought up to date: every missing parameter that has a default is filled in

Revision ID: 0012
Revises: 0009a, 0010, 0011

A version stored before a parameter existed lacks its key; the code reads the default for it
(`subsidy.policy.versions.version_from_json`), but `GET /api/v1/policies` listed the row as stored. Each row's
missing keys are filled with their defaults (`with_defaults`): keys are only added, a value that is there is never
changed, so what workflows pinned (their copy is in their histories) and what they read stay the same. Each filled
row gets an audit record `policy_parameters_filled` (actor "system") naming the version and every path filled with
its value. It reads the defaults of the code it runs with, which never change once released; a database already
past this revision gets a parameter added later from a new revision that calls `with_defaults` again.

Downgrade leaves the filled keys: the code before this revision reads a filled key exactly as it read the default
for its absence, and the audit log keeps its records.
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from subsidy.policy.versions import with_defaults

revision = "0012"
down_revision = ("0009a", "0010", "0011")
branch_labels = None
depends_on = None

AUDIT_KIND = "policy_parameters_filled"

# The audit chain's constants and hash, as `subsidy.db.audit_chain` has them (copied: a migration must not depend on
# code that moves; the chain's format never changes, or every stored hash would break).
GENESIS = "0" * 64
_CHAIN_LOCK = 0x5B51D1

_policy_versions = sa.table("policy_versions", sa.column("code", sa.String), sa.column("parameters", JSONB))
_audit_log = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String),
    sa.column("actor", sa.String),
    sa.column("application_id"),
    sa.column("detail", JSONB),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_policy_versions.c.code, _policy_versions.c.parameters)
        .order_by(_policy_versions.c.code)
        .with_for_update()
    ).all()
    for code, parameters in rows:
        if not isinstance(parameters, dict):
            continue  # not a version at all: nothing to fill, and the loader names it when it is read
        completed, paths = with_defaults(parameters)
        if not paths:
            continue
        connection.execute(
            _policy_versions.update().where(_policy_versions.c.code == code).values(parameters=completed)
        )
        filled = [{"path": path, "value": _at(completed, path)} for path in paths]
        _append_audit(connection, {"code": code, "filled": filled, "revision": revision})


def downgrade() -> None:
    pass


def _at(data: dict, path: str) -> object:
    for key in path.split("."):
        data = data[key]
    return data


def _append_audit(connection: sa.Connection, detail: dict) -> None:
    """As `subsidy.db.audit_chain.append_audit`, on the migration's connection: the chain stays verifiable."""
    at = datetime.now(UTC)
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev = connection.scalar(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")) or GENESIS
    clean = json.loads(json.dumps(detail, default=str, ensure_ascii=False))
    digest = record_hash(prev_hash=prev, at=at, kind=AUDIT_KIND, actor="system", application_id=None, detail=clean)
    connection.execute(
        _audit_log.insert().values(
            at=at,
            kind=AUDIT_KIND,
            actor="system",
            application_id=None,
            detail=clean,
            prev_hash=prev,
            hash=digest,
        )
    )


def record_hash(
    *, prev_hash: str, at: datetime, kind: str, actor: str, application_id: object, detail: dict
) -> str:
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "kind": kind,
            "actor": actor,
            "application_id": str(application_id) if application_id else None,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
