"""The shop, user, key, ingest and audit commands, run as a user would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import DatabaseUrls
from tests.ingest.pdfs import image_only_pdf, ro_pdf
from tests.samples import record

CLI = [sys.executable, "-m", "assistant.cli"]
RATE = re.compile(r" in \d+\.\d s \(\d[\d,]*\.\d ROs/s\)$")  # the summary's time and rate


class Env(dict[str, str]):
    """The subprocess environment; its repr stays out of failure reports (it holds passwords)."""

    def __repr__(self) -> str:
        return "Env(...)"


@pytest.fixture
def env(migrated: DatabaseUrls, tmp_path: Path) -> Env:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "APP_DATABASE_URL", "RO_ASSISTANT_"))
    }
    return Env(
        base
        | {
            "DATABASE_URL": migrated.owner_url,
            "APP_DATABASE_URL": migrated.app_url,
            "RO_ASSISTANT_KEYRING_FILE": str(tmp_path / "keys" / "ring.json"),
        }
    )


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_shops_and_users(env: dict[str, str]) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    created = cli(env, "tenants", "create", slug, "--name", "Desert Auto")
    assert created.returncode == 0
    assert f"created shop {slug}" in created.stdout
    assert "already exists" in one_line_error(cli(env, "tenants", "create", slug, "--name", "X"))
    assert slug in cli(env, "tenants", "list").stdout
    assert "slug" in one_line_error(cli(env, "tenants", "create", "Bad Slug!", "--name", "X"))

    made = cli(
        env,
        "users",
        "create",
        "--tenant",
        slug,
        "--email",
        "Tech@Desert.example",
        "--role",
        "TECH",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert made.returncode == 0, made.stderr
    assert "correct horse" not in made.stdout + made.stderr
    assert "12 characters" in one_line_error(
        cli(
            env,
            "users",
            "create",
            "--tenant",
            slug,
            "--email",
            "a@b.example",
            "--role",
            "ADMIN",
            "--password-stdin",
            stdin="short\n",
        )
    )
    assert "no shop" in one_line_error(
        cli(
            env,
            "users",
            "create",
            "--tenant",
            "nope-nope",
            "--email",
            "a@b.example",
            "--role",
            "ADMIN",
            "--password-stdin",
            stdin="long enough password\n",
        )
    )
    assert (
        cli(env, "users", "disable", "--tenant", slug, "--email", "tech@desert.example").returncode
        == 0
    )
    listed = cli(env, "users", "list", "--tenant", slug).stdout
    assert "tech@desert.example" in listed
    assert "disabled" in listed
    assert "no user" in one_line_error(
        cli(env, "users", "disable", "--tenant", slug, "--email", "ghost@desert.example")
    )


def test_keys_generate_is_private_and_never_prints_key_material(env: dict[str, str]) -> None:
    path = Path(env["RO_ASSISTANT_KEYRING_FILE"])
    first = cli(env, "keys", "generate")
    assert first.returncode == 0
    assert path.stat().st_mode & 0o777 == 0o600
    ring = json.loads(path.read_text())
    assert all(key not in first.stdout for key in ring["keys"].values())
    assert cli(env, "keys", "generate", "--if-missing").stdout == ""
    second = cli(env, "keys", "generate")
    assert "now active" in second.stdout
    assert len(json.loads(path.read_text())["keys"]) == 2


def test_ingest_reports_every_rejection_and_exits_non_zero(
    env: dict[str, str], tmp_path: Path
) -> None:
    slug = f"ing-{uuid.uuid4().hex[:8]}"
    assert cli(env, "tenants", "create", slug, "--name", "Ingest Shop").returncode == 0
    assert cli(env, "keys", "generate").returncode == 0
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(record(ro_number=str(n))) for n in (1, 2, 3)))
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(ro_pdf(record(ro_number="4")))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(image_only_pdf())
    result = cli(env, "ingest", str(good), str(bad), str(pdf), str(scan), "--tenant", slug)
    assert result.returncode == 1
    assert RATE.sub("", result.stdout.strip()) == "ingested 4, updated 0, unchanged 0, rejected 2"
    assert "rejected bad.json: malformed JSON at line 1" in result.stderr
    assert "rejected scan.pdf: the PDF has no text layer" in result.stderr
    assert "Jordan" not in result.stdout + result.stderr

    again = cli(env, "ingest", str(good), "--tenant", slug)
    assert (again.returncode, RATE.sub("", again.stdout.strip())) == (
        0,
        "ingested 0, updated 0, unchanged 3, rejected 0",
    )

    rotated = cli(env, "keys", "generate")
    assert rotated.returncode == 0
    rotate = cli(env, "keys", "rotate", "--tenant", slug, "--batch-size", "2")
    assert rotate.returncode == 0, rotate.stderr
    assert f"{slug}: re-encrypted 6, left on old keys 0, verified 6 rows decrypt" in rotate.stdout

    verify = cli(env, "audit", "verify", "--tenant", slug)
    assert verify.returncode == 0
    assert "chain intact" in verify.stdout
    exported = cli(env, "audit", "export", "--tenant", slug, "--format", "csv")
    assert exported.stdout.splitlines()[0].startswith("seq,created_at,actor_user_id")


def test_ingest_without_a_key_ring_says_how_to_make_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    f = tmp_path / "x.json"
    f.write_text("{}")
    assert "keys generate" in one_line_error(cli(env, "ingest", str(f), "--tenant", "any"))
