"""The web app's safety promises in a real browser: hostile text in a repair order stays
inert wherever it is shown, customer details reach only those allowed to see them (and
only after they say why), and every response carries the security headers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from assistant.web.security import HEADERS
from tests import fake_llm
from tests.api import helpers
from tests.conftest import DemoService
from tests.samples import record
from tests.web.conftest import SHOP, LiveServer, Watched, sign_in

HOSTILE_SHOP = "hostile-garage"
HOSTILE_TECH = "tech@hostile-garage.example"
HOSTILE_PASSWORD = "hostile-garage-tech-password"
HOSTILE_RO = "66601"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
REMOTE_IMAGE = "![x](http://evil.example/x.png)"
JS_LINK = "[click](javascript:alert(1))"
HOSTILE_QUESTION = f"{IMG} brake pedal pulsates at highway speed, what did we do?"
QUESTION = "front brake pads squeal on the camry, what did we do?"

# Records every <img>, <script> (and other fetching elements) put into the page after
# load, even one removed again before the test looks: run through DevTools, so the
# page's CSP does not apply to it.
WATCH_INSERTS = """() => {
    window.__inserted = [];
    const risky = "img, script, iframe, object, embed, video, audio, source, link, style";
    new MutationObserver((records) => {
        for (const r of records) for (const node of r.addedNodes) {
            if (node.nodeType !== 1) continue;
            const found = node.matches(risky) ? [node] : [];
            found.push(...node.querySelectorAll(risky));
            for (const el of found) window.__inserted.push(el.outerHTML.slice(0, 120));
        }
    }).observe(document.body, { childList: true, subtree: true });
}"""


@dataclass(frozen=True)
class HostileShop:
    slug: str
    email: str
    password: str


@pytest.fixture(scope="module")
def hostile_shop(
    demo_service: DemoService, tmp_path_factory: pytest.TempPathFactory
) -> HostileShop:
    """A shop of its own, so the demo shops' data stays what other tests expect."""
    line = {
        "line": "A",
        "status": "completed",
        "complaint": f"Brake pedal pulsates at highway speed. {IMG} {SCRIPT}",
        "cause": f"Front rotors warped, photo: {REMOTE_IMAGE}",
        "correction": f"Replaced front rotors and pads, see {JS_LINK} road tested OK.",
        "labor": [],
        "parts": [],
    }
    path = tmp_path_factory.mktemp("hostile") / "hostile.jsonl"
    path.write_text(json.dumps(record(ro_number=HOSTILE_RO, lines=[line])) + "\n")
    user = ("users", "create", "--tenant", HOSTILE_SHOP, "--email", HOSTILE_TECH)
    for args, stdin in (
        (("tenants", "create", HOSTILE_SHOP, "--name", "Hostile Garage"), ""),
        ((*user, "--role", "TECH", "--password-stdin"), HOSTILE_PASSWORD + "\n"),
        (("ingest", "--tenant", HOSTILE_SHOP, str(path)), ""),
    ):
        result = demo_service.cli(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr[-2000:]
    return HostileShop(HOSTILE_SHOP, HOSTILE_TECH, HOSTILE_PASSWORD)


def _quote_records(messages: list[dict[str, Any]]) -> str:
    """A model that quotes the records it was given, word for word, and the hostile
    Markdown itself, so the answer carries every trick whatever the retrieval kept."""
    prompt = str(messages[-1]["content"])
    records = prompt.split("<records>", 1)[-1].split("</records>", 1)[0].strip()
    return (
        f"From the records [RO {HOSTILE_RO} line A]:\n\n{records}\n\n"
        f"Also {IMG} and {SCRIPT}\n\n{REMOTE_IMAGE} {JS_LINK} [own page](/chat)"
    )


def _ask(page: Page, question: str) -> Locator:
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete", timeout=30_000)
    return page.locator(".message.assistant").last


def _assert_inert(watched: Watched, dialogs: list[str], *regions: Locator) -> None:
    page = watched.page
    for region in regions:
        expect(region.locator("img, script, iframe, object, embed, svg")).to_have_count(0)
        hrefs = region.locator("a[href]").evaluate_all(
            "els => els.map(a => a.getAttribute('href'))"
        )
        assert all(h.startswith("/") and not h.startswith("//") for h in hrefs), hrefs
    assert page.locator("[href^='javascript:' i], [src^='javascript:' i]").count() == 0
    assert page.evaluate("window.__inserted || []") == []
    assert dialogs == []
    assert watched.foreign_requests() == []


def test_hostile_record_text_is_inert_in_the_answer_and_the_panel(
    open_page: Any, model: fake_llm.FakeChatModel, hostile_shop: HostileShop
) -> None:
    model.reply = _quote_records
    watched = open_page()
    page = watched.page
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill(hostile_shop.email)
    page.get_by_label("Password").fill(hostile_shop.password)
    page.get_by_label("Shop").fill(hostile_shop.slug)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chat")
    page.evaluate(WATCH_INSERTS)

    answer = _ask(page, HOSTILE_QUESTION)
    assert "onerror" in str(model.requests[-1]["messages"][-1]["content"])  # it was retrieved
    body = answer.locator(".body")
    # Raw HTML is shown as the text it is; the outside image and the script link are gone.
    expect(body).to_contain_text(IMG)
    expect(body).to_contain_text(SCRIPT)
    expect(body.locator("a", has_text="own page")).to_have_attribute("href", "/chat")
    expect(page.locator(".message.user .body").last).to_have_text(HOSTILE_QUESTION)
    chip = answer.locator(".body .chip").first
    expect(chip).to_have_text(f"RO {HOSTILE_RO} · line A")
    chip.click()
    panel = page.locator("#ro-panel")
    expect(panel.locator("h2")).to_have_text(f"RO {HOSTILE_RO}")
    cited = panel.locator(".line.cited")
    expect(cited).to_contain_text(SCRIPT)
    expect(cited).to_contain_text(REMOTE_IMAGE)
    expect(cited).to_contain_text(JS_LINK)
    _assert_inert(
        watched, dialogs, body, answer.locator(".sources"), panel, page.locator("#sidebar")
    )

    # The stored answer, read back into a freshly loaded page, is just as inert.
    page.keyboard.press("Escape")
    page.reload()
    page.evaluate(WATCH_INSERTS)
    stored = page.locator(".message.assistant").last
    expect(stored.locator(".body")).to_contain_text(SCRIPT)
    stored.locator(".sources .chip").first.click()
    expect(panel.locator(".line.cited")).to_contain_text(IMG)
    regions = (stored.locator(".body"), stored.locator(".sources"), panel)
    _assert_inert(watched, dialogs, *regions, page.locator("#sidebar"))


def _vault_values(demo_service: DemoService, ro_id: str) -> list[str]:
    """The cited RO's customer details as the vault holds them, lower-cased."""
    payload = helpers.payload(demo_service, SHOP, ro_id)
    values = [payload.get(k) for k in ("customer_name", "email", "vin", "license_plate")]
    values += payload.get("phones") or []
    address = payload.get("address") or {}
    values.append(address.get("street"))
    found = [v.lower() for v in values if isinstance(v, str) and len(v) >= 6]
    assert len(found) >= 5, payload.keys()
    return found


def test_a_technician_never_sees_customer_details(
    open_page: Any, model: fake_llm.FakeChatModel, demo_service: DemoService
) -> None:
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    answer = _ask(page, QUESTION)
    expect(answer.locator(".body .redacted")).to_have_text("[redacted]")
    expect(page.locator(".reveal-slot")).to_have_count(0)
    chip = answer.locator(".body .chip").first
    values = _vault_values(demo_service, chip.get_attribute("data-ro-id") or "")
    assert helpers.leaked(values, page.content()) == []
    chip.click()
    panel = page.locator("#ro-panel")
    expect(panel.locator(".line").first).to_be_visible()
    expect(panel.locator(".customer")).to_contain_text("[redacted]")
    expect(panel.locator("form.reveal")).to_have_count(0)
    assert helpers.leaked(values, page.content()) == []
    page.reload()
    expect(page.locator(".message.assistant .body .redacted").last).to_be_visible()
    assert helpers.leaked(values, page.content()) == []


def test_an_approved_user_reveals_a_detail_only_after_giving_a_purpose(
    open_page: Any, model: fake_llm.FakeChatModel, demo_service: DemoService
) -> None:
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    answer = _ask(page, QUESTION)
    slot = answer.get_by_role("button", name="Reveal phones of the customer", exact=False)
    expect(slot).to_have_count(1)
    ro_id = slot.get_attribute("data-ro-id") or ""
    values = _vault_values(demo_service, ro_id)
    phones = helpers.payload(demo_service, SHOP, ro_id)["phones"]
    assert helpers.leaked(values, page.content()) == []  # nothing revealed on load

    slot.click()
    panel = page.locator("#ro-panel")
    purpose_field = panel.get_by_label("Why do you need the customer's details?")
    expect(purpose_field).to_be_focused()
    assert helpers.leaked(values, page.content()) == []
    # An empty purpose is refused on the server too, not only by the form.
    purpose_field.evaluate("el => el.removeAttribute('required')")
    panel.get_by_role("button", name="Reveal", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Say why")
    assert helpers.leaked(values, page.content()) == []
    assert all("422" in e for e in watched.errors), watched.errors  # the refusal's status
    watched.errors.clear()

    purpose = f"call back about the brake estimate {uuid.uuid4().hex[:8]}"
    panel.get_by_label("Why do you need the customer's details?").fill(purpose)
    panel.get_by_role("button", name="Reveal", exact=True).click()
    expect(panel.locator("dd[data-field='phones']")).to_have_text(", ".join(phones))
    expect(panel.locator(".customer .hint")).to_contain_text(purpose)
    audited = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT action, outcome, object_id FROM app.audit_log WHERE purpose = %s",
        [purpose],
    )
    assert [(r["action"], r["outcome"], str(r["object_id"])) for r in audited] == [
        ("pii.reveal", "allowed", ro_id)
    ]


STATIC = ("app.css", "chat.js", "vendor/htmx-2.0.11.min.js", "vendor/purify-3.5.0.es.mjs")


def test_pages_and_static_files_carry_the_security_headers(open_page: Any) -> None:
    policy = HEADERS["content-security-policy"]
    # The policy itself: nothing inline, nothing from elsewhere, never framed.
    assert policy.startswith("default-src 'self';")
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "img-src 'self' data:;" in policy

    watched = open_page()
    page = watched.page
    responses = [page.goto("/signin")]
    sign_in(watched, "tech")
    responses.append(page.goto("/chat"))
    responses += [page.request.get(f"/static/{name}") for name in STATIC]
    responses.append(page.request.get("/ui/conversations"))
    for response in responses:
        assert response is not None
        assert response.ok, response.url
        headers = response.headers
        assert headers.get("content-security-policy") == policy, response.url
        assert headers.get("x-content-type-options") == "nosniff", response.url
        assert headers.get("referrer-policy") == "same-origin", response.url
        assert headers.get("x-frame-options") == "DENY", response.url
    types = {r.url.split("?")[0].rsplit("/", 1)[-1]: r.headers["content-type"] for r in responses}
    assert types["app.css"].startswith("text/css")
    assert "javascript" in types["chat.js"]
    assert "javascript" in types["purify-3.5.0.es.mjs"]


def test_another_site_cannot_post_a_form_in_the_users_name(
    open_page: Any, live_server: LiveServer
) -> None:
    """The other site's page is served without this app's CSP, so it is the CSRF defence
    (SameSite=Strict cookies, the signed token), not the policy, that stops the post."""
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    token = page.locator("body").get_attribute("data-csrf") or ""
    created = page.request.post(
        "/api/v1/conversations", data={"title": "kept title"}, headers={"x-csrftoken": token}
    )
    assert created.status == 201, created.text()
    rename = f"{live_server.url}/ui/conversations/{created.json()['id']}/rename"
    evil = live_server.url.replace("127.0.0.1", "localhost") + "/evil"
    form = (
        f'<form method="post" action="{rename}"><input name="title" value="renamed elsewhere">'
        "</form>"
    )
    page.route(evil, lambda route: route.fulfill(body=form, content_type="text/html"))
    page.goto(evil)
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    assert page.url == rename
    assert all("403" in e for e in watched.errors), watched.errors
    watched.errors.clear()

    page.goto(f"/chat/{created.json()['id']}")
    expect(page.locator("#conversation-list li.current > a")).to_have_text("kept title")
    refused = page.request.post(rename, form={"title": "no token"})
    assert refused.status == 403
    allowed = page.request.post(
        rename, form={"title": "Camry brake noise"}, headers={"x-csrftoken": token}
    )
    assert allowed.status == 200, allowed.text()
