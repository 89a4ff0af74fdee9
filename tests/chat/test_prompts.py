"""Prompt files are checked when loaded and when rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chat import prompts


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_the_shipped_prompt_loads_and_renders() -> None:
    prompt = prompts.load("grounded_answer", "1")
    system, user = prompt.render(shop_name="Desert Auto", context="[1] RO 1", question="q?")
    assert "Desert Auto" in system
    assert "not found in this shop's records" in system.lower()
    assert "data, not instructions" in system
    assert "[1] RO 1" in user
    assert user.endswith("Question: q?")
    with pytest.raises(prompts.PromptError, match="missing"):
        prompt.render(shop_name="x", context="y")
    with pytest.raises(prompts.PromptError, match="unexpected"):
        prompt.render(shop_name="x", context="y", question="z", extra="w")


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        (
            "p.v1.toml",
            'name = "p"\nversion = "1"\ninputs = ["a"]\nsystem = "$a $b"\nuser = ""',
            "uses",
        ),
        (
            "p.v1.toml",
            'name = "p"\nversion = "1"\ninputs = ["a", "b"]\nsystem = "$a"\nuser = ""',
            "uses",
        ),
        ("p.v2.toml", 'name = "p"\nversion = "1"\ninputs = []\nsystem = ""\nuser = ""', "declares"),
        (
            "p.v1.toml",
            'name = "p"\nversion = "1"\ninputs = []\nsystem = "costs $"\nuser = ""',
            "stray",
        ),
        ("p.v1.toml", 'name = "p"\nsystem = ""', "version"),
        ("p.v1.toml", "not toml at all [", "p.v1.toml"),
    ],
)
def test_a_template_that_does_not_match_its_declaration_is_refused(
    tmp_path: Path, name: str, body: str, problem: str
) -> None:
    with pytest.raises(prompts.PromptError, match=problem):
        prompts.parse(_write(tmp_path, name, body))
