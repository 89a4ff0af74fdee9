"""The web app as people use it: accessible (axe-core, light and dark), usable on a phone
and by keyboard alone, with screen readers told when an answer starts and ends rather
than read every token. Also writes the screenshots the README shows."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from playwright.sync_api import Locator, Page, expect

from tests import fake_llm
from tests.api.conftest import login_of
from tests.web.conftest import SHOP, axe_violations, screenshot, sign_in

QUESTION = "front brake pads squeal on the camry, what did we do?"
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def _long_reply(messages: list[dict[str, Any]]) -> str:
    return fake_llm.grounded_reply(messages) + "\n\n" + "Check the pad wear indicator. " * 12


def _ask(page: Page, question: str = QUESTION) -> Locator:
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete", timeout=30_000)
    return page.locator(".message.assistant").last


def _axe_both_schemes(page: Page, where: str) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        if violations:
            found[f"{where} ({scheme})"] = violations
    page.emulate_media(color_scheme="light")
    return found


def _no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{page.url} scrolls sideways by {wide}px"


@pytest.mark.parametrize("name", ["tech", "advisor"])
def test_no_serious_accessibility_findings_in_light_or_dark(
    open_page: Any, model: fake_llm.FakeChatModel, name: str
) -> None:
    watched = open_page()
    page = watched.page
    found: dict[str, list[dict[str, Any]]] = {}
    page.goto("/signin")
    found |= _axe_both_schemes(page, "sign-in")
    sign_in(watched, name)
    found |= _axe_both_schemes(page, "empty chat")
    answer = _ask(page)
    expect(answer.locator(".sources")).to_be_visible()
    found |= _axe_both_schemes(page, "chat with an answer")
    if name == "tech":
        screenshot(page, "chat")
    answer.locator(".sources .chip").first.click()
    panel = page.locator("#ro-panel")
    expect(panel.locator(".line.cited")).to_have_count(1)
    if name == "advisor":
        expect(panel.locator("form.reveal")).to_be_visible()
    found |= _axe_both_schemes(page, "RO panel")
    if name == "tech":
        screenshot(page, "ro-panel")
    assert found == {}, json.dumps(found, indent=1)


def test_phone_layout_has_a_drawer_and_a_full_screen_panel(
    open_page: Any, model: fake_llm.FakeChatModel
) -> None:
    watched = open_page(390, 844)
    page = watched.page
    page.goto("/signin")
    _no_sideways_scroll(page)
    sign_in(watched, "tech")
    _no_sideways_scroll(page)

    sidebar = page.locator("#sidebar")
    toggle = page.get_by_role("button", name="Conversations")
    off_screen = "() => document.getElementById('sidebar').getBoundingClientRect().right <= 0"
    page.wait_for_function(off_screen)
    expect(sidebar).to_be_hidden()  # off-screen and out of the tab order
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_function(
        "() => document.getElementById('sidebar').getBoundingClientRect().x >= 0"
    )
    expect(sidebar.get_by_role("link", name="New chat")).to_be_visible()
    expect(sidebar.get_by_role("link", name="New chat")).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    page.wait_for_function(off_screen)
    # A tap beside the open drawer closes it too.
    toggle.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(380, 600)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.wait_for_function(off_screen)

    answer = _ask(page)
    _no_sideways_scroll(page)
    answer.locator(".sources").scroll_into_view_if_needed()
    screenshot(page, "phone")
    answer.locator(".body .chip").first.click()
    panel = page.locator("#ro-panel")
    expect(panel.locator(".line").first).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    _no_sideways_scroll(page)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(answer.locator(".body .chip").first).to_be_focused()


def _tab_to(page: Page, selector: str, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    focused = page.evaluate("document.activeElement?.outerHTML.slice(0, 120)")
    raise AssertionError(f"{key} never reached {selector}; focus is on {focused}")


def _focus_ring(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))


def test_keyboard_only_use_and_what_screen_readers_hear(
    open_page: Any, model: fake_llm.FakeChatModel
) -> None:
    model.reply = _long_reply
    model.chunk_delay_s = 0.05
    watched = open_page()
    page = watched.page
    email, password = login_of(SHOP, "tech")
    page.goto("/signin")
    _tab_to(page, "#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/chat")

    # The skip link is the first stop and leads straight to the chat.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    _tab_to(page, "#question", limit=3)
    assert _focus_ring(page) != "none"

    composer = page.get_by_label("Your question")
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(composer).to_have_value("first line\nsecond line")
    expect(page.locator(".message")).to_have_count(0)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")

    status = page.locator("#chat-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Answering…")
    answer = page.locator(".message.assistant").last
    expect(answer).to_have_attribute("aria-busy", "true")
    expect(answer.locator(".body")).not_to_be_empty()
    expect(answer).to_have_attribute("aria-busy", "true")  # still streaming, text growing
    expect(page.locator("#thread")).not_to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("Answer complete", timeout=30_000)
    expect(answer).not_to_have_attribute("aria-busy", "true")
    expect(composer).to_be_focused()

    _tab_to(page, ".sources .chip", key="Shift+Tab")
    assert _focus_ring(page) != "none"
    page.evaluate("document.activeElement.dataset.probe = 'chip'")
    page.keyboard.press("Enter")
    panel = page.locator("#ro-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.probe") == "chip"
