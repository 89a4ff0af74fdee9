"""Every environment variable the service reads is documented in the README's settings
table and in `.env.example`, and a bad number is refused by name."""

from __future__ import annotations

import re

import pytest

from assistant.settings import PROJECT_ROOT, Settings, SettingsError


def _read_variables() -> set[str]:
    source = (PROJECT_ROOT / "assistant" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', source))


def test_every_setting_is_documented() -> None:
    variables = _read_variables()
    assert {"DATABASE_URL", "RO_ASSISTANT_LLM_MODEL", "RO_ASSISTANT_TOKEN_SECRET"} <= variables
    readme = (PROJECT_ROOT / "README.md").read_text()
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert sorted(v for v in variables if f"| `{v}` |" not in readme) == []
    assert sorted(v for v in variables if f"{v}=" not in example) == []


def test_a_bad_number_names_its_variable() -> None:
    assert Settings.from_env({"RO_ASSISTANT_LLM_TIMEOUT_SECONDS": "2.5"}).llm_timeout_s == 2.5
    with pytest.raises(SettingsError, match="RO_ASSISTANT_RATE_LIMIT_PER_MINUTE"):
        Settings.from_env({"RO_ASSISTANT_RATE_LIMIT_PER_MINUTE": "lots"})
    with pytest.raises(SettingsError, match="negative"):
        Settings.from_env({"RO_ASSISTANT_TOKEN_TTL_SECONDS": "-1"})
