"""Real Chromium (Debian's, never a downloaded one) driven by Playwright, with axe-core checking every page."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import forget_failed_sign_ins

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Page]:
    await forget_failed_sign_ins(sessions)
    context = await browser.new_context(base_url=base_url, locale="zh-CN")
    opened = await context.new_page()
    yield opened
    await context.close()


async def assert_accessible(page: Page) -> None:
    """axe-core finds no violation of the WCAG 2 A/AA rules on the page as it is now."""
    results = await Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", "demo")
    await page.click("form[action='/login'] button")
    await page.wait_for_load_state()


async def sign_out(page: Page) -> None:
    await page.click("form[action='/logout'] button")
    await page.wait_for_url("**/login")
