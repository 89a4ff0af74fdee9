#!/usr/bin/env python3
"""Self-check for the realshop evaluation set (standard library only).

* every record in shop.jsonl has the fields the shop was built with and obeys the
  rules of the canonical repair-order format (ro_number, >=1 line, ISO dates, 2-place money,
  line status in completed/declined/recommended/in_progress);
* every expected RO number and RO:LINE in questions.jsonl exists in shop.jsonl;
* question rows are well formed (category, at most 5 expected ROs, context only on follow-ups,
  no_answer rows expect nothing);
* prints counts per category and the number of ROs and lines.

Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
LINE_STATUS = {"completed", "declined", "recommended", "in_progress"}
CATEGORIES = {
    "ordinary_word",
    "symptom",
    "vague",
    "misspelling",
    "follow_up",
    "recall",
    "trouble_code",
    "technician",
    "declined_work",
    "vehicle_history",
    "no_answer",
}


def is_money(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and abs(round(x, 2) - x) < 1e-9


def is_date(s: Any) -> bool:
    try:
        dt.date.fromisoformat(s)
    except (TypeError, ValueError):
        return False
    return True


def check_record(r: dict[str, Any], where: str, errors: list[str]) -> None:
    def err(msg: str) -> None:
        errors.append(f"{where} RO {r.get('ro_number')}: {msg}")

    if not isinstance(r.get("ro_number"), str) or not re.fullmatch(
        r"\d{6}", r.get("ro_number", "")
    ):
        err("ro_number must be a 6-digit string")
    for k in ("status", "opened_on", "closed_on", "vehicle", "customer", "lines", "totals"):
        if k not in r:
            err(f"missing {k}")
    for k in ("opened_on", "closed_on"):
        if k in r and not is_date(r[k]):
            err(f"{k} not an ISO date")
    if is_date(r.get("opened_on")) and is_date(r.get("closed_on")):
        o, c = dt.date.fromisoformat(r["opened_on"]), dt.date.fromisoformat(r["closed_on"])
        if c < o:
            err("closed before opened")
        if not (dt.date(2021, 1, 1) <= o <= dt.date(2026, 12, 31)):
            err("opened_on outside 2021-2026")
    v = r.get("vehicle", {})
    for k in ("year", "make", "model", "color"):
        if k not in v:
            err(f"vehicle.{k} missing")
    if "mileage_in" in v and not isinstance(v["mileage_in"], int):
        err("vehicle.mileage_in not an integer")
    c = r.get("customer", {})
    for k in ("name", "phones", "email", "vin", "license_plate", "address"):
        if k not in c:
            err(f"customer.{k} missing")
    if c.get("email") and not c["email"].endswith("@example.com"):
        err("customer email not obviously fake")
    if c.get("vin") and not c["vin"].startswith("FAKE"):
        err("customer vin not obviously fake")
    lines = r.get("lines")
    if not isinstance(lines, list) or not lines:
        err("needs at least one line")
        return
    letters = [ln.get("line") for ln in lines]
    if len(set(letters)) != len(letters):
        err("duplicate line letters")
    for ln in lines:
        lw = f"line {ln.get('line')}"
        if not isinstance(ln.get("line"), str) or not re.fullmatch(r"[A-Z]", ln.get("line", "")):
            err(f"{lw}: bad line letter")
        if ln.get("status") not in LINE_STATUS:
            err(f"{lw}: bad status {ln.get('status')!r}")
        for k in ("complaint", "correction", "labor", "parts"):
            if k not in ln:
                err(f"{lw}: missing {k}")
        if ln.get("status") == "completed" and not ln.get("cause"):
            err(f"{lw}: completed line without cause")
        for lab in ln.get("labor", []):
            for k in ("op_code", "description", "technician", "hours", "amount"):
                if k not in lab:
                    err(f"{lw}: labor missing {k}")
            t = lab.get("technician", {})
            if not t.get("name") or not re.fullmatch(r"\d{3}", str(t.get("code", ""))):
                err(f"{lw}: technician needs name and 3-digit code")
            if not is_money(lab.get("amount")):
                err(f"{lw}: labor amount not 2-place money")
        for p in ln.get("parts", []):
            for k in ("part_number", "description", "quantity", "unit_price"):
                if k not in p:
                    err(f"{lw}: part missing {k}")
            if not is_money(p.get("unit_price")):
                err(f"{lw}: unit_price not 2-place money")
    for k, x in r.get("totals", {}).items():
        if not is_money(x):
            err(f"totals.{k} not 2-place money")


def main() -> int:
    errors: list[str] = []
    shop_path = os.path.join(HERE, "shop.jsonl")
    q_path = os.path.join(HERE, "questions.jsonl")
    ros: dict[str, dict[str, Any]] = {}
    n_lines = 0
    with open(shop_path, encoding="utf-8") as fh:
        for i, raw in enumerate(fh, 1):
            try:
                r = json.loads(raw)
            except json.JSONDecodeError as e:
                errors.append(f"shop.jsonl:{i}: bad JSON ({e})")
                continue
            check_record(r, f"shop.jsonl:{i}", errors)
            if r.get("ro_number") in ros:
                errors.append(f"shop.jsonl:{i}: duplicate RO number {r['ro_number']}")
            ros[r.get("ro_number")] = r
            n_lines += len(r.get("lines", []))
    line_keys = {f"{n}:{ln['line']}" for n, r in ros.items() for ln in r.get("lines", [])}

    cats: collections.Counter[str] = collections.Counter()
    n_q = 0
    if os.path.exists(q_path):
        with open(q_path, encoding="utf-8") as fh:
            for i, raw in enumerate(fh, 1):
                where = f"questions.jsonl:{i}"
                try:
                    q = json.loads(raw)
                except json.JSONDecodeError as e:
                    errors.append(f"{where}: bad JSON ({e})")
                    continue
                n_q += 1
                cat = q.get("category")
                cats[cat] += 1
                if cat not in CATEGORIES:
                    errors.append(f"{where}: unknown category {cat!r}")
                if not isinstance(q.get("question"), str) or not q["question"].strip():
                    errors.append(f"{where}: empty question")
                exp = q.get("expected_ro_numbers")
                if not isinstance(exp, list):
                    errors.append(f"{where}: expected_ro_numbers must be a list")
                    exp = []
                if len(exp) > 5:
                    errors.append(f"{where}: more than 5 expected ROs")
                if len(set(exp)) != len(exp):
                    errors.append(f"{where}: duplicate expected RO")
                for n in exp:
                    if n not in ros:
                        errors.append(f"{where}: expected RO {n} not in shop.jsonl")
                lines = q.get("expected_lines", [])
                for lk in lines:
                    if lk not in line_keys:
                        errors.append(f"{where}: expected line {lk} not in shop.jsonl")
                    elif lk.split(":")[0] not in exp:
                        errors.append(f"{where}: expected line {lk} not among expected ROs")
                if cat == "no_answer" and (exp or lines):
                    errors.append(f"{where}: no_answer row must expect nothing")
                if cat != "no_answer" and not exp:
                    errors.append(f"{where}: answerable row with no expected RO")
                if cat == "follow_up":
                    ctx = q.get("context")
                    if (
                        not isinstance(ctx, list)
                        or not ctx
                        or not all(isinstance(c, str) for c in ctx)
                    ):
                        errors.append(f"{where}: follow_up needs a non-empty context list")
                elif "context" in q:
                    errors.append(f"{where}: context only allowed on follow_up rows")
        with open(q_path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    else:
        errors.append("questions.jsonl missing")
        digest = "-"

    print(f"ROs: {len(ros)}  lines: {n_lines}  shop.jsonl bytes: {os.path.getsize(shop_path)}")
    status = collections.Counter(ln["status"] for r in ros.values() for ln in r.get("lines", []))
    print("line status:", dict(sorted(status.items())))
    print(f"questions: {n_q}  sha256(questions.jsonl): {digest}")
    for cat in sorted(cats):
        print(f"  {cat:16s} {cats[cat]}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for problem in errors[:200]:
            print("  " + problem)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
