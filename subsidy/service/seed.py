"""Seed data: the policy versions of POLICY.md (always) and the demo accounts of API.md (embedded mode only)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.security import hash_password
from subsidy.db.models import PolicyVersionRow, User
from subsidy.policy.files import shipped_versions
from subsidy.programs.account_registration.activities import create_bound_account

log = logging.getLogger("subsidy.seed")

DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    county: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("applicant-a", "申请人甲", ("applicant",)),
    DemoAccount("applicant-b", "申请人乙", ("applicant",)),
    DemoAccount("applicant-c", "申请人丙", ("applicant",)),
    DemoAccount("employer-a", "用人单位甲", ("employer",)),
    DemoAccount("provider-a", "培训机构甲", ("provider",)),
    DemoAccount("agency-a", "劳务派遣机构甲", ("agency",)),
    DemoAccount("dpf-150203-a", "昆都仑区残联 审核员甲", ("county_dpf",), "150203"),
    DemoAccount("dpf-150203-b", "昆都仑区残联 审核员乙", ("county_dpf",), "150203"),
    DemoAccount("dpf-150204-a", "青山区残联 审核员甲", ("county_dpf",), "150204"),
    DemoAccount("hr-150203-a", "昆都仑区人社局 审核员甲", ("county_hr",), "150203"),
    DemoAccount("city-a", "市残联 审核员甲", ("city_dpf",)),
    DemoAccount("city-b", "市残联 审核员乙", ("city_dpf",)),
    DemoAccount("region-a", "自治区人社厅 备案员", ("region_hr",)),
    DemoAccount("finance-150203-a", "昆都仑区残联 财务甲", ("finance",), "150203"),
    DemoAccount("finance-150203-b", "昆都仑区残联 财务乙", ("finance",), "150203"),
    DemoAccount("finance-city-a", "市残联 财务甲", ("finance",)),
    DemoAccount("finance-city-b", "市残联 财务乙", ("finance",)),
    DemoAccount("auditor-a", "审计人员甲", ("auditor",)),
    DemoAccount("admin-a", "系统管理员甲", ("admin",)),
)


@dataclass(frozen=True)
class DemoBinding:
    """Whom a demo account acts for: valid identifiers of made-up people and organisations."""

    kind: str
    name: str
    identifier: str
    county: str
    disability_cert_number: str | None = None


DEMO_BINDINGS = {
    "applicant-a": DemoBinding("person", "张三", "150203198503121234", "150203", "15020319850312123442"),
    "applicant-b": DemoBinding("person", "李四", "150204197908252461", "150204", "15020419790825246131"),
    # A made-up blind massage practitioner: certificate category 1 (visual), grade 2.
    "applicant-c": DemoBinding("person", "王五", "150203197804152312", "150203", "15020319780415231212"),
    "employer-a": DemoBinding("employer", "包头市昆都仑区示例社区服务中心", "91150203MA0E00001Y", "150203"),
    "provider-a": DemoBinding("provider", "包头市示例职业技能培训学校", "52150203MA0P00002A", "150203"),
    "agency-a": DemoBinding("agency", "包头市示例劳务派遣有限公司", "91150203MA0A00003T", "150203"),
}


async def seed_policies(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Load the shipped version files (subsidy/policy/shipped) through the administrator's loader, approved by
    "system": they are the baseline. A version already in the database is left as it is (it may be pinned). The
    shipped minimum wage standards (subsidy/policy/shipped/minimum-wage.yaml) are seeded the same way."""
    from subsidy.api.errors import ServiceError
    from subsidy.api.policy_versions import SYSTEM, load_version
    from subsidy.db.minimum_wages import seed_minimum_wages
    from subsidy.db.plans import seed_plans

    async with sessions.begin() as session:
        await seed_minimum_wages(session)
        await seed_plans(session)
    for name, version in shipped_versions():
        async with sessions.begin() as session:
            if await session.get(PolicyVersionRow, version.code) is not None:
                continue
            try:
                await load_version(session, version, loaded_by=SYSTEM, roles=(), source=name, approved_by_system=True)
            except ServiceError as refused:  # a deployment's own approved version covers that window already
                log.warning("shipped policy version %s not seeded: %s", version.code, refused.detail)
                await session.rollback()


async def seed_demo_accounts(sessions: async_sessionmaker[AsyncSession]) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    async with sessions.begin() as session:
        for account in DEMO_ACCOUNTS:
            await session.execute(
                insert(User)
                .values(
                    username=account.username,
                    display_name=account.display_name,
                    password_hash=password_hash,
                    roles=list(account.roles),
                    county=account.county,
                )
                .on_conflict_do_nothing(index_elements=[User.username])
            )
            bound = DEMO_BINDINGS.get(account.username)
            if bound is not None:
                await create_bound_account(
                    session,
                    username=account.username,
                    password_hash=password_hash,
                    kind=bound.kind,
                    name=bound.name,
                    identifier=bound.identifier,
                    county=bound.county,
                    disability_cert_number=bound.disability_cert_number,
                )
