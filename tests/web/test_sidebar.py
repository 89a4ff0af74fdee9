"""The conversation sidebar: rename, search by title, archive and unarchive, delete with a
confirmation (the session cookie's flags and renewal: tests/api/test_web_session.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Dialog, expect

from tests import fake_llm
from tests.web.conftest import LiveServer, sign_in


def _menu(page: Any, title: str) -> Any:
    page.get_by_label(f"Actions for {title}").click()
    return page.locator("#conversation-list li", has=page.get_by_text(title, exact=True))


def test_rename_search_archive_and_delete(open_page: Any, model: fake_llm.FakeChatModel) -> None:
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    page.get_by_label("Your question").fill("camry brake pads, what did we do?")
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete", timeout=30_000)
    conversation = page.url.rsplit("/", 1)[1]
    first = page.locator("#conversation-list li.current > a").inner_text()

    title = f"Pads {uuid.uuid4().hex[:8]}"
    row = _menu(page, first)
    row.get_by_label("New title").fill(title)
    row.get_by_role("button", name="Rename").click()
    expect(page.locator("#conversation-list li.current > a")).to_have_text(title)

    page.get_by_label("Search conversations by title").fill(title[-8:])
    expect(page.locator("#conversation-list li > a")).to_have_text([title])
    page.get_by_label("Search conversations by title").fill("no such title zzz")
    expect(page.locator("#conversation-list .empty")).to_be_visible()
    page.get_by_label("Search conversations by title").fill("")
    expect(page.get_by_role("link", name=title)).to_be_visible()

    _menu(page, title).get_by_role("button", name="Archive").click()
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    page.get_by_role("button", name="Show archived").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    _menu(page, title).get_by_role("button", name="Unarchive").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()

    confirmations: list[str] = []

    def accept(dialog: Dialog) -> None:
        confirmations.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    _menu(page, title).get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/chat$"))
    assert confirmations == ["Delete this conversation and all its messages?"]
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    gone = page.goto(f"/chat/{conversation}")
    assert gone is not None
    assert gone.status == 404
    watched.errors.clear()  # the 404 page's own status


def test_copy_puts_the_answer_on_the_clipboard_without_placeholders(
    open_page: Any, model: fake_llm.FakeChatModel, live_server: LiveServer
) -> None:
    watched = open_page()
    watched.page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.url
    )
    sign_in(watched, "advisor")
    page = watched.page
    page.get_by_label("Your question").fill("camry brake pads, what did we do?")
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete", timeout=30_000)
    page.locator(".message.assistant").last.get_by_role("button", name="Copy").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Customer phone on file: [redacted]." in copied
    assert "[[pii:" not in copied
