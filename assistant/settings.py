"""Settings read once from the environment.

Everything has an embedded default so `make run` needs no configuration; pointing
`DATABASE_URL` at another server switches the embedded database off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
        )


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
