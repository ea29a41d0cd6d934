"""Money that really leaves (issue 18) over HTTP: due months, batches with four eyes, the bank file and its result,
a failure corrected by the payee, reconciliation and a recovery after a closure reported late.

The database is shared by the session: other tests leave due payments in 150203, so a batch holds more than this
test's lines; each test reads its own lines by application id."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.audit_chain import verify_chain
from subsidy.db.models import AuditRecord, LedgerEntry
from subsidy.service.seed import DEMO_ACCOUNTS
from tests.api.conftest import Login
from tests.api.test_rent_subsidy_api import open_task, submit
from tests.conftest import Acting
from tests.helpers import months_ago, new_resident_id, rent_form

UP_TO = "2100-12"  # every period due so far


async def approved_rent(
    http: httpx.AsyncClient, login: Login, acting: Acting, months: int = 14, id_number: str | None = None
) -> tuple[str, dict[str, str]]:
    """A rent subsidy approved `months` months after its licence: that many months due at once."""
    body = rent_form(monthly_rent="1200.00", license_date=months_ago(months, days=1), id_number=id_number)
    applicant, official = await acting(body), await login("dpf-150203-b")
    created = await submit(http, applicant, key=f"pay-{uuid.uuid4()}", body=body)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    task = await open_task(http, official, application_id)
    decided = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    for _ in range(200):
        found = await payments_of(http, applicant, application_id)
        if len(found) == 2 * months:
            return application_id, applicant
        await asyncio.sleep(0.1)
    raise AssertionError("the months did not become due")


async def payments_of(
    http: httpx.AsyncClient, headers: dict[str, str], application_id: str, **filters: str
) -> list[dict[str, Any]]:
    response = await http.get(
        "/api/v1/payments", params={"application_id": application_id, "limit": 200, **filters}, headers=headers
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def build(http: httpx.AsyncClient, headers: dict[str, str], funder: str = "county") -> httpx.Response:
    return await http.post(
        "/api/v1/payment-batches",
        json={"funder": funder, "county": "150203", "up_to_period": UP_TO},
        headers=headers,
    )


def bank_lines(content: str, application_id: str) -> list[dict[str, str]]:
    return [row for row in csv.DictReader(io.StringIO(content)) if row["application_id"] == application_id]


def result_file(lines: list[tuple[str, str, str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([("reference", "result", "reason"), *lines])
    return out.getvalue().encode()


async def send(
    http: httpx.AsyncClient, builder: dict[str, str], approver: dict[str, str], funder: str = "county"
) -> tuple[str, str]:
    """Build, approve and download: the batch id and its bank file."""
    built = await build(http, builder, funder)
    assert built.status_code == 201, built.text
    batch_id = built.json()["id"]
    assert (await http.post(f"/api/v1/payment-batches/{batch_id}/approve", headers=approver)).status_code == 200
    downloaded = await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=builder)
    assert downloaded.status_code == 200
    return batch_id, downloaded.text


async def test_a_rent_subsidy_goes_from_due_to_paid_through_two_batches_and_a_corrected_account(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    application_id, applicant = await approved_rent(http, login, acting)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    county_shares = await payments_of(http, applicant, application_id, funder="county")
    assert len(county_shares) == 14 and {p["status"] for p in county_shares} == {"due"}
    assert {p["amount"] for p in county_shares} == {"500.00"}
    shown = (await http.get(f"/api/v1/applications/{application_id}", headers=applicant)).json()
    assert [m["status"] for m in shown["schedule"]].count("due") == 14
    assert (shown["totals"]["due"], shown["totals"]["paid"]) == ("14000.00", "0.00")

    built = await build(http, a)
    assert built.status_code == 201, built.text
    batch = built.json()
    assert batch["status"] == "built" and batch["lines"] >= 14
    assert Decimal(batch["total"]) >= Decimal("7000.00")
    batch_id = batch["id"]
    too_early = await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=a)
    assert too_early.status_code == 409
    own = await http.post(f"/api/v1/payment-batches/{batch_id}/approve", headers=a)
    assert own.status_code == 403 and "second" in own.text
    approved = await http.post(f"/api/v1/payment-batches/{batch_id}/approve", headers=b)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await build(http, a)).status_code == 409  # nothing due is left outside a batch

    downloaded = await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=a)
    assert downloaded.status_code == 200 and downloaded.headers["content-type"].startswith("text/csv")
    header = downloaded.text.splitlines()[0]
    assert header == "reference,payee_name,account,amount,application_id,period,funder,county"
    lines = bank_lines(downloaded.text, application_id)
    assert len(lines) == 14 and len({line["reference"] for line in lines}) == 14
    assert {(line["amount"], line["funder"], line["account"]) for line in lines} == {
        ("500.00", "county", "6222020000000000000")
    }
    assert {p["status"] for p in await payments_of(http, applicant, application_id, funder="county")} == {"sent"}

    failing = lines[3]["reference"]
    first_result = result_file(
        [(line["reference"], "paid", "") for line in lines if line["reference"] != failing]
        + [(failing, "failed", "账户已销户 account closed")]
    )
    settled = await http.post(
        f"/api/v1/payment-batches/{batch_id}/bank-result",
        content=first_result,
        headers={**a, "content-type": "text/csv"},
    )
    assert settled.status_code == 200, settled.text
    assert settled.json() == {"paid": 13, "failed": 1, "unchanged": 0}
    again = await http.post(
        f"/api/v1/payment-batches/{batch_id}/bank-result",
        content=first_result,
        headers={**a, "content-type": "text/csv"},
    )
    assert again.json() == {"paid": 0, "failed": 0, "unchanged": 14}
    shares = {p["reference"]: p for p in await payments_of(http, applicant, application_id, funder="county")}
    assert [p["status"] for p in shares.values()].count("paid") == 13
    assert shares[failing]["status"] == "failed" and shares[failing]["failure_reason"] == "账户已销户 account closed"
    month = (await http.get(f"/api/v1/applications/{application_id}", headers=applicant)).json()["schedule"]
    assert [m["status"] for m in month[:14]].count("failed") == 1

    tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=a)).json()
    failed_task = next(t for t in tasks if t["step"] == "payment_failed")
    assert failed_task["role"] == "finance" and failed_task["county"] == "150203"
    refused = await http.post(f"/api/v1/tasks/{failed_task['id']}/decision", json={"decision": "approve"}, headers=a)
    assert refused.status_code == 409
    city_finance = await login("finance-city-a")
    city_tasks = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=city_finance)
    assert [t for t in city_tasks.json() if t["step"] == "payment_failed"] == []  # the county's share, not the city's

    stranger = await http.post(
        f"/api/v1/applications/{application_id}/bank-account",
        json={"bank_account": "6222020000000000001"},
        headers=await login("applicant-b"),
    )
    assert stranger.status_code == 404
    bad = await http.post(
        f"/api/v1/applications/{application_id}/bank-account", json={"bank_account": "12ab"}, headers=applicant
    )
    assert bad.status_code == 422
    corrected = await http.post(
        f"/api/v1/applications/{application_id}/bank-account",
        json={"bank_account": "6222020000000000099"},
        headers=applicant,
    )
    assert corrected.status_code == 200 and corrected.json() == {"corrected": 1}
    now = {p["period"]: p for p in await payments_of(http, applicant, application_id, funder="county")}
    retried = now[shares[failing]["period"]]
    assert retried["status"] == "corrected" and retried["reference"] == failing[:-2] + "-2"
    tasks = await http.get("/api/v1/tasks", params={"application_id": application_id, "status": "done"}, headers=a)
    assert any(t["step"] == "payment_failed" for t in tasks.json())

    second_id, second_file = await send(http, b, a)
    second_lines = bank_lines(second_file, application_id)
    assert [(line["reference"], line["account"]) for line in second_lines] == [
        (retried["reference"], "6222020000000000099")
    ]
    settled = await http.post(
        f"/api/v1/payment-batches/{second_id}/bank-result",
        content=result_file([(retried["reference"], "paid", "")]),
        headers={**b, "content-type": "text/csv"},
    )
    assert settled.json() == {"paid": 1, "failed": 0, "unchanged": 0}
    again = await http.post(
        f"/api/v1/payment-batches/{batch_id}/bank-result",
        content=first_result,
        headers={**a, "content-type": "text/csv"},
    )
    assert again.json() == {"paid": 0, "failed": 0, "unchanged": 14}
    assert {p["status"] for p in await payments_of(http, applicant, application_id, funder="county")} == {"paid"}

    # The city's shares go the same way through the city's finance officers.
    city_a, city_b = city_finance, await login("finance-city-b")
    assert (await build(http, a, "city")).status_code == 403
    assert (await build(http, city_a, "county")).status_code == 403
    city_batch, city_file = await send(http, city_a, city_b, "city")
    city_lines = bank_lines(city_file, application_id)
    assert len(city_lines) == 14 and {line["funder"] for line in city_lines} == {"city"}
    settled = await http.post(
        f"/api/v1/payment-batches/{city_batch}/bank-result",
        content=result_file([(line["reference"], "paid", "") for line in city_lines]),
        headers={**city_a, "content-type": "text/csv"},
    )
    assert settled.json() == {"paid": 14, "failed": 0, "unchanged": 0}
    final = (await http.get(f"/api/v1/applications/{application_id}", headers=applicant)).json()
    assert [m["status"] for m in final["schedule"][:14]] == ["paid"] * 14
    assert (final["totals"]["due"], final["totals"]["paid"]) == ("14000.00", "14000.00")

    reconciled = await http.get("/api/v1/reconciliation", params={"period": lines[0]["period"]}, headers=a)
    assert reconciled.status_code == 200
    figures = reconciled.json()
    assert figures["difference"] == "0.00" and figures["funder"] == "county" and figures["county"] == "150203"
    assert Decimal(figures["sent"]) == Decimal(figures["paid"]) + Decimal(figures["failed"]) + Decimal(
        figures["awaiting_bank"]
    )
    assert (await http.get("/api/v1/reconciliation", headers=await login("applicant-a"))).status_code == 403

    # Why was this paid? The auditor's timeline names who batched, approved and sent each line, and the bank's answer.
    timeline = await http.get(f"/api/v1/audit/applications/{application_id}/timeline", headers=await login("auditor-a"))
    assert timeline.status_code == 200, timeline.text
    steps = [(e["kind"], e["actor"], e["detail"].get("reference")) for e in timeline.json()]
    assert ("payment_batched", "finance-150203-a", failing) in steps
    assert ("payment_batch_approved", "finance-150203-b", failing) in steps
    assert ("payment_failed", "bank", failing) in steps
    assert ("payment_paid", "bank", retried["reference"]) in steps
    assert [kind for kind, _, _ in steps].count("payment_paid") == 28
    assert any(kind == "bank_account_corrected" for kind, _, _ in steps)
    other = await http.get("/api/v1/reconciliation", params={"county": "150204"}, headers=a)
    assert other.status_code == 403


async def test_a_closure_reported_late_recovers_the_months_paid_after_its_date(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application_id, applicant = await approved_rent(http, login, acting)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    _, county_file = await send(http, a, b)
    mine = bank_lines(county_file, application_id)
    assert len(mine) == 14
    _, city_file = await send(http, await login("finance-city-a"), await login("finance-city-b"), "city")
    assert len(bank_lines(city_file, application_id)) == 14
    closed_on = months_ago(4)
    closed = await http.post(
        f"/api/v1/applications/{application_id}/events",
        json={"type": "business_closed", "date": closed_on.isoformat()},
        headers=applicant,
    )
    assert closed.status_code == 200, closed.text
    schedule = closed.json()["schedule"]
    after = [m for m in schedule if m["start"] > closed_on.isoformat() and m["status"] != "cancelled"]
    assert 3 <= len(after) <= 4  # the months that began after the closure and had been sent
    for _ in range(50):
        found = await http.get("/api/v1/recoveries", params={"application_id": application_id}, headers=applicant)
        if found.json():
            break
        await asyncio.sleep(0.1)
    (recovery,) = found.json()
    assert recovery["status"] == "open" and recovery["event"] == "business_closed"
    assert recovery["event_date"] == closed_on.isoformat()
    assert sorted({m["period"] for m in recovery["months"]}) == sorted(m["period"] for m in after)
    assert recovery["amount"] == f"{1000 * len(after)}.00"
    assert (recovery["city_amount"], recovery["county_amount"]) == (f"{500 * len(after)}.00",) * 2
    async with sessions() as session:
        negative = (
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.application_id == uuid.UUID(application_id), LedgerEntry.item == "recovery"
                )
            )
        ).all()
    assert len(negative) == 2 * len(after) and {row.amount for row in negative} == {Decimal("-500.00")}

    proposed = await http.post(
        f"/api/v1/recoveries/{recovery['id']}/write-off", json={"reason": "企业已注销，无财产可追"}, headers=a
    )
    assert proposed.status_code == 200 and proposed.json()["status"] == "open"
    same = await http.post(f"/api/v1/recoveries/{recovery['id']}/write-off", json={"reason": "同意"}, headers=a)
    assert same.status_code == 403
    assert (
        await http.post(f"/api/v1/recoveries/{recovery['id']}/write-off", json={"reason": "x"}, headers=applicant)
    ).status_code == 403
    confirmed = await http.post(
        f"/api/v1/recoveries/{recovery['id']}/write-off", json={"reason": "经复核同意核销"}, headers=b
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "written_off"
    assert (
        await http.post(f"/api/v1/recoveries/{recovery['id']}/repaid", json={"note": "收据"}, headers=a)
    ).status_code == 409


async def test_two_builds_at_the_same_moment_put_each_payment_in_one_batch(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application_id, _ = await approved_rent(http, login, acting, months=13)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    first, second = await asyncio.gather(build(http, a), build(http, b))
    assert sorted((first.status_code, second.status_code)) == [201, 409]
    async with sessions() as session:
        twice = await session.scalar(
            text("SELECT count(*) FROM (SELECT payment_id FROM payment_lines GROUP BY payment_id, batch_id) x")
        )
        lines = await session.scalar(text("SELECT count(*) FROM payment_lines"))
        mine = await session.scalar(
            text("SELECT count(*) FROM payment_lines WHERE application_id = :a"), {"a": uuid.UUID(application_id)}
        )
    assert twice == lines and mine == 13


async def test_a_bank_result_that_does_not_fit_the_batch_changes_nothing(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    application_id, applicant = await approved_rent(http, login, acting, months=13)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    batch_id, content = await send(http, a, b)
    mine = bank_lines(content, application_id)
    post = {"headers": {**a, "content-type": "text/csv"}}
    url = f"/api/v1/payment-batches/{batch_id}/bank-result"
    unknown = await http.post(
        url, content=result_file([(mine[0]["reference"], "paid", ""), ("NOPE-1", "paid", "")]), **post
    )
    assert unknown.status_code == 422 and "NOPE-1" in unknown.text
    bad_result = await http.post(url, content=result_file([(mine[0]["reference"], "maybe", "")]), **post)
    assert bad_result.status_code == 422
    no_reason = await http.post(url, content=result_file([(mine[0]["reference"], "failed", "")]), **post)
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert (await http.post(url, content=b"", **post)).status_code == 422
    assert {p["status"] for p in await payments_of(http, applicant, application_id, funder="county")} == {"sent"}

    failed = await http.post(url, content=result_file([(mine[0]["reference"], "failed", "户名不符")]), **post)
    assert failed.json() == {"paid": 0, "failed": 1, "unchanged": 0}
    clash = await http.post(url, content=result_file([(mine[0]["reference"], "paid", "")]), **post)
    assert clash.status_code == 422 and "differently" in clash.text
    stranger = await http.post(
        url,
        content=result_file([(mine[1]["reference"], "paid", "")]),
        headers={**await login("finance-city-a"), "content-type": "text/csv"},
    )
    assert stranger.status_code == 403
    official = await http.post(
        url,
        content=result_file([(mine[1]["reference"], "paid", "")]),
        headers={**await login("dpf-150203-a"), "content-type": "text/csv"},
    )
    assert official.status_code == 403

    empty_reason = await http.post(f"/api/v1/payments/{mine[0]['reference']}/cancel", json={"reason": " "}, headers=a)
    assert empty_reason.status_code == 422
    not_failed = await http.post(f"/api/v1/payments/{mine[1]['reference']}/cancel", json={"reason": "重复"}, headers=a)
    assert not_failed.status_code == 409
    cancelled = await http.post(
        f"/api/v1/payments/{mine[0]['reference']}/cancel", json={"reason": "申请人放弃该月补贴"}, headers=a
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "申请人放弃该月补贴"
    reconciled = await http.get("/api/v1/reconciliation", params={"period": mine[0]["period"]}, headers=a)
    assert reconciled.json()["difference"] == "0.00"


async def test_a_difference_in_the_records_blocks_the_next_batch_until_they_agree(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application_id, _ = await approved_rent(http, login, acting, months=13)
    a = await login("finance-150203-a")
    async with sessions.begin() as session:  # a superuser's edit behind the service's back
        await session.execute(
            text(
                "UPDATE payments SET amount = 499.00 WHERE application_id = :a AND period = (SELECT min(period) "
                "FROM payments WHERE application_id = :a) AND funder = 'county'"
            ),
            {"a": uuid.UUID(application_id)},
        )
    reconciled = (await http.get("/api/v1/reconciliation", headers=a)).json()
    assert reconciled["difference"] == "1.00"
    assert [d["application_id"] for d in reconciled["differences"]] == [application_id]
    blocked = await build(http, a)
    assert blocked.status_code == 409 and "1.00" in blocked.text
    checked = await http.post("/api/v1/reconciliation/check", params={"county": "150203"}, headers=a)
    assert checked.status_code == 200 and checked.json()["difference"] == "1.00"
    tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=a)).json()
    assert [t["step"] for t in tasks if t["step"] == "reconciliation_difference"] == ["reconciliation_difference"]
    async with sessions.begin() as session:
        await session.execute(
            text("UPDATE payments SET amount = 500.00 WHERE application_id = :a AND amount = 499.00"),
            {"a": uuid.UUID(application_id)},
        )
    checked = await http.post("/api/v1/reconciliation/check", params={"county": "150203"}, headers=a)
    assert checked.json()["difference"] == "0.00"
    tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=a)).json()
    assert [t for t in tasks if t["step"] == "reconciliation_difference"] == []
    assert (await build(http, a)).status_code == 201


async def test_every_step_of_a_batch_is_in_the_audit_log(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await approved_rent(http, login, acting, months=13)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    batch_id, _ = await send(http, a, b)
    async with sessions() as session:
        kinds = (
            await session.execute(
                select(AuditRecord.kind, AuditRecord.actor)
                .where(AuditRecord.detail["batch_id"].astext == batch_id)
                .order_by(AuditRecord.id)
            )
        ).all()
        assert (await verify_chain(session)).ok
    assert [tuple(k) for k in kinds] == [
        ("payment_batch_built", "finance-150203-a"),
        ("payment_batch_approved", "finance-150203-b"),
        ("bank_file_downloaded", "finance-150203-a"),
    ]


async def test_who_may_touch_the_money_every_demo_account(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    """Each money endpoint for every demo account: the scope's finance officers, and no one else."""
    application_id, applicant = await approved_rent(http, login, acting, months=13)
    users = [account.username for account in DEMO_ACCOUNTS]
    tokens = {user: await login(user) for user in users}
    county_finance = {"finance-150203-a", "finance-150203-b"}
    city_finance = {"finance-city-a", "finance-city-b"}
    misses: list[str] = []

    def check(row: str, user: str, response: httpx.Response, expected: int) -> None:
        if response.status_code != expected:
            misses.append(f"{row} as {user}: expected {expected}, got {response.status_code} {response.text[:120]}")

    for user in users:
        nothing = {"county": "150203", "up_to_period": "1999-01"}
        county = await http.post("/api/v1/payment-batches", json={"funder": "county", **nothing}, headers=tokens[user])
        check("build county", user, county, 409 if user in county_finance else 403)
        city = await http.post("/api/v1/payment-batches", json={"funder": "city", **nothing}, headers=tokens[user])
        check("build city", user, city, 409 if user in city_finance else 403)
        reading = await http.get("/api/v1/reconciliation", headers=tokens[user])
        readers = county_finance | city_finance | {"auditor-a", "admin-a", "city-a", "city-b"}
        check("reconciliation", user, reading, 200 if user in readers else 403)
        listed = await payments_of(http, tokens[user], application_id)
        sees = county_finance | city_finance | {"dpf-150203-a", "dpf-150203-b", "hr-150203-a"}
        sees |= {"city-a", "city-b", "region-a", "auditor-a", "admin-a"}
        if bool(listed) != (user in sees):
            misses.append(f"payments as {user}: {len(listed)} rows")
    assert len(await payments_of(http, applicant, application_id)) == 26

    built = await build(http, tokens["finance-150203-a"])
    batch_id = built.json()["id"]
    for user in users:
        approve = await http.post(f"/api/v1/payment-batches/{batch_id}/approve", headers=tokens[user])
        expected = 403 if user != "finance-150203-b" else 200
        check("approve", user, approve, expected)
    for user in users:
        file = await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=tokens[user])
        check("bank file", user, file, 200 if user in county_finance else 403)
        shown = await http.get(f"/api/v1/payment-batches/{batch_id}", headers=tokens[user])
        check("batch", user, shown, 200 if user in county_finance else 403)
        if shown.status_code == 200:
            assert all("*" in line["account_masked"] for line in shown.json()["payments"])
    unknown = await http.get(f"/api/v1/payment-batches/{uuid.uuid4()}", headers=tokens["finance-150203-a"])
    check("unknown batch", "finance-150203-a", unknown, 404)
    assert misses == []


async def test_a_recovery_is_offset_against_the_later_payments_due_to_the_same_person(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    person = new_resident_id()
    first_id, applicant = await approved_rent(http, login, acting, months=13, id_number=person)
    a, b = await login("finance-150203-a"), await login("finance-150203-b")
    await send(http, a, b)
    await send(http, await login("finance-city-a"), await login("finance-city-b"), "city")
    closed = await http.post(
        f"/api/v1/applications/{first_id}/events",
        json={"type": "business_closed", "date": months_ago(3).isoformat()},
        headers=applicant,
    )
    assert closed.status_code == 200, closed.text
    (recovery,) = (await http.get("/api/v1/recoveries", params={"application_id": first_id}, headers=a)).json()
    owed = Decimal(recovery["amount"])
    assert owed > 0 and recovery["county_amount"] == recovery["city_amount"]
    nothing_yet = await http.post(f"/api/v1/recoveries/{recovery['id']}/offset", headers=a)
    assert nothing_yet.status_code == 409  # no later payment of this person is due

    second_id, _ = await approved_rent(http, login, acting, months=13, id_number=person)
    offset = await http.post(f"/api/v1/recoveries/{recovery['id']}/offset", headers=a)
    assert offset.status_code == 200, offset.text
    assert offset.json()["status"] == "offset" and offset.json()["outstanding"] == "0.00"
    kept = [p for p in await payments_of(http, applicant, second_id) if p["status"] == "cancelled"]
    assert sum(Decimal(p["amount"]) for p in kept) == owed
    assert {p["cancel_reason"] for p in kept} == {f"offset against recovery {recovery['id']}"}
    assert len([p for p in await payments_of(http, applicant, second_id) if p["status"] == "due"]) == 26 - len(kept)
    again = await http.post(f"/api/v1/recoveries/{recovery['id']}/offset", headers=a)
    assert again.status_code == 409
