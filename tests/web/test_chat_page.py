"""The chat page in a real browser: sign-in, a streamed answer, citations that open the
RO, stop and retry, and the session rules around it (the cross-site post is in
test_safety.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import fake_llm
from tests.web.conftest import Watched, sign_in

QUESTION = "front brake pads squeal on the camry, what did we do?"


def _long_reply(messages: list[dict[str, Any]]) -> str:
    return fake_llm.grounded_reply(messages) + " " + "More detail follows. " * 40


def _ask(watched: Watched, question: str = QUESTION) -> Any:
    page = watched.page
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    return page.locator(".message.assistant").last


@pytest.mark.parametrize("name", ["tech", "advisor", "admin"])
def test_each_role_asks_sees_the_answer_stream_and_opens_a_citation(
    open_page: Any, model: fake_llm.FakeChatModel, name: str
) -> None:
    model.chunk_delay_s = 0.02
    watched = open_page()
    sign_in(watched, name)
    page = watched.page
    answer = _ask(watched)
    expect(answer.locator(".meta .badge")).to_have_text("Model: fake-chat-1", timeout=30_000)
    assert int(answer.get_attribute("data-paints") or 0) > 1  # it grew before it was done
    expect(page.locator("#chat-status")).to_have_text("Answer complete")
    chip = answer.locator(".body .chip").first
    ro_label = chip.inner_text()
    chip.click()
    panel = page.locator("#ro-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text(re.compile(r"^RO \d+$"))
    assert ro_label.split(" · ")[0] == panel.locator("h2").inner_text()
    expect(panel.locator(".line").first).to_be_visible()
    if " · " in ro_label:
        expect(panel.locator(".line.cited")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # The page's address is now the conversation's, and the sidebar lists it.
    assert re.search(r"/chat/[0-9a-f-]{36}$", page.url)
    expect(page.locator("#conversation-list li.current")).to_have_count(1)


def test_signed_out_pages_send_the_browser_to_sign_in(open_page: Any) -> None:
    watched = open_page()
    watched.page.goto("/chat")
    assert "/signin?next=/chat" in watched.page.url
    expect(watched.page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_said_on_the_page(open_page: Any) -> None:
    watched = open_page()
    page = watched.page
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill("tech@desert-auto.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/signin" in page.url
    watched.errors.clear()  # the 401 status of the page itself is logged by Chromium


def test_stop_keeps_the_question_and_marks_the_answer(
    open_page: Any, model: fake_llm.FakeChatModel
) -> None:
    model.reply = _long_reply
    model.chunk_delay_s = 0.15
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    answer = _ask(watched)
    expect(answer.locator(".body")).not_to_be_empty(timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    expect(answer.locator(".error")).to_contain_text("Stopped")
    expect(page.get_by_label("Your question")).to_be_enabled()
    page.wait_for_timeout(500)
    page.reload()
    expect(page.locator(".message.user .body")).to_have_text([QUESTION])
    expect(page.locator(".message.assistant .error")).to_be_visible()


def test_a_failed_answer_offers_retry(open_page: Any, model: fake_llm.FakeChatModel) -> None:
    model.mode = "error"
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    answer = _ask(watched)
    expect(answer.locator(".error")).to_be_visible(timeout=30_000)
    model.mode = "ok"
    answer.get_by_role("button", name="Retry").click()
    retried = page.locator(".message.assistant").last
    expect(retried.locator(".meta .badge")).to_have_text("Model: fake-chat-1", timeout=30_000)
    expect(page.locator(".message.user .body")).to_have_text([QUESTION, QUESTION])
