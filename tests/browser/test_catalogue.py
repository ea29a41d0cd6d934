"""Every text of the pages is in the message catalogue, and zh-CN has a translation for each."""

from __future__ import annotations

from babel.messages.pofile import read_po

from subsidy.api.pages.catalog import extract
from subsidy.api.pages.i18n import catalogue_path, translations


def test_every_page_message_has_a_zh_cn_translation() -> None:
    extracted = {message.id for message in extract() if message.id}
    with catalogue_path("zh-CN").open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    translated = {message.id for message in catalog if message.id and message.string}
    assert len(extracted) > 200
    assert sorted(extracted - translated) == []


def test_the_catalogue_is_used() -> None:
    assert translations("zh-CN").gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
