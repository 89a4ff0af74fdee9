"""`ro-assistant ingest`: the rate at the end, a progress bar on a terminal, and resuming."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from click.testing import CliRunner
from rich.console import Console

from assistant.cli.ingest import ingest, progress_bar
from assistant.db.session import Database
from assistant.demo.generator import generate_shop_records
from assistant.settings import Settings
from assistant.tenants.service import create_tenant
from tests.conftest import DatabaseUrls
from tests.db.seed import set_context

SUMMARY = re.compile(
    r"^ingested (\d+), updated (\d+), unchanged (\d+), rejected (\d+)"
    r" in \d+\.\d s \((\d[\d,]*\.\d) ROs/s\)$"
)


def new_shop(migrated: DatabaseUrls) -> str:
    slug = f"cli-{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        db = Database(migrated.app_url)
        try:
            await create_tenant(db, slug, "CLI Shop")
        finally:
            await db.dispose()

    asyncio.run(create())
    return slug


def test_ingest_prints_its_rate_and_a_second_run_skips_what_landed(
    migrated: DatabaseUrls, settings: Settings, tmp_path: Path
) -> None:
    cli_settings = dataclasses.replace(
        settings, database_url=migrated.owner_url, app_database_url=migrated.app_url
    )
    slug = new_shop(migrated)
    history = tmp_path / "history"
    history.mkdir()
    records = generate_shop_records(3, 4)
    (history / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:3]))
    (history / "b.json").write_text(json.dumps(records[3]))
    runner = CliRunner()

    first = runner.invoke(ingest, [str(history), "--tenant", slug], obj=cli_settings)
    again = runner.invoke(ingest, [str(history), "--tenant", slug], obj=cli_settings)

    assert first.exit_code == 0, first.output
    # The last line: structlog, unconfigured in tests, prints its events before it.
    summary = SUMMARY.match(first.stdout.strip().splitlines()[-1])
    assert summary is not None, first.stdout
    assert summary.groups()[:4] == ("4", "0", "0", "0")
    assert float(summary[5].replace(",", "")) > 0
    assert again.exit_code == 0, again.output
    resumed = SUMMARY.match(again.stdout.strip().splitlines()[-1])
    assert resumed is not None, again.stdout
    assert resumed.groups()[:4] == ("0", "0", "4", "0")
    assert first.stderr == ""  # no bar when stderr is not a terminal


def test_the_bar_shows_the_rate_and_time_left_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    now = [0.0]
    bar = progress_bar(console)
    bar.get_time = lambda: now[0]
    with bar:
        task = bar.add_task("history.jsonl", total=1000)
        for _ in range(4):
            now[0] += 2.0
            bar.advance(task, 50)
        bar.refresh()
    shown = out.getvalue()
    assert "history.jsonl" in shown
    assert "200/1000" in shown
    assert "25.0 ROs/s" in shown
    assert "ETA" in shown
    assert "0:00:32" in shown  # 800 left at 25 a second


def test_ctrl_c_stops_after_the_batch_being_written_and_a_rerun_resumes(
    migrated: DatabaseUrls, settings: Settings, tmp_path: Path
) -> None:
    """A real SIGINT to a real `ro-assistant ingest`: whole batches only, exit 130, and the
    same command again ingests exactly what is left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RO_ASSISTANT_")} | {
        "DATABASE_URL": migrated.owner_url,
        "APP_DATABASE_URL": migrated.app_url,
        "RO_ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "RO_ASSISTANT_MODEL_DIR": str(settings.model_path),
    }

    def cli(*args: str) -> list[str]:
        return [sys.executable, "-m", "assistant.cli", *args]

    keys = subprocess.run(cli("keys", "generate"), env=env, capture_output=True, timeout=60)
    assert keys.returncode == 0, keys.stderr
    slug = new_shop(migrated)
    history = tmp_path / "history.jsonl"
    history.write_text("".join(json.dumps(r) + "\n" for r in generate_shop_records(4, 60)))
    command = cli("ingest", str(history), "--tenant", slug, "--batch-size", "10")

    def stored() -> int:
        with psycopg.connect(migrated.owner_url) as conn:
            tenant = conn.execute("SELECT tenant_id FROM app.directory_tenant(%s)", [slug])
            row = tenant.fetchone()
            assert row is not None
            set_context(conn, row[0], "ADMIN")
            found = conn.execute("SELECT count(*) FROM app.repair_orders").fetchone()
        return int(found[0]) if found else 0

    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while stored() < 10 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    landed = stored()

    assert process.returncode == 130, err.decode()[-2000:]
    assert "run the same command again to resume" in err.decode()
    assert 10 <= landed < 60
    assert landed % 10 == 0  # whole batches: the one being written committed, no more
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = SUMMARY.match(rerun.stdout.strip().splitlines()[-1])
    assert summary is not None, rerun.stdout
    assert summary.groups()[:4] == (str(60 - landed), "0", str(landed), "0")
    assert stored() == 60
    assert out.decode().strip().splitlines()[-1].startswith(f"ingested {landed},")
