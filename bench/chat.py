"""Chat throughput and where a turn's time goes (issue 12).

    .venv/bin/python -P bench/chat.py [--workers 2] [--clients 1 4 16] [--seconds 20]
        [--model extractive|fake] [--delay-ms 200] [--profile 60]

Runs against the `make run` database (demo shops loaded): starts `ro-assistant serve` on a
free loopback port with the given workers, and N clients, each a user of its own (TECH
accounts `bench-NN@<shop>.example`, created once), ask the demo question set
(tests/eval/demo_questions.jsonl) over HTTP as JSON turns, a new conversation every ten
questions, for `--seconds` per level after a warm-up. Reports questions per second and
p50/p95 per level. The per-user rate limit and the hourly look-up budget are raised for the
bench server (the limits are what 429 answers measure, not the service's speed).

`--model fake` puts the test suite's OpenAI-compatible server (a real HTTP server) behind
the service with a fixed delay per answer; "server time" then excludes that delay.

`--profile N` then runs N turns in this process through the same functions the route calls
(`answers.prepare`, `turn.events`, `turn.view`) and splits each turn into: parse (the
question check), embed (the query vector), search (the rest of retrieval: SQL, fusion,
hydration), writes (question + pending answer rows, the final answer row), render (the
answer view), and the rest of prepare (conversation lock, history, typed-PII check, question
reading). HTTP, authentication and the rate-limit hit are the difference between the
one-client latency and that in-process total.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import logging
from assistant.audit.service import RequestMeta
from assistant.auth.caller import caller_by_email
from assistant.auth.service import user_id_of
from assistant.chat import answers, question
from assistant.chat import repository as repo
from assistant.chat import turn as chat_turn
from assistant.db import conninfo
from assistant.db.session import Database, Role
from assistant.embedding import embedder_for
from assistant.pii import keyring
from assistant.settings import Settings
from assistant.tenants import service as tenants
from retrieval import evaluation
from tests import fake_llm

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "tests" / "eval" / "demo_questions.jsonl"
SHOPS = ("desert-auto", "lakeside-motors")
TURNS_PER_CONVERSATION = 10
WARM_UP_S = 3.0


@dataclasses.dataclass(frozen=True, slots=True)
class BenchUser:
    slug: str
    email: str
    password: str


def bench_users(count: int) -> list[BenchUser]:
    return [
        BenchUser(slug, f"bench-{i:02d}@{slug}.example", f"{slug}-bench-{i:02d}-password")
        for i in range(count)
        for slug in [SHOPS[i % len(SHOPS)]]
    ]


async def ensure_users(settings: Settings, users: list[BenchUser]) -> None:
    db = Database(conninfo.app_url(settings))
    try:
        for slug in SHOPS:
            shop = await tenants.find_tenant(db, slug)
            existing = {u.email for u in await tenants.list_users(db, shop)}
            for user in users:
                if user.slug == slug and user.email not in existing:
                    await tenants.create_user(db, shop, user.email, Role.TECH, user.password)
    finally:
        await db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass(frozen=True, slots=True)
class Running:
    url: str
    pid: int


@contextlib.contextmanager
def server(workers: int, env: dict[str, str]) -> Iterator[Running]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [*command, "--workers", str(workers)],
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit("the server stopped while starting")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            time.sleep(0.3)
        yield Running(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclasses.dataclass
class Level:
    clients: int
    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    errors: dict[int, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0
    answered: int = 0  # every 201 of the level, warm-up included (what the CPU paid for)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICKS


def cpu_by_part(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (uvicorn and its workers), this load generator, and
    the rest of the machine (PostgreSQL, mostly): what a question costs, by who pays it.
    The rest is the machine's busy time less the other two, as PostgreSQL backends come
    and go (a process that ended takes its CPU time with it)."""
    stats = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    children: dict[int, list[int]] = defaultdict(list)
    for pid, fields in stats.items():
        if fields:
            children[int(fields[1])].append(pid)
    tree, todo = set(), [server_pid]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += children[pid]

    def seconds(fields: list[str]) -> float:
        return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0

    server = sum(seconds(stats[p]) for p in tree if p in stats)
    generator = time.process_time()
    return {"server": server, "load generator": generator, "rest": machine_busy()}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] if ordered else 0.0


async def client_loop(
    url: str, user: BenchUser, questions: list[str], offset: int, level: Level, window: Any
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        login = await http.post(
            "/api/v1/auth/token", json={"email": user.email, "password": user.password}
        )
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        asked = 0
        conversation = ""
        while time.monotonic() < window.end:
            if asked % TURNS_PER_CONVERSATION == 0:
                if conversation:
                    await http.delete(f"/api/v1/conversations/{conversation}")
                created = await http.post("/api/v1/conversations", json={"title": "bench"})
                created.raise_for_status()
                conversation = created.json()["id"]
            text = questions[(offset + asked) % len(questions)]
            asked += 1
            started = time.monotonic()
            response = await http.post(
                f"/api/v1/conversations/{conversation}/messages", json={"content": text}
            )
            elapsed = (time.monotonic() - started) * 1000
            level.answered += response.status_code == 201
            if started < window.start:
                continue
            if response.status_code == 201:
                level.latencies_ms.append(elapsed)
            else:
                level.errors[response.status_code] += 1
        if conversation:
            await http.delete(f"/api/v1/conversations/{conversation}")


@dataclasses.dataclass
class Window:
    start: float
    end: float


async def run_level(
    url: str, users: list[BenchUser], questions: list[str], n: int, s: float
) -> Level:
    level = Level(n)
    now = time.monotonic()
    window = Window(now + WARM_UP_S, now + WARM_UP_S + s)
    step = max(1, len(questions) // max(n, 1))
    await asyncio.gather(
        *(client_loop(url, users[i], questions, i * step, level, window) for i in range(n))
    )
    level.seconds = s
    return level


async def profile(settings: Settings, user: BenchUser, questions: list[str], turns: int) -> None:
    """Each phase's time per turn, by wrapping the functions a turn calls."""
    spent: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[name].append((time.perf_counter() - started) * 1000)

        return wrapper

    def timed_sync(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name].append((time.perf_counter() - started) * 1000)

        return wrapper

    db = Database(conninfo.app_url(settings))
    embedder = embedder_for(settings)
    embedder.embed = timed_sync("embed", embedder.embed)  # type: ignore[method-assign]
    svc = answers.ChatServices(
        db, keyring.load(settings.keyring_json, settings.keyring_path), embedder, settings, None
    )
    answers.check_question = timed_sync("parse", answers.check_question)
    question.retrieve = timed("retrieval", question.retrieve)  # type: ignore[assignment]
    repo.add_message = timed("write: question + pending", repo.add_message)  # type: ignore[assignment]
    answers.finish = timed("write: answer", answers.finish)  # type: ignore[assignment]
    view = timed("render", chat_turn.view)
    prepare = timed("prepare", answers.prepare)
    meta = RequestMeta("bench")
    totals: list[float] = []
    try:
        caller = await caller_by_email(db, user.email, user.slug)
        for i in range(turns + 5):
            if i == 5:  # warm: the first turns load what every later one reuses
                spent.clear()
                totals.clear()
            async with db.transaction(caller.ctx) as session:
                conversation = await repo.create(
                    session, caller.ctx.tenant_id, user_id_of(caller), None
                )
            started = time.perf_counter()
            turn = await prepare(
                svc, caller, conversation.conversation_id, questions[i % len(questions)], meta
            )
            done = None
            async for event in chat_turn.events(svc, turn, meta, render=False):
                if isinstance(event, chat_turn.Done):
                    done = event.answer
            assert done is not None
            await view(svc, turn, done, meta)
            totals.append((time.perf_counter() - started) * 1000)
            async with db.transaction(caller.ctx) as session:
                await repo.remove(session, caller.ctx.tenant_id, conversation.conversation_id)
    finally:
        await db.dispose()
    per_turn = {name: sum(times) / len(totals) for name, times in spent.items()}
    phases = {
        "parse": per_turn.get("parse", 0.0),
        "embed": per_turn.get("embed", 0.0),
        "search (SQL, fusion, hydration)": per_turn["retrieval"] - per_turn.get("embed", 0.0),
        "write: question + pending": per_turn["write: question + pending"],
        "rest of prepare (lock, history, typed PII, reading)": per_turn["prepare"]
        - per_turn.get("parse", 0.0)
        - per_turn["retrieval"]
        - per_turn["write: question + pending"],
        "write: answer": per_turn["write: answer"],
        "render": per_turn["render"],
    }
    total = statistics.fmean(totals)
    phases["other (extractive answer, stream)"] = total - sum(phases.values())
    print(f"\nprofile of one turn, in process, mean of {turns} turns (ms):")
    print("| phase | ms | share |\n| --- | ---: | ---: |")
    for name, ms in phases.items():
        print(f"| {name} | {ms:.1f} | {ms / total:.0%} |")
    print(f"| **total** | **{total:.1f}** | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--model", choices=["extractive", "fake"], default="extractive")
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--profile", type=int, default=60, help="turns profiled in process")
    args = parser.parse_args()
    logging.configure("WARNING")
    settings = dataclasses.replace(
        Settings.from_env(), llm_model=None, pii_lookups_per_hour=1_000_000
    )
    questions = [q.question for q in evaluation.load(QUESTIONS)]
    users = bench_users(max(args.clients))
    asyncio.run(ensure_users(settings, users))
    env = {
        "RO_ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000",
        "RO_ASSISTANT_PII_LOOKUPS_PER_HOUR": "1000000",
        "RO_ASSISTANT_LOG_LEVEL": "WARNING",
    }
    stop: Callable[[], None] | None = None
    delay_ms = 0.0
    if args.model == "fake":
        model, stop = fake_llm.start()
        model.mode, model.delay_s = "slow", args.delay_ms / 1000
        delay_ms = args.delay_ms
        env |= {
            "RO_ASSISTANT_LLM_MODEL": "fake-chat-1",
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "sk-bench",
        }
    else:
        env["RO_ASSISTANT_LLM_MODEL"] = ""
    print(
        f"{len(questions)} questions, {args.workers} workers, {args.model} answers"
        + (f" (model delay {delay_ms:.0f} ms)" if delay_ms else "")
    )
    try:
        with server(args.workers, env) as running:
            url = running.url
            print("| clients | questions/s | p50 ms | p95 ms | server p95 ms (no model) | errors |")
            print("| ---: | ---: | ---: | ---: | ---: | --- |")
            cpu: list[tuple[int, dict[str, float]]] = []
            for n in args.clients:
                before = cpu_by_part(running.pid)
                level = asyncio.run(run_level(url, users, questions, n, args.seconds))
                after = cpu_by_part(running.pid)
                spent = {k: (after[k] - before[k]) * 1000 / max(level.answered, 1) for k in after}
                spent["rest"] -= spent["server"] + spent["load generator"]
                cpu.append((n, spent))
                p50 = percentile(level.latencies_ms, 0.5)
                p95 = percentile(level.latencies_ms, 0.95)
                errors = ", ".join(f"{k}: {v}" for k, v in sorted(level.errors.items())) or "0"
                print(
                    f"| {n} | {level.rate:.1f} | {p50:.0f} | {p95:.0f} | {p95 - delay_ms:.0f}"
                    f" | {errors} |",
                    flush=True,
                )
        cores = os.cpu_count() or 1
        print(f"\nCPU per answered question, ms ({cores} cores give {cores * 1000:,} ms a second):")
        print(
            "| clients | server | PostgreSQL and the rest | load generator | total"
            " | bound, questions/s |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for n, parts in cpu:
            total = sum(parts.values())
            print(
                f"| {n} | {parts['server']:.1f} | {parts['rest']:.1f}"
                f" | {parts['load generator']:.1f} | {total:.1f}"
                f" | {cores * 1000 / total if total else 0:.0f} |"
            )
    finally:
        if stop:
            stop()
    if args.profile:
        asyncio.run(profile(settings, users[0], questions, args.profile))


if __name__ == "__main__":
    main()
