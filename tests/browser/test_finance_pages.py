"""The finance officer's pages (issue 18) in Chromium with axe-core: a rent application approved 14 months after its
licence has 14 months due at once; a county's finance officer builds the county's batch on the page, the builder
cannot approve it, a second officer approves it with the keyboard, downloads the bank file and uploads the bank's
result with one line failed; the failed payment's page, the same result again, a cancellation without a reason,
the reconciliation; the city's shares with the city's two finance officers."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.policy.workdays import china_today
from subsidy.programs.rent_subsidy.rules import add_months
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to
from tests.conftest import account_for, bearer_login, forget_failed_sign_ins
from tests.helpers import months_ago, rent_form

BUILT = re.compile(r".*/finance/batches/[0-9a-f-]+\?built=1(&without_account=\d+)?$")

BANK_REASON = "账户已销户"


async def _approved_rent_application(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> str:
    """A rent application (rent 1200.00, licence 14 months and a day ago) approved by the County DPF: 14 months of
    500.00 + 500.00 due at once."""
    body = rent_form(monthly_rent="1200.00", license_date=months_ago(14, days=1))
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        login = bearer_login(http)
        person = body["applicant"]["id_number"]  # type: ignore[index]
        applicant = await login(await account_for(sessions, "person", person))
        created = await http.post("/api/v1/applications", json=body, headers=applicant)
        assert created.status_code == 201, created.text
        application_id = str(created.json()["id"])
        official = await login("dpf-150203-b")
        for _ in range(150):
            tasks = (
                await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
            ).json()
            if tasks:
                break
            await asyncio.sleep(0.1)
        decided = await http.post(
            f"/api/v1/tasks/{tasks[0]['id']}/decision",
            json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
            headers=official,
        )
        assert decided.status_code == 200, decided.text
        finance = await login("finance-150203-a")
        for _ in range(150):
            due = await http.get("/api/v1/payments", params={"application_id": application_id}, headers=finance)
            if due.headers["X-Total-Count"] == "28":  # 14 months, a city's and a county's share each
                break
            await asyncio.sleep(0.1)
        assert due.headers["X-Total-Count"] == "28", due.text
    return application_id


async def _download(page: Page) -> bytes:
    async with page.expect_download() as info:
        await page.click("#bank-file-link")
    download = await info.value
    path = await download.path()
    assert path is not None
    return await asyncio.to_thread(path.read_bytes)


def _own_lines(content: bytes, application_id: str) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(content.decode("utf-8"), newline=""))
    return [row for row in rows if row["application_id"] == application_id]


async def _upload(page: Page, name: str, content: str) -> None:
    """Choose the file, then send the form with the keyboard alone (Tab to the button, Enter)."""
    await page.set_input_files(
        "#result_file", files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
    )
    await tab_to(page, "#result-button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def _bank_file_by_api(base_url: str, username: str, batch_id: str) -> bytes:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        headers = await bearer_login(http)(username)
        response = await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=headers)
        assert response.status_code == 200, response.text
        return response.content


async def _finance_task(base_url: str, username: str, application_id: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        headers = await bearer_login(http)(username)
        tasks = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        assert tasks.status_code == 200, tasks.text
        found = [task for task in tasks.json() if task["step"] == "payment_failed"]
        assert len(found) == 1, tasks.text
        return str(found[0]["id"])


async def _post_as_page(page: Page, action: str, fields: dict[str, str] | None = None) -> Any:
    """Send a form the page does not offer (as a hand-made request would), with the session's CSRF token."""
    async with page.expect_navigation() as navigation:
        await page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                const token = document.querySelector("input[name=csrf_token]").value;
                for (const [name, value] of Object.entries({csrf_token: token, ...fields})) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, fields or {}],
        )
    return await navigation.value


async def test_a_county_batch_on_the_pages_with_four_eyes_the_bank_file_and_the_result(
    browser: Browser, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await forget_failed_sign_ins(sessions)
    application_id = await _approved_rent_application(base_url, sessions)
    last_month = add_months(china_today(), -1).strftime("%Y-%m")
    context = await browser.new_context(base_url=base_url, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()

    # The builder: the start page is the finance page; what is due, the form with last month preset.
    await sign_in(page, "finance-150203-a")
    await expect(page).to_have_url(f"{base_url}/finance")
    await expect(page.get_by_role("heading", level=1)).to_have_text("向银行支付")
    await expect(page.locator(".lead")).to_have_text("昆都仑区的县级资金")
    await expect(page.locator("#up_to_period")).to_have_value(last_month)
    await expect(page.locator("#due-table")).to_be_visible()
    await assert_accessible(page)
    await page.fill("#up_to_period", "2026-13")  # not a month: a field error, nothing built
    await page.click("#build-button")
    await expect(page.locator(".error-summary")).to_contain_text("截至月份: 请按 YYYY-MM 填写月份，例如 2026-03")
    await expect(page.locator("#up_to_period")).to_have_value("2026-13")
    await assert_accessible(page)
    await page.fill("#up_to_period", last_month)
    await page.click("#build-button")
    # Other tests leave due payments without an account: the address then also says how many were left out.
    await page.wait_for_url(BUILT)
    batch_id = page.url.split("/finance/batches/")[1].split("?")[0]
    await expect(page.locator(".notice").first).to_contain_text("批次已生成")
    await expect(page.locator("#batch-status")).to_have_text("已生成，等待第二名财务人员审批")
    await expect(page.locator("#waiting-notice")).to_contain_text("等待第二名财务人员审批")
    await expect(page.locator("#approve-form")).to_have_count(0)
    own = page.locator(f"#lines-table tr[data-application='{application_id}']")
    await expect(own).to_have_count(14)
    await expect(own.first.locator("td").nth(1)).to_have_text("***************0000")  # the account, masked
    await expect(own.first.locator("td").nth(0)).to_have_text("张*")  # the payee's name, masked in the list
    await expect(own.first.locator("td").nth(2)).to_have_text("500.00")
    await assert_accessible(page)
    # The builder's own approval, sent as a hand-made form: refused with the reason on the page.
    refused = await _post_as_page(page, f"/finance/batches/{batch_id}/approve")
    assert refused.status == 403
    await expect(page.locator("#problem")).to_contain_text("您生成了这个批次：须由另一名财务人员审批")
    await expect(page.locator("#batch-status")).to_have_text("已生成，等待第二名财务人员审批")
    await assert_accessible(page)
    await sign_out(page)

    # The second officer approves with the keyboard and downloads the bank file.
    await sign_in(page, "finance-150203-b")
    await page.goto(f"/finance/batches/{batch_id}")
    await assert_accessible(page)
    await tab_to(page, "#approve-button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator("#batch-status")).to_have_text("已审批，尚未下载银行文件")
    await expect(page.locator("main .notice").first).to_contain_text("批次已审批")
    await assert_accessible(page)
    content = await _download(page)
    lines = _own_lines(content, application_id)
    assert len(lines) == 14
    assert len({line["reference"] for line in lines}) == 14
    assert {(line["amount"], line["funder"], line["county"]) for line in lines} == {("500.00", "county", "150203")}
    assert {line["account"] for line in lines} == {"6222020000000000000"}
    assert content == await _bank_file_by_api(base_url, "finance-150203-b", batch_id)  # the same bytes
    await page.reload()
    await expect(page.locator("#batch-status")).to_have_text("已发送银行，等待银行结果")

    # The bank's result: one of the 14 failed.
    failed = lines[4]["reference"]
    result = "reference,result,reason\r\n" + "".join(
        f"{line['reference']},failed,{BANK_REASON}\r\n"
        if line["reference"] == failed
        else f"{line['reference']},paid\r\n"
        for line in lines
    )
    await _upload(page, "result.csv", result)
    await expect(page.locator("main .notice").first).to_have_text(
        "银行结果已记录：支付成功 13 笔，失败 1 笔，未变 0 笔。"
    )
    await expect(own.filter(has_text="支付成功")).to_have_count(13)
    await expect(page.locator(f"#lines-table tr[data-reference='{failed}'] .line-result")).to_have_text(
        f"失败：{BANK_REASON}"
    )
    await assert_accessible(page)

    # The same file again changes nothing.
    await _upload(page, "result.csv", result)
    await expect(page.locator("main .notice").first).to_have_text(
        "银行结果已记录：支付成功 0 笔，失败 0 笔，未变 14 笔。"
    )
    # A file naming a reference of no line of this batch: refused as a whole, in an error summary.
    await _upload(page, "wrong.csv", f"{failed},paid\r\nR-NOT-IN-BATCH,paid\r\n")
    await expect(page.locator(".error-summary")).to_contain_text("结果文件中有不属于本批次的支付编号。未记录任何结果。")
    await expect(page.locator("#result-problems")).to_contain_text("R-NOT-IN-BATCH")
    await assert_accessible(page)

    # At 320 CSS pixels the batch page reflows: nothing needs a horizontal scroll.
    await page.set_viewport_size({"width": 320, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await page.set_viewport_size({"width": 1280, "height": 800})

    # The failed payment: its task in the inbox links to its page, and so does the task's own address.
    task_id = await _finance_task(base_url, "finance-150203-b", application_id)
    await page.goto(f"/tasks/{task_id}")
    await page.wait_for_url(f"**/finance/payments/{failed}")
    await page.goto("/inbox")
    link = page.locator(f"a[href='/finance/payments/{failed}']")
    await expect(link).to_have_count(1)
    await expect(link).to_contain_text("支付失败：更正或取消")
    await assert_accessible(page)
    await link.click()
    await page.wait_for_url(f"**/finance/payments/{failed}")
    await expect(page.locator("#payment-status")).to_have_text("支付失败")
    await expect(page.locator("#failure-reason")).to_have_text(BANK_REASON)
    await expect(page.locator("#payment-amount")).to_have_text("500.00")
    await expect(page.locator("#attempts tbody tr")).to_have_count(1)
    await expect(page.locator("#payee-asked")).to_contain_text("已请收款人在其页面上更正银行账户")
    await assert_accessible(page)

    # Cancelling needs a reason: an error summary, focused, linked to the box.
    await page.click("#cancel-button")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("取消原因: 请说明取消该笔支付的原因")
    await expect(summary.locator("a[href='#reason']")).to_have_count(1)
    await expect(page.locator("#payment-status")).to_have_text("支付失败")
    await assert_accessible(page)

    # Reconciliation of the county's shares: nothing disagrees.
    await page.goto("/finance/reconciliation")
    await expect(page.locator("#figure-difference td")).to_have_text("0.00")
    await expect(page.locator("#no-differences")).to_be_visible()
    await assert_accessible(page)
    await page.click("#check-button")
    await expect(page.locator("main .notice").first).to_have_text("已立即对账：记录一致（差额 0.00）。")
    await expect(page.locator("#figure-difference td")).to_have_text("0.00")
    await assert_accessible(page)

    # Now cancelled with a reason: the task is settled.
    await page.goto(f"/finance/payments/{failed}")
    await page.fill("#reason", "收款人已去世，家属放弃领取")
    await page.click("#cancel-button")
    await page.wait_for_url(f"**/finance/payments/{failed}?cancelled=1")
    await expect(page.locator("#payment-status")).to_have_text("已取消")
    await expect(page.locator("#cancel-reason")).to_contain_text("收款人已去世")
    await page.goto("/inbox")
    await expect(page.locator(f"a[href='/finance/payments/{failed}']")).to_have_count(0)
    await context.close()


async def test_the_citys_shares_are_batched_by_the_citys_finance_officers(
    browser: Browser, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await forget_failed_sign_ins(sessions)
    application_id = await _approved_rent_application(base_url, sessions)
    context = await browser.new_context(base_url=base_url, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()
    await sign_in(page, "finance-city-a")
    await expect(page).to_have_url(f"{base_url}/finance")
    await expect(page.locator(".lead")).to_have_text("各旗县区的市级资金")
    await page.click("#build-button")  # no county chosen
    await expect(page.locator(".error-summary")).to_contain_text("旗县区: 请选择旗县区")
    await assert_accessible(page)
    await page.select_option("#county", "150203")
    await page.click("#build-button")
    # Other tests leave due payments without an account: the address then also says how many were left out.
    await page.wait_for_url(BUILT)
    batch_id = page.url.split("/finance/batches/")[1].split("?")[0]
    own = page.locator(f"#lines-table tr[data-application='{application_id}']")
    await expect(own).to_have_count(14)
    await expect(page.locator("#batch-summary")).to_contain_text("市级资金")
    await expect(page.locator("#approve-form")).to_have_count(0)
    await sign_out(page)

    await sign_in(page, "finance-city-b")
    await page.goto(f"/finance/batches/{batch_id}")
    await page.click("#approve-button")
    await expect(page.locator("#batch-status")).to_have_text("已审批，尚未下载银行文件")
    lines = _own_lines(await _download(page), application_id)
    assert len(lines) == 14 and len({line["reference"] for line in lines}) == 14
    assert {(line["amount"], line["funder"], line["county"]) for line in lines} == {("500.00", "city", "150203")}
    await page.reload()
    await _upload(page, "city.csv", "".join(f"{line['reference']},paid\n" for line in lines))
    await expect(page.locator("main .notice").first).to_have_text(
        "银行结果已记录：支付成功 14 笔，失败 0 笔，未变 0 笔。"
    )
    await assert_accessible(page)
    await page.goto(f"/finance/applications/{application_id}")
    await expect(page.locator("#application-payments tbody tr")).to_have_count(14)
    await expect(page.locator("#application-payments tbody tr").filter(has_text="已支付（银行已确认）")).to_have_count(
        14
    )
    await assert_accessible(page)
    await page.goto("/finance/reconciliation?county=150203")
    await expect(page.locator("#figure-difference td")).to_have_text("0.00")
    await assert_accessible(page)

    # The business closed six months ago, reported now: the last 5 months' city shares, paid, are owed back.
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        login = bearer_login(http)
        closed = await http.post(
            f"/api/v1/applications/{application_id}/events",
            json={"type": "business_closed", "date": months_ago(6).isoformat()},
            headers=await login("dpf-150203-a"),
        )
        assert closed.status_code == 200, closed.text
        found = await http.get(
            "/api/v1/recoveries", params={"application_id": application_id}, headers=await login("finance-city-a")
        )
        assert found.status_code == 200 and len(found.json()) == 1, found.text
        recovery_id = found.json()[0]["id"]
    await page.goto("/finance/recoveries")
    link = page.locator(f"a[href='/finance/recoveries/{recovery_id}']")
    await expect(link).to_have_count(1)
    await assert_accessible(page)
    await link.click()
    # The six months not ended by the closure, six months back: the city's shares, the only ones sent.
    await expect(page.locator("#recovery-amount")).to_have_text("3000.00 (市级承担 3000.00, 旗县区级承担 0.00)")
    await expect(page.locator("#recovery-months tbody tr")).to_have_count(6)
    await expect(page.locator("#recovery-status")).to_have_text("未结清：须退回资金")
    await assert_accessible(page)
    await page.click("#repaid-button")  # without a note: refused, summarised
    await expect(page.locator(".error-summary")).to_contain_text("办理情况（收据）: 请说明办理情况")
    await assert_accessible(page)
    await page.fill("#reason", "经营者已无力偿还")
    await page.click("#write-off-button")
    await expect(page.locator("main .notice").first).to_have_text("已提议核销：由另一名工作人员确认。")
    await expect(page.locator("#write-off-proposed")).to_contain_text("finance-city-b: 经营者已无力偿还")
    await page.fill("#reason", "同意核销")
    async with page.expect_navigation() as confirmed_by_proposer:
        await page.click("#write-off-button")
    assert (await confirmed_by_proposer.value).status == 403
    await expect(page.locator("#problem")).to_contain_text("核销由您提议：须由另一名工作人员确认，提议人不能确认")
    await expect(page.locator("#recovery-status")).to_have_text("未结清：须退回资金")
    await assert_accessible(page)
    await sign_out(page)
    await sign_in(page, "finance-city-a")
    await page.goto(f"/finance/recoveries/{recovery_id}")
    await page.fill("#reason", "同意核销")
    await page.click("#write-off-button")
    await expect(page.locator("#recovery-status")).to_have_text("已核销")
    await page.goto("/finance/recoveries")
    await expect(page.locator(f"a[href='/finance/recoveries/{recovery_id}']")).to_have_count(0)
    await sign_out(page)

    # An auditor reads the batch, in English too, and is offered no action.
    await sign_in(page, "auditor-a")
    await page.goto(f"/finance/batches/{batch_id}")
    await page.click("button[name=lang][value=en]")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Payment batch {batch_id[:8].upper()}")
    # Settled unless other tests' city shares of 150203 went into the batch too (the bank answered only ours).
    answered = re.compile(r"^(Sent to the bank, waiting for its result|Settled: the bank answered every line)$")
    await expect(page.locator("#batch-status")).to_have_text(answered)
    await expect(page.locator("#approve-form, #result-form, #bank-file-link")).to_have_count(0)
    await assert_accessible(page)
    await page.goto("/finance")
    await expect(page.locator(".lead")).to_have_text("Every county, the city's and the counties' shares (reading only)")
    row = page.locator(f"#batches-table tr[data-batch='{batch_id}']")
    await expect(row.locator("td").nth(3)).to_have_text("finance-city-a")
    await expect(row.locator("td").nth(4)).to_have_text("finance-city-b")
    await assert_accessible(page)
    await context.close()


async def test_who_reaches_the_finance_pages(browser: Browser, base_url: str) -> None:
    context = await browser.new_context(base_url=base_url, locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, "dpf-150203-a")
    response = await page.goto("/finance")
    assert response is not None and response.status == 403
    await sign_out(page)
    await sign_in(page, "auditor-a")
    response = await page.goto("/finance")
    assert response is not None and response.status == 200
    await expect(page.locator("#build-form")).to_have_count(0)  # auditors read, never build
    await assert_accessible(page)
    response = await page.goto(f"/finance/batches/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    await context.close()
