"""The admin pages in a real browser: the audit log (filters, exports, chain check), users
(add, change role, disable and enable) and feedback on answers; nobody else finds them."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests import fake_llm
from tests.api.conftest import login_of
from tests.web.conftest import SHOP, Watched, axe_violations, screenshot, sign_in

ADMIN_PAGES = ("/admin/audit", "/admin/users", "/admin/feedback")
QUESTION = "front brake pads squeal on the camry, what did we do?"
PASSWORD = "an initial password 1"
# The API tests keep this shop at exactly one admin, so refusing to remove it is safe.
ONE_ADMIN_SHOP = "lakeside-motors"


def _ask(watched: Watched, question: str = QUESTION) -> Locator:
    page = watched.page
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete", timeout=30_000)
    return page.locator(".message.assistant").last


def _csrf(page: Page) -> str:
    return str(page.evaluate("document.body.dataset.csrf"))


def _table_seqs(page: Page) -> list[int]:
    return [
        int(s)
        for s in page.locator("#audit-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.seq).filter(Boolean)"
        )
    ]


def _no_overflow(page: Page) -> None:
    """Nothing but a table in its own scroller is wider than the window."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => !e.closest(".table-wrap") && !e.closest(".visually-hidden"))
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map((e) => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className)"""
    )
    assert wide == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _reveal_with_purpose(watched: Watched, purpose: str) -> tuple[str, str]:
    """An advisor opens the first cited RO and reveals its customer; returns the RO's
    number and id."""
    page = watched.page
    chip = _ask(watched).locator(".body .chip").first
    ro_id = chip.get_attribute("data-ro-id")
    assert ro_id is not None
    chip.click()
    panel = page.locator("#ro-panel")
    expect(panel.locator("h2")).to_have_text(re.compile(r"^RO \S+$"))
    ro_number = panel.locator("h2").inner_text().removeprefix("RO ")
    panel.get_by_label("Why do you need the customer's details?").fill(purpose)
    panel.get_by_role("button", name="Reveal").click()
    expect(panel.locator(".facts.revealed")).to_be_visible()
    expect(panel).to_contain_text(purpose)
    return ro_number, ro_id


@pytest.mark.parametrize("name", ["tech", "advisor"])
def test_the_admin_pages_do_not_exist_for_others(open_page: Any, name: str) -> None:
    watched = open_page()
    sign_in(watched, name)
    page = watched.page
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response is not None
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="404")).to_be_visible()
    page.goto("/chat")
    token = {"x-csrftoken": _csrf(page)}
    assert page.request.get("/admin/audit/export?format=csv").status == 404
    assert page.request.post("/admin/audit/verify", headers=token).status == 404
    email = f"sneaky-{uuid.uuid4().hex[:8]}@{SHOP}.example"
    form = {"email": email, "role": "ADMIN", "password": PASSWORD}
    assert page.request.post("/admin/users", form=form, headers=token).status == 404
    watched.errors.clear()  # Chromium logs each 404 page's status
    # Nor did the refused form create anyone.
    admin = open_page()
    sign_in(admin, "admin")
    admin.page.goto("/admin/users")
    expect(admin.page.locator("#users-table")).not_to_contain_text(email)


def test_a_reveal_is_in_the_audit_log_with_its_purpose_and_exports_match(
    open_page: Any, model: fake_llm.FakeChatModel, tmp_path: Path
) -> None:
    purpose = f"calling back about the brake quote {uuid.uuid4().hex[:6]}"
    advisor = open_page()
    sign_in(advisor, "advisor")
    ro_number, ro_id = _reveal_with_purpose(advisor, purpose)
    # A second reveal of the same RO (through the API), so paging has an older row.
    again = advisor.page.request.get(
        f"/api/v1/repair-orders/{ro_id}", params={"purpose": f"second look {uuid.uuid4().hex[:6]}"}
    )
    assert again.ok

    watched = open_page()
    sign_in(watched, "admin")
    page = watched.page
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    page.get_by_label("Action").fill("pii.reveal")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=pii\.reveal"))
    row = page.locator("#audit-table tbody tr", has_text=purpose)
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(2)).to_have_text(login_of(SHOP, "advisor")[0])
    expect(cells.nth(3)).to_have_text("PII_APPROVED")
    expect(cells.nth(4)).to_have_text("pii.reveal")
    expect(cells.nth(5)).to_have_text(f"RO {ro_number}")
    expect(cells.nth(7)).to_have_text(purpose)
    expect(cells.nth(8)).to_have_text("allowed")
    expect(page.locator("#audit-table tbody td:nth-child(5)")).to_have_text(
        ["pii.reveal"] * page.locator("#audit-table tbody tr").count()
    )
    assert axe_violations(page) == []
    screenshot(page, "audit-log")

    # Paging by cursor: older than the newest row, then newer than the oldest.
    newest = _table_seqs(page)[0]
    page.goto(f"/admin/audit?action=pii.reveal&before={newest}")
    older = _table_seqs(page)
    assert older
    assert all(seq < newest for seq in older)
    page.get_by_role("link", name="Newer entries").click()
    expect(page.locator("#audit-table tbody tr").first).to_have_attribute("data-seq", str(newest))
    expect(page.get_by_role("link", name="Newest")).to_be_visible()
    page.get_by_role("link", name="Newest").click()
    expect(page.get_by_role("link", name="Newest")).to_have_count(0)
    page.get_by_label("Action").fill("pii.reveal")

    # Narrowed to that RO, the table and both exports hold exactly the same rows.
    page.get_by_label("RO number").fill(ro_number)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"ro={re.escape(ro_number)}"))
    expect(page.locator("#audit-count")).to_contain_text("match the filter")
    shown = _table_seqs(page)
    total = int(page.locator("#audit-count").inner_text().split()[0])
    while page.get_by_role("link", name="Older entries").count():
        page.get_by_role("link", name="Older entries").click()
        expect(page.locator(f'#audit-table tr[data-seq="{shown[-1]}"]')).to_have_count(0)
        shown += _table_seqs(page)
    assert len(shown) == total > 0
    assert shown == sorted(shown, reverse=True)  # newest first

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    csv_rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [int(r["seq"]) for r in csv_rows] == sorted(shown)
    assert {r["action"] for r in csv_rows} == {"pii.reveal"}
    assert purpose in {r["purpose"] for r in csv_rows}

    href = page.get_by_role("link", name="Export JSON Lines").get_attribute("href")
    assert href is not None
    jsonl = page.request.get(href)
    assert jsonl.ok
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text().splitlines()]
    assert [line["seq"] for line in lines] == sorted(shown)
    # The same bytes as the JSON API's export of the same filter.
    assert {line["object_id"] for line in lines} == {ro_id}
    api = page.request.get(
        "/api/v1/audit-log/export",
        params={"format": "jsonl", "action": "pii.reveal", "ro_id": ro_id},
    )
    assert api.ok
    assert api.text() == jsonl.text()


def test_a_filter_that_matches_no_ro_says_so(open_page: Any) -> None:
    watched = open_page()
    sign_in(watched, "admin")
    page = watched.page
    page.goto("/admin/audit")
    page.get_by_label("RO number").fill("NOPE-404")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_have_text("This shop has no RO NOPE-404.")
    expect(page.locator("#audit-table tbody tr")).to_have_count(1)
    refused = page.request.get("/admin/audit/export?format=csv&ro=NOPE-404")
    assert refused.status == 422
    response = page.goto("/admin/audit?since=2025-02-30")
    assert response is not None
    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("not a date")
    watched.errors.clear()  # Chromium logs the 422s


def test_verify_chain_reports_an_intact_chain(open_page: Any) -> None:
    watched = open_page()
    sign_in(watched, "admin")
    page = watched.page
    page.goto("/admin/audit")
    page.get_by_role("button", name="Verify chain").click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text("Chain intact")
    checked = re.search(r"(\d+) rows? checked", result.inner_text())
    assert checked is not None
    assert int(checked[1]) > 0
    page.get_by_text("Signed anchor of the chain head").click()
    anchor = json.loads(result.locator("pre").inner_text())
    assert anchor["tenant"] == SHOP
    assert anchor["seq"] == int(checked[1])


def test_an_admin_adds_a_user_changes_the_role_disables_and_enables_them(open_page: Any) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@{SHOP}.example"
    watched = open_page()
    sign_in(watched, "admin")
    page = watched.page
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Role", exact=True).select_option("TECH")
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    status = page.locator("#users-status")
    expect(status).to_have_text(f"Created {email} as Technician (TECH).")
    expect(page.get_by_label("Email", exact=True)).to_have_value("")
    row = page.locator(f'#users-table tr[data-email="{email}"]')
    role = row.get_by_label(f"Role of {email}")
    expect(role).to_have_value("TECH")

    role.select_option("PII_APPROVED")
    row.get_by_role("button", name=f"Change role of {email}").click()
    expect(status).to_contain_text(f"{email} is now Advisor")
    expect(role).to_have_value("PII_APPROVED")

    row.get_by_role("button", name=f"Disable {email}").click()
    expect(status).to_contain_text(f"{email} is disabled")
    expect(row.locator(".badge")).to_have_text("Disabled")

    other = open_page()
    other.page.goto("/signin")
    other.page.get_by_label("Email", exact=True).fill(email)
    other.page.get_by_label("Password").fill(PASSWORD)
    other.page.get_by_role("button", name="Sign in").click()
    expect(other.page.get_by_role("alert")).to_contain_text("disabled")
    other.errors.clear()  # the 401 of the sign-in page

    row.get_by_role("button", name=f"Enable {email}").click()
    expect(status).to_contain_text(f"{email} is enabled")
    expect(row.locator(".badge")).to_have_text("Active")
    other.page.get_by_label("Password").fill(PASSWORD)
    other.page.get_by_role("button", name="Sign in").click()
    other.page.wait_for_url("**/chat")
    expect(other.page.locator(".who")).to_contain_text("PII_APPROVED")

    # The same email again is refused on the page, with what was typed kept.
    page.get_by_label("Email", exact=True).fill(email.upper())
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    expect(page.locator("#users-error")).to_have_text(
        "a user with this email already exists in this shop"
    )
    expect(page.get_by_label("Email", exact=True)).to_have_value(email.upper())
    assert page.locator(f'#users-table tr[data-email="{email}"]').count() == 1
    watched.errors.clear()  # the 409


def test_the_last_admin_cannot_be_demoted_or_disabled(open_page: Any) -> None:
    watched = open_page()
    sign_in(watched, "admin", ONE_ADMIN_SHOP)
    page = watched.page
    page.goto("/admin/users")
    email = login_of(ONE_ADMIN_SHOP, "admin")[0]
    row = page.locator(f'#users-table tr[data-email="{email}"]')
    row.get_by_label(f"Role of {email}").select_option("TECH")
    row.get_by_role("button", name=f"Change role of {email}").click()
    expect(page.locator("#users-error")).to_contain_text("at least one active admin")
    expect(row.get_by_label(f"Role of {email}")).to_have_value("ADMIN")
    row.get_by_role("button", name=f"Disable {email}").click()
    expect(page.locator("#users-error")).to_contain_text("at least one active admin")
    expect(row.locator(".badge.status-active")).to_have_text("Active")
    # Without script the form posts the page itself: the refusal is a 409 page, not a 500.
    user_id = row.get_by_label(f"Role of {email}").get_attribute("id")
    assert user_id is not None
    refused = page.request.post(
        f"/admin/users/{user_id.removeprefix('role-')}/role",
        form={"role": "TECH", "_csrf_token": _csrf(page)},
        headers={"accept": "text/html"},
    )
    assert refused.status == 409
    assert "at least one active admin" in refused.text()
    watched.errors.clear()  # the 409s


def test_a_thumbs_down_with_its_reason_is_listed_for_admins(
    open_page: Any, model: fake_llm.FakeChatModel
) -> None:
    reason = f"cited the wrong job {uuid.uuid4().hex[:6]}"
    asker = open_page()
    sign_in(asker, "tech")
    page = asker.page
    _ask(asker)
    conversation_id = page.url.rsplit("/", 1)[1]
    messages = page.request.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    answer_id = next(m["id"] for m in reversed(messages) if m["role"] == "assistant")
    rated = page.request.put(
        f"/api/v1/messages/{answer_id}/feedback",
        data={"rating": "down", "reason": reason},
        headers={"x-csrftoken": _csrf(page)},
    )
    assert rated.status == 200, rated.text()

    watched = open_page()
    sign_in(watched, "admin")
    page = watched.page
    page.get_by_role("link", name="Feedback").click()
    expect(page.get_by_label("Rating")).to_have_value("down")
    row = page.locator(f'#feedback-table tr[data-message="{answer_id}"]')
    expect(row.locator(".reason")).to_have_text(reason)
    expect(row.locator(".question")).to_have_text(QUESTION)
    expect(row).to_contain_text("Not helpful")
    expect(row).to_contain_text(login_of(SHOP, "tech")[0])
    answer = row.locator(".answer")
    expect(answer).to_contain_text("[redacted]")
    expect(answer).not_to_contain_text("[[pii:")
    expect(row.get_by_role("link", name=re.compile("^Open"))).to_have_attribute(
        "href", f"/chat/{conversation_id}"
    )

    page.get_by_label("Rating").select_option("up")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"rating=up"))
    expect(page.locator(f'#feedback-table tr[data-message="{answer_id}"]')).to_have_count(0)
    page.get_by_label("Rating").select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f'#feedback-table tr[data-message="{answer_id}"]')).to_have_count(1)
    # The admin opens the rated conversation: read-only, with the question and answer.
    page.locator(f'#feedback-table tr[data-message="{answer_id}"]').get_by_role(
        "link", name=re.compile("^Open")
    ).click()
    expect(page.locator(".message.user .body")).to_have_text([QUESTION])
    expect(page.locator(".read-only")).to_be_visible()
    expect(page.locator("#composer")).to_be_hidden()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_admin_pages_are_accessible(open_page: Any, width: int) -> None:
    watched = open_page(width=width)
    sign_in(watched, "admin")
    page = watched.page
    for path in ADMIN_PAGES:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        assert axe_violations(page) == [], path
        _no_overflow(page)
    page.goto("/admin/audit")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")
    page.get_by_label("Outcome").select_option("allowed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=allowed"))
    assert axe_violations(page) == []
    _no_overflow(page)
