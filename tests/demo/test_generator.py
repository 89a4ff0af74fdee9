"""The demo corpus must look like a real shop's history, or search and estimates prove nothing.

Checks here are independent re-implementations (VIN check digit, totals) rather than calls
back into the generator, so a bug there cannot vouch for itself.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from assistant.demo.generator import ShopProfile, generate_shop_records, shop_profile
from assistant.demo.reference import recalls, trouble_codes

Record = dict[str, Any]

_TRANSLITERATION = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ0123456789",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9, *range(10)],
        strict=True,
    )
)
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_WMI = {
    "Toyota": ("4T", "2T", "5Y", "JT", "3T", "5T"),
    "Honda": ("1HG", "2HG", "19X", "SHH", "5J6", "2HK", "7FA", "5FN"),
    "Ford": ("1F", "3F"),
    "Chevrolet": ("1G", "2G", "3G"),
    "GMC": ("1G", "2G", "3G"),
    "Nissan": ("1N", "3N", "5N", "JN"),
    "Hyundai": ("5NP", "KMH", "KM8", "5XY", "5NM"),
    "Kia": ("KN", "5XX", "5XY", "3KP"),
    "Subaru": ("4S3", "4S4", "JF1", "JF2"),
    "Jeep": ("1C4", "3C4"),
    "Ram": ("1C6", "3C6"),
    "Mazda": ("JM1", "JM3", "3MZ"),
    "Volkswagen": ("3VW", "WVG", "3VV"),
}
_STATUSES = {"completed", "declined", "recommended", "in_progress"}


def _check_digit(vin: str) -> str:
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def _year_code(year: int) -> str:
    return "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 1980) % 30]


def _text(record: Record) -> str:
    return " ".join(f"{ln['complaint']} {ln['cause']} {ln['correction']}" for ln in record["lines"])


def _by_vehicle(records: list[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[record["customer"]["vin"]].append(record)
    return groups


@pytest.fixture(scope="module")
def shop0() -> list[Record]:
    return generate_shop_records(0, 500)


@pytest.fixture(scope="module")
def shop1() -> list[Record]:
    return generate_shop_records(1, 500)


def test_same_arguments_give_identical_output(shop0: list[Record]) -> None:
    assert generate_shop_records(0, 500) == shop0
    assert generate_shop_records(0, 500, seed=7) != shop0


def test_shops_have_their_own_people_cars_and_numbers(
    shop0: list[Record], shop1: list[Record]
) -> None:
    def people(records: list[Record], key: str) -> set[str]:
        return {r["customer"][key] for r in records}

    assert not people(shop0, "vin") & people(shop1, "vin")
    assert len(people(shop0, "email") & people(shop1, "email")) < 5
    assert {r["advisor"]["tag"] + r["advisor"]["name"] for r in shop0}.isdisjoint(
        {r["advisor"]["tag"] + r["advisor"]["name"] for r in shop1}
    )
    assert {r["ro_number"] for r in shop0}.isdisjoint({r["ro_number"] for r in shop1})


def test_records_have_the_canonical_shape(shop0: list[Record]) -> None:
    for record in shop0:
        assert set(record) == {
            "ro_number", "status", "opened_on", "closed_on", "advisor", "vehicle",
            "customer", "lines", "totals",
        }  # fmt: skip
        assert set(record["advisor"]) == {"name", "tag"}
        assert re.fullmatch(r"T\d{3}", record["advisor"]["tag"])
        vehicle = record["vehicle"]
        assert set(vehicle) == {"year", "make", "model", "color", "mileage_in", "mileage_out"}
        assert isinstance(vehicle["year"], int)
        assert isinstance(vehicle["mileage_in"], int)
        assert vehicle["mileage_out"] >= vehicle["mileage_in"]
        customer = record["customer"]
        assert set(customer) == {
            "name", "email", "phones", "address", "payment_method", "vin", "license_plate",
        }  # fmt: skip
        assert set(customer["address"]) == {"street", "city", "state", "zip"}
        assert re.fullmatch(r"\d{5}", customer["address"]["zip"])
        assert customer["email"].endswith(("@example.com", "@example.net", "@example.org"))
        assert all(re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", p) for p in customer["phones"])
        assert re.fullmatch(r"([A-Z]{2} )?[A-Z0-9][A-Z0-9 -]{4,8}", customer["license_plate"])
        assert 1 <= len(record["lines"]) <= 4
        assert [ln["line"] for ln in record["lines"]] == list("ABCD"[: len(record["lines"])])
        for line in record["lines"]:
            assert set(line) == {
                "line", "status", "complaint", "cause", "correction", "labor", "parts",
            }  # fmt: skip
            assert line["status"] in _STATUSES
            assert all(isinstance(line[k], str) and line[k] for k in ("complaint", "correction"))
            for op in line["labor"]:
                assert set(op) == {
                    "op_code",
                    "description",
                    "technician",
                    "hours",
                    "amount",
                    "pay_type",
                }
                assert set(op["technician"]) == {"name", "code"}
                assert op["technician"]["code"].isdigit()
                assert op["hours"] > 0
                assert op["pay_type"] in {"customer", "warranty"}
            for part in line["parts"]:
                assert set(part) == {"part_number", "description", "quantity", "unit_price"}
                assert part["quantity"] > 0
                assert part["unit_price"] >= 0
                assert round(part["unit_price"], 2) == part["unit_price"]
        assert all(round(v, 2) == v and isinstance(v, float) for v in record["totals"].values())


def test_staff_is_a_small_stable_team(shop0: list[Record]) -> None:
    advisors = {(r["advisor"]["name"], r["advisor"]["tag"]) for r in shop0}
    technicians = {
        (op["technician"]["name"], op["technician"]["code"])
        for r in shop0
        for ln in r["lines"]
        for op in ln["labor"]
    }
    assert 2 <= len(advisors) <= 3
    assert 4 <= len(technicians) <= 6


def test_ro_numbers_are_unique_and_follow_dates(shop0: list[Record]) -> None:
    numbers = [r["ro_number"] for r in shop0]
    assert all(re.fullmatch(r"\d{5,6}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    ordered = sorted(shop0, key=lambda r: int(r["ro_number"]))
    dates = [r["opened_on"] for r in ordered]
    assert dates == sorted(dates)
    assert dates[0] >= "2019-01-01"
    assert dates[-1] <= "2026-10-31"
    assert dates[0] < "2019-07-01"
    assert dates[-1] > "2026-06-01"


def test_every_vin_is_valid_for_its_make_and_year(shop0: list[Record], shop1: list[Record]) -> None:
    for record in shop0 + shop1:
        vin, vehicle = record["customer"]["vin"], record["vehicle"]
        assert _VIN.fullmatch(vin), vin
        assert vin[8] == _check_digit(vin), vin
        assert vin[9] == _year_code(vehicle["year"]), vin
        assert vin.startswith(_WMI[vehicle["make"]]), vin


def test_vehicles_return_with_rising_mileage(shop0: list[Record]) -> None:
    groups = _by_vehicle(shop0)
    assert 0.25 * len(shop0) <= len(groups) <= 0.4 * len(shop0)
    long_history = 0
    for visits in groups.values():
        visits.sort(key=lambda r: r["opened_on"])
        same = {
            (r["customer"]["name"], r["customer"]["license_plate"], r["vehicle"]["model"],
             r["vehicle"]["year"], r["vehicle"]["color"])
            for r in visits
        }  # fmt: skip
        assert len(same) == 1
        for earlier, later in itertools.pairwise(visits):
            assert later["opened_on"] > (earlier["closed_on"] or earlier["opened_on"])
            assert later["vehicle"]["mileage_in"] > earlier["vehicle"]["mileage_out"]
        first, last = (
            date.fromisoformat(visits[0]["opened_on"]),
            date.fromisoformat(visits[-1]["opened_on"]),
        )
        long_history += len(visits) >= 3 and (last - first).days > 2 * 365
    assert long_history >= 20


def test_totals_add_up(shop0: list[Record], shop1: list[Record]) -> None:
    rates = {0: shop_profile(0), 1: shop_profile(1)}
    for index, records in ((0, shop0), (1, shop1)):
        profile = rates[index]
        for record in records:
            worked = [ln for ln in record["lines"] if ln["status"] in ("completed", "in_progress")]
            totals = record["totals"]
            labor = sum(op["amount"] for ln in worked for op in ln["labor"])
            parts = sum(
                round(p["quantity"] * p["unit_price"], 2) for ln in worked for p in ln["parts"]
            )
            tax = round(profile.tax_rate * (totals["parts"] + totals["shop_supplies"]), 2)
            due = (
                totals["labor"] + totals["parts"] + totals["sublet"] + totals["shop_supplies"]
                + totals["hazardous"] + totals["tax"] - totals["discount"]
            )  # fmt: skip
            assert abs(totals["labor"] - labor) < 0.005
            assert abs(totals["parts"] - parts) < 0.005
            assert abs(totals["tax"] - tax) < 0.005
            assert abs(totals["total_due"] - due) < 0.005
            assert 0 <= totals["discount"] <= totals["labor"]
            for op in (op for ln in worked for op in ln["labor"]):
                expected = (
                    0.0
                    if op["pay_type"] == "warranty"
                    else round(op["hours"] * profile.labor_rate, 2)
                )
                assert op["amount"] == expected


def test_declined_and_recommended_work(shop0: list[Record], shop1: list[Record]) -> None:
    for records in (shop0, shop1):
        deferred = [
            r
            for r in records
            if any(ln["status"] in ("declined", "recommended") for ln in r["lines"])
        ]
        assert 0.18 <= len(deferred) / len(records) <= 0.32
        for record in deferred:
            for line in record["lines"]:
                if line["status"] in ("declined", "recommended"):
                    assert line["labor"] == []
                    assert line["parts"] == []
    numbers_by_vin = {vin: {r["ro_number"] for r in v} for vin, v in _by_vehicle(shop0).items()}
    came_back = [
        r
        for r in shop0
        for m in re.finditer(r"(?:recommended|diagnosed) on RO (\d+)", _text(r))
        if m.group(1) in numbers_by_vin[r["customer"]["vin"]] and m.group(1) != r["ro_number"]
    ]
    assert len(came_back) >= 10


def test_customer_pii_is_typed_into_some_stories(shop0: list[Record]) -> None:
    leaked = 0
    for record in shop0:
        text, customer = _text(record), record["customer"]
        digits = re.sub(r"\D", "", text)
        if customer["name"].lower() in text.lower() or any(
            re.sub(r"\D", "", phone) in digits for phone in customer["phones"]
        ):
            leaked += 1
    assert 0.03 <= leaked / len(shop0) <= 0.2


def test_job_variety_and_real_trouble_codes(shop0: list[Record]) -> None:
    categories = {
        op["op_code"].split("-")[0] for r in shop0 for ln in r["lines"] for op in ln["labor"]
    }
    assert len(categories) >= 8
    assert {"BRK", "TIRE", "LOF", "DIAG", "AC"} <= categories
    real = {code.code: code.title for code in trouble_codes()}
    seen = set()
    for record in shop0:
        for line in record["lines"]:
            for code, title in re.findall(
                r"Scanned [^:]+: ([PCBU][0-3]\d{3}) (.+?)\.(?: |$)", line["cause"]
            ):
                assert real[code] == title
                seen.add(code)
    assert len(seen) >= 20


def test_recalls_cite_real_campaigns_for_the_vehicle(shop0: list[Record]) -> None:
    cited = 0
    for record in shop0:
        vehicle = record["vehicle"]
        campaigns = {
            rc.campaign: rc.years
            for rc in recalls().get((vehicle["make"].upper(), vehicle["model"].upper()), ())
        }
        for op in (
            op for ln in record["lines"] for op in ln["labor"] if op["op_code"].startswith("RCL-")
        ):
            campaign = op["op_code"].removeprefix("RCL-")
            assert vehicle["year"] in campaigns[campaign]
            assert op["pay_type"] == "warranty"
            assert op["amount"] == 0
            assert int(record["opened_on"][:4]) >= 2000 + int(campaign[:2])
            cited += 1
    assert cited >= 5


def test_same_part_prices_spread_a_little(shop0: list[Record]) -> None:
    prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for record in shop0:
        for line in record["lines"]:
            for part in line["parts"]:
                prices[part["part_number"], record["opened_on"][:4]].append(part["unit_price"])
    spread = [p for p in prices.values() if len(p) >= 3 and max(p) > 0]
    assert len(spread) >= 20
    assert all(max(p) / min(p) < 1.15 for p in spread)
    assert sum(len(set(p)) > 1 for p in spread) > 0.8 * len(spread)
    oil = [
        p["unit_price"]
        for r in shop0
        for ln in r["lines"]
        for p in ln["parts"]
        if "oil" in p["description"]
    ]
    assert min(oil) < max(oil) / 1.25


def test_recent_orders_are_open(shop0: list[Record]) -> None:
    open_orders = [r for r in shop0 if r["status"] == "open"]
    assert 1 <= len(open_orders) <= 12
    for record in open_orders:
        assert record["closed_on"] is None
        assert any(ln["status"] == "in_progress" for ln in record["lines"])
        assert record["opened_on"] >= "2026-06-01"
    for record in shop0:
        if record["status"] == "closed":
            assert record["opened_on"] <= record["closed_on"] <= "2026-10-31"
            assert all(ln["status"] != "in_progress" for ln in record["lines"])


def test_shop_profiles() -> None:
    first, second = shop_profile(0), shop_profile(1)
    assert isinstance(first, ShopProfile)
    assert first != second
    profiles = [shop_profile(i) for i in range(200)]
    assert len({p.slug for p in profiles}) == 200
    assert len({p.name for p in profiles}) == 200
    for profile in profiles:
        assert re.fullmatch(r"[a-z0-9-]{3,40}", profile.slug)
        assert 0 <= profile.tax_rate < 0.12
        assert 90 <= profile.labor_rate <= 220
    assert shop_profile(57) == shop_profile(57)
    assert shop_profile(0, seed=1) == first


def test_empty_request() -> None:
    assert generate_shop_records(3, 0) == []


def test_two_thousand_records_are_fast() -> None:
    started = time.perf_counter()
    records = generate_shop_records(5, 2000)
    assert len(records) == 2000
    assert time.perf_counter() - started < 3.0
