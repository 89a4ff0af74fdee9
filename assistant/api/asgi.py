"""The ASGI entry point each uvicorn worker imports: `serve --workers N` starts N processes,
and each builds its own app (engine, key ring, embedder) from the environment."""

from __future__ import annotations

from litestar import Litestar

from assistant import logging
from assistant.api.app import create_app
from assistant.settings import Settings


def create() -> Litestar:
    settings = Settings.from_env()
    logging.configure(settings.log_level or "INFO", settings.log_file)
    return create_app(settings)
