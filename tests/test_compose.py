"""compose.yaml must stay valid even though no Docker engine runs here."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from assistant.settings import PROJECT_ROOT


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_compose_file_parses() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config", "--services"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"db", "migrate", "api"}
