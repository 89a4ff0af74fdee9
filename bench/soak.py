"""Load and soak (issue 12): a mixed workload for a bounded time, then the audit chain.

    .venv/bin/python -P bench/soak.py [--minutes 10] [--clients 8] [--workers 2]

Against the `make run` database (demo shops loaded), on loopback only: starts
`ro-assistant serve`, and `--clients` clients across both demo shops run a mix of chat
questions (70%, each client as its shop's TECH), RO reads with and without a purpose (15%,
every role),
estimate drafts (10%, advisors) and audit-log reads (5%, admins) until `--minutes` pass
(or `--max-requests`). Reports per route: count, p50, p95, and every status other than
the designed ones; the server's RSS (all its processes) after warm-up and at the end; then
runs `ro-assistant audit verify` for both shops and compares the number of `pii.reveal`
rows allowed during the run with the reveals the clients were shown.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.db import conninfo
from assistant.db.session import Role
from assistant.demo.load import demo_logins
from assistant.settings import Settings
from retrieval import evaluation

chat_bench: Any = importlib.import_module("bench.chat")

SHOPS = chat_bench.SHOPS
DESIGNED = {200, 201, 404, 409, 422}
VEHICLE = {"make": "Toyota", "model": "Camry"}
WORK = ["front brake pads and rotors", "oil change", "replace battery", "wheel alignment"]


@dataclasses.dataclass
class Stats:
    latencies: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = dataclasses.field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    reveals_shown: int = 0
    ro_ids: dict[str, list[str]] = dataclasses.field(default_factory=lambda: defaultdict(list))


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its worker processes."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def reveal_rows(settings: Settings) -> int:
    """Allowed pii.reveal rows of both demo shops (as the owner, shop by shop under RLS)."""
    total = 0
    with psycopg.connect(conninfo.app_url(settings)) as conn:
        for slug in SHOPS:
            row = conn.execute("SELECT tenant_id FROM app.directory_tenant(%s)", [slug]).fetchone()
            assert row is not None
            conn.execute(
                "SELECT set_config('app.tenant_id', %s, true),"
                " set_config('app.role', 'ADMIN', true)",
                [str(row[0])],
            )
            count = conn.execute(
                "SELECT count(*) FROM app.audit_log WHERE action = 'pii.reveal'"
                " AND outcome = 'allowed'"
            ).fetchone()
            total += int(count[0]) if count else 0
            conn.commit()
    return total


async def client(
    url: str, login: Any, questions: list[str], stats: Stats, end: float, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a workload mix, not a secret
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def bearer(who: Any) -> dict[str, str]:
            token = await http.post(
                "/api/v1/auth/token", json={"email": who.email, "password": who.password}
            )
            token.raise_for_status()
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        # Chat as the shop's technician: an answer shown to a PII-approved reader reveals
        # (and audits) values the client cannot tell apart, so every counted reveal is an
        # RO read's.
        http.headers.update(await bearer(login))
        tech = await bearer(next(x for x in demo_logins(login.slug) if x.role == Role.TECH))
        conversation = (await http.post("/api/v1/conversations", json={}, headers=tech)).json()[
            "id"
        ]
        asked = 0
        while time.monotonic() < end:
            pick = rng.random()
            started = time.monotonic()
            if pick < 0.70:
                route = "chat"
                if asked and asked % 10 == 0:
                    await http.delete(f"/api/v1/conversations/{conversation}", headers=tech)
                    conversation = (
                        await http.post("/api/v1/conversations", json={}, headers=tech)
                    ).json()["id"]
                asked += 1
                response = await http.post(
                    f"/api/v1/conversations/{conversation}/messages",
                    json={"content": rng.choice(questions)},
                    headers=tech,
                )
                if response.status_code == 201:
                    for c in response.json()["answer"]["citations"]:
                        if c.get("ro_id"):
                            stats.ro_ids[login.slug].append(str(c["ro_id"]))
            elif pick < 0.85:
                known = stats.ro_ids[login.slug]
                if not known:
                    continue
                with_purpose = rng.random() < 0.5
                route = "ro read, purpose" if with_purpose else "ro read"
                params = {"purpose": "soak: customer called about the car"} if with_purpose else {}
                response = await http.get(
                    f"/api/v1/repair-orders/{rng.choice(known[-200:])}", params=params
                )
                if response.status_code == 200 and response.json()["pii"]["access"] == "revealed":
                    stats.reveals_shown += 1
            elif pick < 0.95:
                route = "estimate"
                response = await http.post(
                    "/api/v1/estimates/draft",
                    json={
                        "work": rng.choice(WORK),
                        "vehicle": {"make": "Toyota", "model": "Camry"},
                    },
                )
            else:
                route = "audit read"
                response = await http.get("/api/v1/audit-log", params={"limit": 50})
            stats.latencies[route].append((time.monotonic() - started) * 1000)
            stats.statuses[route][response.status_code] += 1
        await http.delete(f"/api/v1/conversations/{conversation}", headers=tech)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    settings = Settings.from_env()
    questions = [q.question for q in evaluation.load(chat_bench.QUESTIONS)]
    # Each role where it works: chat and RO reads for every login, estimates for advisors,
    # the audit log for admins (the others' 403 is a designed answer, counted apart).
    logins = [x for slug in SHOPS for x in demo_logins(slug)]
    env = {
        "RO_ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000",
        "RO_ASSISTANT_PII_LOOKUPS_PER_HOUR": "1000000",
        "RO_ASSISTANT_LOG_LEVEL": "WARNING",
        "RO_ASSISTANT_LLM_MODEL": "",
    }
    before = reveal_rows(settings)
    stats = Stats()
    with chat_bench.server(args.workers, env) as running:
        url, pid = running.url, running.pid
        warm_end = time.monotonic() + 60
        end = time.monotonic() + args.minutes * 60

        async def run() -> tuple[float, float]:
            tasks = [
                asyncio.create_task(
                    client(url, logins[i % len(logins)], questions, stats, end, seed=i)
                )
                for i in range(args.clients)
            ]
            await asyncio.sleep(max(0.0, warm_end - time.monotonic()))
            warm = rss_mb(pid)
            await asyncio.gather(*tasks)
            return warm, rss_mb(pid)

        warm, last = asyncio.run(run())
    after = reveal_rows(settings)
    print(f"{args.clients} clients, {args.workers} workers, {args.minutes:g} min")
    print("| route | requests | p50 ms | p95 ms | statuses |")
    print("| --- | ---: | ---: | ---: | --- |")
    unexpected = 0
    for route, values in sorted(stats.latencies.items()):
        codes = stats.statuses[route]
        unexpected += sum(n for code, n in codes.items() if code not in DESIGNED | {403})
        shown = ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
        p50 = chat_bench.percentile(values, 0.5)
        p95 = chat_bench.percentile(values, 0.95)
        print(f"| {route} | {len(values)} | {p50:.0f} | {p95:.0f} | {shown} |")
    growth = (last - warm) / warm if warm else 0.0
    print(f"server RSS after warm-up {warm:.0f} MB, at the end {last:.0f} MB ({growth:+.1%})")
    print(f"errors other than designed 4xx: {unexpected}")
    verify = [
        subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "assistant.cli", "audit", "verify", "--tenant", slug],
            capture_output=True,
            text=True,
            check=False,
        )
        for slug in SHOPS
    ]
    print("audit verify: " + ("passes" if all(v.returncode == 0 for v in verify) else "FAILS"))
    for v in verify:
        print("  " + (v.stdout or v.stderr).strip().replace("\n", "\n  "))
    print(
        f"pii.reveal rows allowed during the run: {after - before};"
        f" reveals the clients were shown: {stats.reveals_shown}"
    )


if __name__ == "__main__":
    main()
