"""The estimates page in a real browser: a draft from the demo shop's own history, its RO
chips, CSV and text exports, the messages bad input gets, and the same table for an
estimate asked in chat."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Response, expect

from tests.api import helpers
from tests.conftest import DemoService
from tests.samples import pii_values
from tests.web.conftest import LiveServer, Watched, axe_violations, screenshot, sign_in

SHOP = "desert-auto"


def _window_jobs(op_like: str, alias: str) -> str:
    """SQL: the completed lines with an operation like `op_like` on the window of RO `r`'s
    vehicle (same make and model, two model years either side), as an estimate looks."""
    return (
        f"FROM app.repair_orders {alias} JOIN app.ro_lines l"
        f" ON l.tenant_id = {alias}.tenant_id AND l.ro_id = {alias}.ro_id"
        " JOIN app.ro_labor_lines lb ON lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id"
        f" WHERE l.status = 'completed' AND lb.operation LIKE '{op_like}'"
        f" AND {alias}.vehicle_make = r.vehicle_make AND {alias}.vehicle_model = r.vehicle_model"
        f" AND abs({alias}.vehicle_year - r.vehicle_year) <= 2"
    )


def _done(op_like: str, alias: str) -> str:
    return f"EXISTS (SELECT 1 {_window_jobs(op_like, alias)})"


def _vehicle(demo: DemoService, *conditions: str) -> dict[str, Any]:
    rows = helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT r.ro_number, r.vehicle_year AS year, r.vehicle_make AS make,"
        " r.vehicle_model AS model FROM app.repair_orders r WHERE r.vehicle_year IS NOT NULL"
        f" AND {' AND '.join(conditions)} ORDER BY r.ro_number LIMIT 1",
    )
    assert rows, f"no demo vehicle where {conditions}"
    return rows[0]


def _front_brakes(demo: DemoService) -> dict[str, Any]:
    """The vehicle whose window has the most front brake jobs, so its ranges mean something,
    with one of its RO numbers."""
    counts = helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT r.vehicle_year AS year, r.vehicle_make AS make, r.vehicle_model AS model,"
        " count(*) AS n FROM app.repair_orders r JOIN app.ro_lines l"
        " ON l.tenant_id = r.tenant_id AND l.ro_id = r.ro_id JOIN app.ro_labor_lines lb"
        " ON lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id WHERE l.status = 'completed'"
        " AND lb.operation = 'BRK-FR-PR' AND r.vehicle_year IS NOT NULL GROUP BY 1, 2, 3",
    )
    assert counts, "the demo shop has no front brake jobs"

    def in_window(v: dict[str, Any]) -> int:
        return sum(
            c["n"]
            for c in counts
            if (c["make"], c["model"]) == (v["make"], v["model"])
            and abs(c["year"] - v["year"]) <= 2
        )

    best = max(counts, key=lambda v: (in_window(v), v["make"], v["model"], v["year"]))
    rows = helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT ro_id, ro_number, vehicle_year AS year, vehicle_make AS make,"
        " vehicle_model AS model"
        " FROM app.repair_orders WHERE vehicle_year = %s AND vehicle_make = %s"
        " AND vehicle_model = %s ORDER BY ro_number LIMIT 1",
        [best["year"], best["make"], best["model"]],
    )
    return rows[0]


def _brakes_oil_and_history(demo: DemoService) -> dict[str, Any]:
    """An RO whose vehicle's window had brake and oil work, and which itself has a declined
    or recommended line: drafted by its RO number, the page lists that work."""
    return _vehicle(
        demo,
        _done("BRK-%", "a"),
        _done("LOF%", "b"),
        "EXISTS (SELECT 1 FROM app.ro_lines d WHERE d.tenant_id = r.tenant_id"
        " AND d.ro_id = r.ro_id AND d.status IN ('declined', 'recommended'))",
    )


def _drafted(page: Page, work: str, **vehicle: Any) -> Response:
    """Fills the form (only the fields given) and drafts; the response."""
    page.goto("/estimates")
    page.get_by_label("Work to price").fill(work)
    labels = {"year": "Year", "make": "Make", "model": "Model", "ro_number": "RO number"}
    labels |= {"vin": "VIN"}
    for name, value in vehicle.items():
        page.get_by_label(labels[name], exact=True).fill(str(value))
    with page.expect_response(
        lambda r: r.url.endswith("/estimates") and r.request.method == "POST"
    ) as drafted:
        page.get_by_role("button", name="Draft estimate").click()
    return drafted.value


def _draft(page: Page, work: str, **vehicle: Any) -> int:
    return _drafted(page, work, **vehicle).status


def _money(value: str) -> str:
    return f"${Decimal(value):,.2f}"


def test_an_advisor_drafts_an_estimate_and_opens_its_source_ro(
    open_page: Any, demo_service: DemoService
) -> None:
    vehicle = _front_brakes(demo_service)
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    page.get_by_role("link", name="Estimates").click()
    expect(page.get_by_role("heading", name="Estimates", level=1)).to_be_visible()
    status = _draft(
        page,
        "front brake pads and rotors",
        year=vehicle["year"],
        make=vehicle["make"],
        model=vehicle["model"],
    )
    assert status == 200
    result = page.locator("#estimate-result")
    title = f"Estimate draft: {vehicle['year']} {vehicle['make']} {vehicle['model']}"
    expect(result.get_by_role("heading", name=title)).to_be_focused()
    job = result.locator(".estimate-job").first
    lines = job.locator("table.estimate-lines tbody tr")
    expect(lines.filter(has=page.get_by_role("cell", name="Labor", exact=True))).not_to_have_count(
        0
    )
    expect(lines.filter(has=page.get_by_role("cell", name="Part", exact=True))).not_to_have_count(0)
    expect(job.locator("thead th[scope=col]")).to_have_count(6)
    labor = lines.filter(has=page.get_by_role("cell", name="Labor", exact=True)).first
    expect(labor).to_contain_text(re.compile(r"\d h"))
    expect(labor.locator("td.range")).to_contain_text("$")
    totals = result.locator("table.estimate-totals")
    expect(totals.get_by_role("row", name=re.compile(r"^Tax"))).to_contain_text("$")
    total = totals.locator("td[data-total]").get_attribute("data-total")
    assert total
    assert Decimal(total) > 0
    expect(totals.get_by_role("row", name=re.compile(r"^Total"))).to_contain_text(_money(total))
    # A source chip opens that RO beside the table, its line marked; Esc closes it.
    chip = labor.locator("button.chip").first
    label = chip.inner_text()
    chip.click()
    panel = page.locator("#ro-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text(label.split(" · ")[0])
    expect(panel.locator("h2")).to_be_focused()
    expect(panel.locator(".line.cited")).to_have_count(1)
    expect(panel.locator(".line.cited h4")).to_contain_text(f"Line {label.split(' · ')[1]}")
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="light")
    page.locator(".estimate-title").evaluate("title => title.scrollIntoView()")
    screenshot(page, "estimate")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(chip).to_be_focused()
    assert watched.foreign_requests() == []


def test_download_csv_and_copy_as_text_carry_the_same_total(
    open_page: Any, live_server: LiveServer, demo_service: DemoService
) -> None:
    vehicle = _front_brakes(demo_service)
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    status = _draft(page, "front brakes", make=vehicle["make"], model=vehicle["model"])
    assert status == 200
    total = page.locator("#estimate-result td[data-total]").get_attribute("data-total")
    assert total
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download CSV").click()
    download = downloading.value
    assert re.fullmatch(r"estimate-[a-z0-9-]+\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [r["amount"] for r in rows if r["type"] == "total"] == [total]
    assert any(r["type"] == "labor" and r["source_ros"].startswith("RO ") for r in rows)
    assert any(r["type"] == "part" for r in rows)
    # The page is still there, and the same draft copies as text.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy as text").click()
    expect(page.locator(".copy-status")).to_have_text("Copied as text.")
    copied: str = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Estimate draft: ")
    assert f"Total: {_money(total)}" in copied
    assert "Labor: " in copied
    assert "<" not in copied


def test_a_vin_is_an_audited_lookup_and_never_sent_back(
    open_page: Any, demo_service: DemoService
) -> None:
    vehicle = _front_brakes(demo_service)
    vin = helpers.payload(demo_service, SHOP, vehicle["ro_id"])["vin"]
    assert vin
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    response = _drafted(page, "front brakes", vin=vin)
    assert response.status == 200
    assert vin.lower() not in response.text().lower()
    result = page.locator("#estimate-result")
    expect(result).to_contain_text("identified by its VIN")
    expect(result.locator("td[data-total]")).not_to_have_text("$0.00")
    audited = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT object_type, object_id, outcome FROM app.audit_log"
        " WHERE action = 'pii.lookup' AND request_id = %s",
        [response.headers["x-request-id"]],
    )
    assert [(a["object_type"], a["outcome"]) for a in audited] == [("vehicle", "allowed")]
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download CSV").click()
    exported = Path(downloading.value.path()).read_text(encoding="utf-8")
    assert vin.lower() not in exported.lower()
    total = result.locator("td[data-total]").get_attribute("data-total")
    assert f",total,,,,,,{total}," in exported
    # Once the form no longer matches the draft shown, it cannot be downloaded as that draft.
    page.get_by_label("Work to price").fill("oil change")
    expect(page.get_by_role("button", name="Download CSV")).to_be_disabled()
    expect(result.locator(".copy-status")).to_contain_text("draft again")


def test_two_jobs_show_two_tables_and_the_vehicles_declined_work(
    open_page: Any, demo_service: DemoService
) -> None:
    """A technician may draft too; by RO number the vehicle's open work is listed."""
    vehicle = _brakes_oil_and_history(demo_service)
    watched = open_page()
    sign_in(watched, "tech")
    page = watched.page
    status = _draft(page, "brakes and oil change", ro_number=vehicle["ro_number"])
    assert status == 200
    result = page.locator("#estimate-result")
    jobs = result.locator(".estimate-job")
    expect(jobs).to_have_count(2)
    expect(jobs.nth(0).locator("h3")).to_contain_text("brakes")
    expect(jobs.nth(1).locator("h3")).to_contain_text("oil change")
    for i in range(2):
        expect(jobs.nth(i).locator("table.estimate-lines")).to_have_count(1)
        expect(jobs.nth(i).locator("tbody tr")).not_to_have_count(0)
    expect(result).to_contain_text("identified by its RO number")
    history = result.locator(".estimate-history li")
    expect(history).not_to_have_count(0)
    expect(history.first.locator(".badge")).to_have_text(re.compile("Declined|Recommended"))
    history.first.locator("button.chip").click()
    expect(page.locator("#ro-panel .line.cited")).to_have_count(1)
    # What a technician sees (the draft and the RO panel) holds none of the customer's
    # details on file for the vehicle's RO.
    (row,) = helpers.rows_as_admin(
        demo_service,
        "desert-auto",
        "SELECT ro_id FROM app.repair_orders WHERE ro_number = %s",
        [vehicle["ro_number"]],
    )
    customer = helpers.payload(demo_service, "desert-auto", row["ro_id"])
    shown = page.content().lower()
    held = [v for v in pii_values(customer) if len(v) >= 4]
    assert held
    assert [v for v in held if v.lower() in shown] == []
    page.get_by_role("button", name="Close repair order").click()
    expect(page.locator("#ro-panel")).to_be_hidden()


def test_bad_input_is_said_on_the_page_with_a_4xx(
    open_page: Any, demo_service: DemoService
) -> None:
    vehicle = _front_brakes(demo_service)
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    alert = page.locator("#estimate-result [role=alert]")

    assert _draft(page, "", make=vehicle["make"], model=vehicle["model"]) == 422
    expect(alert).to_contain_text("Describe the work to price")
    assert _draft(page, "oil change", make=vehicle["make"], ro_number="1") == 422
    expect(alert).to_contain_text("Name the vehicle one way only")
    assert _draft(page, "oil change") == 422
    expect(alert).to_contain_text("Name the vehicle:")
    assert _draft(page, "asdf", make=vehicle["make"], model=vehicle["model"]) == 422
    expect(alert).to_contain_text("name the work")
    assert _draft(page, "oil change", ro_number="999999999") == 404
    expect(alert).to_contain_text("No such vehicle")
    expect(page.locator("table")).to_have_count(0)
    # Without htmx the form posts to the same address and gets the whole page back, with
    # every problem listed (a year the number field would refuse, too).
    csrf = page.evaluate("document.body.dataset.csrf")
    plain = page.request.post(
        "/estimates",
        form={"_csrf_token": csrf, "work": "", "year": "1700", "make": "Ford", "model": "F-150"},
        headers={"accept": "text/html"},
    )
    assert plain.status == 422
    assert "<h1>Estimates</h1>" in plain.text()
    assert "Describe the work to price" in plain.text()
    assert "The model year is a number from 1900 to 2100." in plain.text()
    watched.errors.clear()  # Chromium logs each 4xx response as a console error


def _ask_in_chat(page: Page, question: str) -> dict[str, Any]:
    csrf = page.evaluate("document.body.dataset.csrf")
    headers = {"x-csrftoken": csrf}
    created = page.request.post("/api/v1/conversations", headers=headers)
    assert created.ok, created.text()
    cid = created.json()["id"]
    asked = page.request.post(
        f"/api/v1/conversations/{cid}/messages", headers=headers, data={"content": question}
    )
    assert asked.status == 201, asked.text()
    answer: dict[str, Any] = asked.json()["answer"]
    return answer | {"conversation_id": cid}


def test_an_estimate_asked_in_chat_shows_the_same_table_to_its_asker_only(
    open_page: Any, demo_service: DemoService
) -> None:
    vehicle = _front_brakes(demo_service)
    watched = open_page()
    sign_in(watched, "advisor")
    page = watched.page
    answer = _ask_in_chat(
        page, f"estimate front pads and rotors on RO {vehicle['ro_number']}'s vehicle"
    )
    estimate = answer["estimate"]
    assert estimate
    assert Decimal(estimate["total"]) > 0
    url = f"/ui/messages/{answer['id']}/estimate"
    fragment = page.request.get(url)
    assert fragment.status == 200
    assert f'data-total="{estimate["total"]}"' in fragment.text()
    assert "<table" in fragment.text()
    exported = page.request.get(f"{url}.csv")
    assert exported.status == 200
    assert exported.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(exported.text())))
    assert [r["amount"] for r in rows if r["type"] == "total"] == [estimate["total"]]

    # What chat.js does for such an answer: the table appears, and its chips open the
    # chat page's own RO panel.
    page.goto(f"/chat/{answer['conversation_id']}")
    shown = page.evaluate(
        """async ([id]) => {
            const { attachEstimate } = await import("/static/estimate.js");
            const box = document.createElement("div");
            box.id = "attached";
            document.querySelector("#thread .message.assistant:last-of-type").append(box);
            return await attachEstimate(box, id);
        }""",
        [answer["id"]],
    )
    assert shown is True
    attached = page.locator("#attached")
    expect(attached.locator("td[data-total]")).to_have_text(_money(estimate["total"]))
    expect(attached.locator(".estimate-job table")).not_to_have_count(0)
    assert axe_violations(page) == []
    attached.locator("button.chip").first.click()
    expect(page.locator("#ro-panel")).to_be_visible()
    expect(page.locator("#ro-panel .line.cited")).to_have_count(1)

    for other_role in ("tech", "admin"):
        other = open_page()
        sign_in(other, other_role)
        assert other.page.request.get(url).status == 404
        assert other.page.request.get(f"{url}.csv").status == 404
        other.errors.clear()
    missing = page.request.get("/ui/messages/00000000-0000-0000-0000-000000000000/estimate")
    assert missing.status == 404


def test_the_page_fits_a_phone(open_page: Any, demo_service: DemoService) -> None:
    vehicle = _brakes_oil_and_history(demo_service)
    watched: Watched = open_page(width=390, height=844)
    sign_in(watched, "advisor")
    page = watched.page
    assert _draft(page, "brakes and oil change", ro_number=vehicle["ro_number"]) == 200
    expect(page.locator(".estimate-job")).to_have_count(2)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px wide"
    expect(page.locator("#drawer-toggle")).to_be_hidden()
    page.locator(".estimate-job button.chip").first.click()
    expect(page.locator("#ro-panel")).to_be_visible()
    page.keyboard.press("Escape")
    assert axe_violations(page) == []
