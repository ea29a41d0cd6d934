"""The applicant submits on the pages while the workflow engine is away: the application is saved, the page says so
and says that nothing more is needed (the worker's starter starts it, tests/faults/test_temporal_restart.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.models import Application
from subsidy.service.embedded import installed_binary
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.conftest import account_for, forget_failed_sign_ins, party_of, running_service
from tests.helpers import rent_form
from tests.hostile.pages import csrf_token, page_login


@pytest.fixture
async def engine_gone(database_url: str) -> AsyncIterator[str]:
    """The API and pages, with a client of a Temporal server that has been shut down (and no worker)."""
    temporal = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
    )
    await temporal.shutdown()
    # Cookies without the Secure flag, so that an HTTP client on http://127.0.0.1 sends them back like a browser.
    async with running_service(database_url, temporal, worker=False, SUBSIDY_COOKIE_SECURE=False) as url:
        yield url


def flat(form: dict[str, object]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for group, values in form.items():
        if isinstance(values, dict):
            fields.update({f"{group}.{name}": str(value) for name, value in values.items()})
        elif group != "program":
            fields[group] = str(values)
    return fields


@pytest.mark.timeout(120)
async def test_a_page_submission_while_the_engine_is_away_is_saved_and_says_so(
    engine_gone: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await forget_failed_sign_ins(sessions)
    body = rent_form()
    kind, identifier, name, cert, county = party_of(body)
    applicant = await account_for(sessions, kind, identifier, name=name, disability_cert_number=cert, county=county)
    async with httpx.AsyncClient(base_url=engine_gone, timeout=60) as browser:
        assert (await page_login(browser, applicant)).status_code == 303
        form_page = await browser.get("/apply/rent-subsidy")
        key = re.search(r'name="submission_key" value="([^"]+)"', form_page.text)
        assert key is not None
        sent = await browser.post(
            "/apply/rent-subsidy/confirm",
            data={**flat(body), "submission_key": key.group(1), "csrf_token": csrf_token(form_page.text)},
        )
        assert sent.status_code == 303, sent.text[:2000]
        location = sent.headers["location"]
        match = re.fullmatch(r"/my/applications/([0-9a-f-]{36})\?saved=1", location)
        assert match, location
        page = await browser.get(location)
    assert page.status_code == 200
    assert "您的申请已保存。系统恢复后将自动开始审核，无需重新提交。" in page.text
    async with sessions() as session:
        application = await session.get(Application, uuid.UUID(match.group(1)))
    assert application is not None
    assert application.status == "submitted" and application.submitted_by == applicant
    assert application.idempotency_key == f"page-{key.group(1)}"
