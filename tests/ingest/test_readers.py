"""Readers: every record keeps its position; unreadable input is refused with a reason."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from assistant.ingest import readers
from assistant.ingest.records import validate
from tests.ingest.pdfs import image_only_pdf, ro_pdf
from tests.samples import record


def test_json_object_array_and_lines() -> None:
    one = readers.parse("a.json", json.dumps(record()).encode())
    many = readers.parse("b.json", json.dumps([record(), record(ro_number="2")]).encode())
    lines = readers.parse(
        "c.jsonl", b"\n".join(json.dumps(record(ro_number=str(i))).encode() for i in range(3))
    )
    assert [r.position for r in one.records] == ["a.json"]
    assert [r.position for r in many.records] == ["b.json[0]", "b.json[1]"]
    assert [r.position for r in lines.records] == ["c.jsonl:1", "c.jsonl:2", "c.jsonl:3"]


def test_malformed_json_file_is_refused_whole() -> None:
    parsed = readers.parse("bad.json", b'{"ro_number": "1", "lines": [}')
    assert parsed.records == []
    assert parsed.errors
    assert "malformed JSON at line 1" in parsed.errors[0]


def test_one_malformed_json_line_does_not_sink_the_others() -> None:
    content = (
        json.dumps(record()).encode()
        + b"\n{not json\n"
        + json.dumps(record(ro_number="9")).encode()
    )
    parsed = readers.parse("mixed.jsonl", content)
    assert [(r.position, bool(r.errors)) for r in parsed.records] == [
        ("mixed.jsonl:1", False),
        ("mixed.jsonl:2", True),
        ("mixed.jsonl:3", False),
    ]


def test_an_upload_is_capped_lower_than_a_file_the_cli_reads() -> None:
    """A first import can be a 94 MB export (50,000 ROs); an HTTP upload stays small."""
    content = (json.dumps(record()) + "\n").encode() * 2
    over = readers.parse("h.jsonl", content, max_bytes=len(content) - 1)
    assert over.errors == (f"file is larger than {(len(content) - 1) // 2**20} MiB",)
    assert over.records == []
    assert len(readers.parse("h.jsonl", content, max_bytes=len(content)).records) == 2
    assert readers.CLI_MAX_FILE_BYTES >= 10 * readers.MAX_FILE_BYTES
    assert readers.CLI_MAX_FILE_BYTES > 94 * 2**20


def test_unsupported_and_binary_files() -> None:
    assert "unsupported file type .xlsx" in readers.parse("x.xlsx", b"PK").errors[0]
    assert "not UTF-8" in readers.parse("x.csv", b"\xff\xfe\x00bad").errors[0]


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_csv_rows_group_into_one_record_per_ro() -> None:
    columns = [
        "ro_number",
        "opened_on",
        "vehicle_make",
        "customer_phones",
        "line",
        "line_status",
        "complaint",
        "item_type",
        "op_code",
        "hours",
        "labor_amount",
        "part_number",
        "quantity",
        "unit_price",
        "total_due",
    ]
    rows = [
        {
            "ro_number": "100",
            "opened_on": "2024-01-02",
            "vehicle_make": "Honda",
            "customer_phones": "(555) 201-7781; 555-000-1111",
            "line": "A",
            "line_status": "completed",
            "complaint": "Squeal",
            "item_type": "labor",
            "op_code": "BRK-FR",
            "hours": "1.5",
            "labor_amount": "180.00",
            "total_due": "300.00",
        },
        {
            "ro_number": "100",
            "line": "A",
            "line_status": "completed",
            "item_type": "part",
            "part_number": "45022-TBA-A01",
            "quantity": "1",
            "unit_price": "95.00",
        },
        {"ro_number": "100", "line": "B", "line_status": "declined", "complaint": "Tires worn"},
        {"ro_number": "101", "line": "A", "line_status": "completed", "complaint": "Oil"},
    ]
    parsed = readers.parse("export.csv", _csv(rows, columns))
    assert [r.position for r in parsed.records] == ["export.csv:2-4", "export.csv:5"]
    first, errors = validate(parsed.records[0].data)
    assert errors == []
    assert first is not None
    assert [line.line for line in first.lines] == ["A", "B"]
    assert first.lines[0].labor[0].op_code == "BRK-FR"
    assert str(first.lines[0].parts[0].unit_price) == "95.00"
    assert first.customer.phones == ["(555) 201-7781", "555-000-1111"]


def test_csv_with_missing_columns_is_refused_whole() -> None:
    parsed = readers.parse("thin.csv", b"ro_number,complaint\n1,hi\n")
    assert parsed.records == []
    assert parsed.errors == ("missing columns: line, line_status",)


def test_csv_row_without_ro_number_or_with_a_bad_item_type() -> None:
    content = _csv(
        [
            {"ro_number": "", "line": "A", "line_status": "completed", "item_type": ""},
            {"ro_number": "7", "line": "A", "line_status": "completed", "item_type": "sublet"},
        ],
        ["ro_number", "line", "line_status", "item_type"],
    )
    parsed = readers.parse("rows.csv", content)
    reasons = {r.position: r.errors for r in parsed.records}
    assert reasons["rows.csv:2"] == ("ro_number: Field required",)
    assert reasons["rows.csv:3"] == ("line 3: item_type must be labor, part or empty",)


def test_pdf_round_trip_finds_fields_by_label() -> None:
    original = record()
    parsed = readers.parse("ro.pdf", ro_pdf(original, record(ro_number="48212")))
    assert [r.position for r in parsed.records] == ["ro.pdf#1", "ro.pdf#2"]
    from_pdf, errors = validate(parsed.records[0].data)
    expected, _ = validate(original)
    assert errors == []
    assert from_pdf is not None
    assert expected is not None
    assert from_pdf.model_dump(exclude={"totals"}) == expected.model_dump(exclude={"totals"})
    assert from_pdf.totals.total_due == expected.totals.total_due


def test_image_only_and_unreadable_pdfs_are_refused() -> None:
    assert "no text layer" in readers.parse("scan.pdf", image_only_pdf()).errors[0]
    assert "cannot read the PDF" in readers.parse("junk.pdf", b"%PDF-1.7\nnot really").errors[0]
    assert "cannot read the PDF" in readers.parse("empty.pdf", b"").errors[0]


def test_validation_reports_every_reason_without_values() -> None:
    bad = record(opened_on="03/02/2024", vehicle={"year": "twenty"})
    bad["lines"][0]["parts"][0]["quantity"] = -1
    bad["customer"] = {"email": 12345}
    _, reasons = validate(bad)
    assert any(r.startswith("opened_on:") for r in reasons)
    assert any(r.startswith("vehicle.year:") for r in reasons)
    assert "lines.0.parts.0.quantity: Input should be greater than 0" in reasons
    assert any(r.startswith("customer.email:") for r in reasons)
    assert all("12345" not in r for r in reasons)
    _, missing = validate({"lines": []})
    assert "ro_number: Field required" in missing
