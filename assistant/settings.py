"""Settings read once from the environment.

Everything has an embedded default so `make run` needs no configuration; pointing
`DATABASE_URL` at another server switches the embedded database off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T", int, float)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    migrations_dir: Path
    database_url: str | None
    app_database_url: str | None
    keyring_json: str | None = field(default=None, repr=False)
    keyring_file: Path | None = None
    log_level: str | None = None
    log_file: Path | None = None
    embedder: str = "local"
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    model_dir: Path | None = None
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    token_secret: str | None = field(default=None, repr=False)
    token_ttl_s: int = 900
    login_failures_per_account: int = 10
    login_lockout_s: int = 900
    argon2_concurrency: int = 2
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 1
    llm_max_tokens: int = 700
    context_tokens: int = 3000
    history_tokens: int = 600
    rate_limit_per_minute: int = 60
    max_body_bytes: int = 64 * 1024
    pii_lookups_per_hour: int = 30
    db_pool_size: int = 10
    db_pool_timeout_s: float = 5.0

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get("RO_ASSISTANT_DATA_DIR") or PROJECT_ROOT / ".data").resolve(),
            migrations_dir=Path(
                env.get("RO_ASSISTANT_MIGRATIONS_DIR") or PROJECT_ROOT / "migrations"
            ).resolve(),
            database_url=env.get("DATABASE_URL") or None,
            app_database_url=env.get("APP_DATABASE_URL") or None,
            keyring_json=env.get("RO_ASSISTANT_KEYRING") or None,
            keyring_file=_path(env.get("RO_ASSISTANT_KEYRING_FILE")),
            log_level=env.get("RO_ASSISTANT_LOG_LEVEL") or None,
            log_file=_path(env.get("RO_ASSISTANT_LOG_FILE")),
            embedder=env.get("RO_ASSISTANT_EMBEDDER") or "local",
            embedding_model=env.get("RO_ASSISTANT_EMBEDDING_MODEL") or None,
            embedding_base_url=env.get("RO_ASSISTANT_EMBEDDING_BASE_URL") or None,
            model_dir=_path(env.get("RO_ASSISTANT_MODEL_DIR")),
            prompts_dir=_path(env.get("RO_ASSISTANT_PROMPTS_DIR")) or PROJECT_ROOT / "prompts",
            token_secret=env.get("RO_ASSISTANT_TOKEN_SECRET") or None,
            token_ttl_s=_number(env, "RO_ASSISTANT_TOKEN_TTL_SECONDS", 900, int),
            login_failures_per_account=_at_least_one(
                env, "RO_ASSISTANT_LOGIN_FAILURES_PER_ACCOUNT", 10
            ),
            login_lockout_s=_at_least_one(env, "RO_ASSISTANT_LOGIN_LOCKOUT_SECONDS", 900),
            argon2_concurrency=_at_least_one(env, "RO_ASSISTANT_ARGON2_CONCURRENCY", 2),
            llm_model=env.get("RO_ASSISTANT_LLM_MODEL") or None,
            llm_base_url=env.get("OPENAI_BASE_URL") or None,
            llm_api_key=env.get("OPENAI_API_KEY") or None,
            llm_timeout_s=_number(env, "RO_ASSISTANT_LLM_TIMEOUT_SECONDS", 30.0, float),
            llm_max_retries=_number(env, "RO_ASSISTANT_LLM_MAX_RETRIES", 1, int),
            llm_max_tokens=_number(env, "RO_ASSISTANT_LLM_MAX_TOKENS", 700, int),
            context_tokens=_number(env, "RO_ASSISTANT_CONTEXT_TOKENS", 3000, int),
            history_tokens=_number(env, "RO_ASSISTANT_HISTORY_TOKENS", 600, int),
            rate_limit_per_minute=_number(env, "RO_ASSISTANT_RATE_LIMIT_PER_MINUTE", 60, int),
            max_body_bytes=_number(env, "RO_ASSISTANT_MAX_BODY_BYTES", 64 * 1024, int),
            pii_lookups_per_hour=_number(env, "RO_ASSISTANT_PII_LOOKUPS_PER_HOUR", 30, int),
            db_pool_size=_at_least_one(env, "RO_ASSISTANT_DB_POOL_SIZE", 10),
            db_pool_timeout_s=_number(env, "RO_ASSISTANT_DB_POOL_TIMEOUT_SECONDS", 5.0, float),
        )

    @property
    def token_secret_path(self) -> Path:
        return self.data_dir / "token_secret"


class SettingsError(ValueError):
    """An environment variable holds something unusable; named so it can be fixed."""


def _number(env: Mapping[str, str], name: str, default: T, kind: type[T]) -> T:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    """For limits where 0 would lock everyone out (or let no password be checked)."""
    value = _number(env, name, default, int)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
