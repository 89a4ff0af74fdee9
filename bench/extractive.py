"""Extractive answers: does the first bullet quote a line that answers the question?

    .venv/bin/python -P bench/extractive.py tests/eval/demo_questions.jsonl \
        --user tech@desert-auto.example [--misses]

Each question goes through `answers.prepare`, the path a chat turn takes, with no model
configured (extractive answers), in a conversation of its own that is deleted afterwards
(so no question reads as a follow-up of the one before, unless the question file gives
its `context`: those earlier questions are asked and answered first). It writes what a
chat turn writes (the messages, audit rows for typed VINs and plates): run it on a demo
database, not a shop's. `-P` keeps this folder off the import path, where
`bench/retrieval.py` would shadow the `retrieval` package.

A hit: the answer's first bullet cites one of the question's `expected_lines` ("RO:LETTER")
when it has any, else one of its `expected_ro_numbers`. A `no_answer` question (nothing
expected) is a hit when the answer quotes no bullet at all.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
from collections import defaultdict
from pathlib import Path
from uuid import UUID

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller, caller_by_email
from assistant.auth.service import user_id_of
from assistant.chat import answers
from assistant.chat import repository as repo
from assistant.chat import turn as chat_turn
from assistant.db import conninfo
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.pii import keyring
from assistant.settings import Settings
from retrieval import evaluation

_CITATION = re.compile(r"\[RO (\d+)(?: line ([A-Z]+))?\]")


def first_cited(answer: str) -> tuple[str, str | None] | None:
    """(RO number, line letter) the first bullet cites; None when there is no bullet."""
    for line in answer.splitlines():
        if line.startswith("- "):
            found = _CITATION.search(line)
            return (found[1], found[2]) if found else ("", None)
    return None


def is_hit(question: evaluation.Question, cited: tuple[str, str | None] | None) -> bool:
    if not question.expected_ro_numbers:
        return cited is None
    if cited is None:
        return False
    ro_number, letter = cited
    if question.expected_lines:
        return f"{ro_number}:{letter}" in question.expected_lines
    return ro_number in question.expected_ro_numbers


async def ask(
    svc: answers.ChatServices, caller: Caller, question: str, context: tuple[str, ...] = ()
) -> str:
    """A follow-up's earlier questions are asked and answered first, in the same
    conversation, as a user would have."""
    async with svc.db.transaction(caller.ctx) as session:
        conversation = await repo.create(session, caller.ctx.tenant_id, user_id_of(caller), None)
    cid: UUID = conversation.conversation_id
    meta = RequestMeta("bench")
    try:
        for earlier in context:
            before = await answers.prepare(svc, caller, cid, earlier, meta)
            async for _ in chat_turn.events(svc, before, meta, render=False):
                pass
        turn = await answers.prepare(svc, caller, cid, question, meta)
    finally:
        async with svc.db.transaction(caller.ctx) as session:
            await repo.remove(session, caller.ctx.tenant_id, cid)
    return turn.fixed_text or ""


async def run(args: argparse.Namespace) -> None:
    questions = evaluation.load(args.questions)
    # Every VIN and plate typed counts against the hourly look-up budget of a real user.
    settings = dataclasses.replace(
        Settings.from_env(), llm_model=None, pii_lookups_per_hour=1_000_000
    )
    db = Database(conninfo.app_url(settings))
    svc = answers.ChatServices(
        db,
        keyring.load(settings.keyring_json, settings.keyring_path),
        embedder_for(settings),
        settings,
        None,
    )
    try:
        caller = await caller_by_email(db, args.user, args.tenant)
        by_category: dict[str, list[bool]] = defaultdict(list)
        for q in questions:
            text = await ask(svc, caller, q.question, q.context)
            hit = is_hit(q, first_cited(text))
            by_category[q.category or "-"].append(hit)
            if args.misses and not hit:
                expected = ", ".join(q.expected_lines or q.expected_ro_numbers) or "nothing"
                print(f"MISS [{q.category}] {q.question}\n  expected {expected}")
                print("  " + text.replace("\n", "\n  "))
    finally:
        await db.dispose()
    answerable = [h for c, hs in by_category.items() if c != "no_answer" for h in hs]
    print(f"{'category':<16} {'n':>4} {'first bullet':>12}")
    for category, hits in sorted(by_category.items()):
        print(f"{category:<16} {len(hits):>4} {sum(hits) / len(hits):>12.3f}")
    if answerable:
        share = sum(answerable) / len(answerable)
        print(f"{'answerable':<16} {len(answerable):>4} {share:>12.3f}")
    every = [h for hs in by_category.values() for h in hs]
    print(f"{'all':<16} {len(every):>4} {sum(every) / len(every):>12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--user", required=True)
    parser.add_argument("--tenant", default=None)
    parser.add_argument("--misses", action="store_true", help="print each missed answer")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
