"""Part 2, *service*: the rent-subsidy procedure through real HTTP, N applications at concurrency C.

Per application, as an applicant and a County DPF official would: submit (with an Idempotency-Key), poll the
inbox until the review task appears, claim it, approve it, poll the ledger until the months already over are
posted. Each person is new, or the second application would be refused (already_has_active_rent_subsidy), and has
an account bound to them (an account acts only for its own person): the accounts are made directly in the
database and signed in before the measured run (`bound_applicants`), so neither argon2 nor binding is in its figures.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.http import Connection, Response
from bench.stats import Latencies
from subsidy.policy.identifiers import resident_id_check_character
from subsidy.policy.workdays import china_today
from subsidy.programs.rent_subsidy.rules import add_months

OFFICIAL = "dpf-150203-b"
PASSWORD = "demo"
# The task and the ledger rows appear asynchronously, written by activities: the client polls, as a busy script
# would (a person refreshes far less often), first after 0.25 s, then backing off to at most 2 s. Every poll is a
# measured request and load on the service; the bare workflow's client waits on its update instead.
POLL_SECONDS = 0.25
POLL_BACKOFF = 1.5
POLL_MAX_SECONDS = 2.0
POLL_WINDOW_SECONDS = 120  # a procedure that takes longer is a failure, not a slow sample


def pauses(first: float) -> Iterator[float]:
    """The pauses between polls: growing from `first` to POLL_MAX_SECONDS, for POLL_WINDOW_SECONDS in all."""
    waited, pause = 0.0, first
    while waited < POLL_WINDOW_SECONDS:
        yield pause
        waited += pause
        pause = min(pause * POLL_BACKOFF, max(POLL_MAX_SECONDS, first))


WARM_UP = 5
_people = itertools.count()


def new_person_id(region: str = "150203") -> str:
    """A valid resident ID no other application of this run has (birth date and serial vary with a counter)."""
    n = next(_people)
    born = date(1970, 1, 1) + timedelta(days=n // 900)
    first17 = f"{region}{born:%Y%m%d}{100 + n % 900:03d}"
    return first17 + resident_id_check_character(first17)


def rent_application(arrears_months: int, id_number: str) -> dict[str, Any]:
    """A valid rent-subsidy form whose lease began `arrears_months` ago and whose business has run at least a year
    (the minimum): that many subsidy months are over at approval and are paid at once. With 14, the business and the
    lease began 14 months ago, as a real application that waited for its first year does (issue 17)."""
    today = china_today()
    licence = add_months(today, -max(12, arrears_months))
    return {
        "program": "rent_subsidy",
        "applicant": {
            "name": "张三",
            "id_number": id_number,
            "disability_cert_number": id_number + "42",
            "hukou_county": "150203",
            "phone": "13800000000",
        },
        "business": {
            "name": "小店",
            "credit_code": "91150203MA0N12345B",
            "license_date": licence.isoformat(),
            "business_type": "general",
            "started_on": licence.isoformat(),
        },
        "lease": {
            "monthly_rent": "1200.00",
            "start_date": add_months(today, -arrears_months).isoformat(),
            "end_date": add_months(licence, 48).isoformat(),
        },
        "bank_account": "6222020000000000000",
    }


@dataclass(frozen=True)
class Applicant:
    headers: dict[str, str]
    id_number: str


async def bound_applicants(database_url: str, host: str, port: int, count: int) -> list[Applicant]:
    """`count` new people, each with an account bound to them (as the County DPF's verification binds one), signed
    in (password 'demo')."""
    from subsidy.api.security import hash_password
    from subsidy.db.session import create_engine, session_factory
    from subsidy.programs.account_registration.activities import create_bound_account

    password_hash = hash_password(PASSWORD)
    people = [new_person_id() for _ in range(count)]
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            for id_number in people:
                refused = await create_bound_account(
                    session,
                    username=f"bench-{id_number.lower()}",
                    password_hash=password_hash,
                    kind="person",
                    name="张三",
                    identifier=id_number,
                    county="150203",
                    disability_cert_number=id_number + "42",
                )
                assert not refused, refused
    finally:
        await engine.dispose()
    signing_in = asyncio.Semaphore(8)

    async def signed_in(id_number: str) -> Applicant:
        async with signing_in, Connection(host, port) as http:
            return Applicant(await login(http, f"bench-{id_number.lower()}"), id_number)

    return list(await asyncio.gather(*(signed_in(id_number) for id_number in people)))


async def login(http: Connection, username: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", form={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class ServiceResult:
    n: int
    concurrency: int
    arrears_months: int
    seconds: float = 0.0
    submit: Latencies = field(default_factory=Latencies)
    inbox: Latencies = field(default_factory=Latencies)
    claim: Latencies = field(default_factory=Latencies)
    decision: Latencies = field(default_factory=Latencies)
    ledger: Latencies = field(default_factory=Latencies)
    total: Latencies = field(default_factory=Latencies)
    inbox_polls: int = 0
    decision_conflicts: int = 0
    ledger_polls: int = 0
    ledger_rows: int = 0
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.n / self.seconds


class Unexpected(RuntimeError):
    pass


def _expect(response: Response, *codes: int) -> dict[str, Any] | list[Any]:
    if response.status_code not in codes:
        raise Unexpected(f"{response.method} {response.path}: {response.status_code} {response.text}")
    body: dict[str, Any] | list[Any] = response.json()
    return body


async def _timed(latencies: Latencies | None, request: Any) -> Response:
    began = time.perf_counter()
    response: Response = await request
    if latencies is not None:
        latencies.add(time.perf_counter() - began)
    return response


async def one_application(
    http: Connection,
    person: Applicant,
    official: dict[str, str],
    arrears_months: int,
    poll_seconds: float,
    result: ServiceResult,
    counted: bool,
) -> None:
    def m(latencies: Latencies) -> Latencies | None:
        return latencies if counted else None

    began = time.perf_counter()
    key = {"Idempotency-Key": f"bench-{uuid.uuid4()}"}
    created = _expect(
        await _timed(
            m(result.submit),
            http.post(
                "/api/v1/applications",
                json_body=rent_application(arrears_months, person.id_number),
                headers={**person.headers, **key},
            ),
        ),
        201,
    )
    assert isinstance(created, dict)
    application_id = created["id"]
    if created["status"] == "rejected":
        raise Unexpected(f"application {application_id} was rejected: {created.get('eligibility')}")

    task: dict[str, Any] | None = None
    for pause in pauses(poll_seconds):
        listed = _expect(
            await _timed(
                m(result.inbox),
                http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official),
            ),
            200,
        )
        if counted:
            result.inbox_polls += 1
        if listed:
            assert isinstance(listed, list)
            task = listed[0]
            break
        await asyncio.sleep(pause)
    if task is None:
        raise Unexpected(f"no task appeared for {application_id}")

    _expect(await _timed(m(result.claim), http.post(f"/api/v1/tasks/{task['id']}/claim", headers=official)), 200)
    decided: dict[str, Any] | list[Any] | None = None
    for pause in pauses(poll_seconds):
        began_decision = time.perf_counter()
        response = await http.post(
            f"/api/v1/tasks/{task['id']}/decision",
            json_body={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
            headers=official,
        )
        # The task row is committed by the activity before the workflow has taken in the activity's result; a
        # decision in between is refused by the workflow's validator (409 "the task is not open"): try again.
        if response.status_code == 409 and "not open" in response.text:
            if counted:
                result.decision_conflicts += 1
            await asyncio.sleep(pause)
            continue
        if counted:
            result.decision.add(time.perf_counter() - began_decision)
        decided = _expect(response, 200)
        break
    if not isinstance(decided, dict):
        raise Unexpected(f"the decision on {task['id']} was refused as not open for {POLL_WINDOW_SECONDS} s")
    today = china_today()
    # A subsidy month is paid once its last day is over (midnight China time): these are posted at once.
    ended = [row for row in decided["application"]["schedule"] if date.fromisoformat(row["end"]) <= today]
    expected_rows = 2 * len(ended)  # city and county
    for pause in pauses(poll_seconds):
        response = await _timed(
            m(result.ledger),
            http.get("/api/v1/ledger", params={"application_id": application_id}, headers=person.headers),
        )
        _expect(response, 200)
        if counted:
            result.ledger_polls += 1
        if int(response.headers["x-total-count"]) >= expected_rows:
            break
        await asyncio.sleep(pause)
    else:
        raise Unexpected(f"the ledger rows of {application_id} were not posted")
    if counted:
        result.total.add(time.perf_counter() - began)
        result.ledger_rows += expected_rows
        result.workflow_ids.append(f"application-{application_id}")


async def run_service(
    host: str,
    port: int,
    n: int,
    concurrency: int,
    arrears_months: int,
    poll_seconds: float = POLL_SECONDS,
    *,
    people: list[Applicant],
) -> ServiceResult:
    """A closed loop: `concurrency` users, each with its own connection, take the next application until N are done;
    each application is a new person's, sent from that person's bound account (`people`: WARM_UP + N of them, from
    `bound_applicants`, made and signed in before the part is measured)."""
    assert len(people) == WARM_UP + n
    async with Connection(host, port) as http:
        official = await login(http, OFFICIAL)
    result = ServiceResult(n, concurrency, arrears_months)

    async def warm_up(person: Applicant) -> None:
        async with Connection(host, port) as http:
            await one_application(http, person, official, arrears_months, poll_seconds, result, False)

    await asyncio.gather(*(warm_up(person) for person in people[:WARM_UP]))
    remaining = iter(people[WARM_UP:])

    async def user() -> None:
        async with Connection(host, port) as http:
            for person in remaining:
                await one_application(http, person, official, arrears_months, poll_seconds, result, True)

    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - began
    return result
