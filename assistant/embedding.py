"""Which embedder this process uses, from settings (loaded once, lazily)."""

from __future__ import annotations

import os

from assistant.db.conninfo import ConfigError
from assistant.settings import Settings
from retrieval.embedders import DIMENSIONS, Embedder, OpenAIEmbedder, local_embedder


def embedder_for(settings: Settings) -> Embedder:
    if settings.embedder == "local":
        return local_embedder(settings.model_path)
    if settings.embedder == "openai":
        if not settings.embedding_model:
            raise ConfigError("RO_ASSISTANT_EMBEDDER=openai needs RO_ASSISTANT_EMBEDDING_MODEL")
        return OpenAIEmbedder(
            settings.embedding_model,
            DIMENSIONS,
            base_url=settings.embedding_base_url or os.environ.get("OPENAI_BASE_URL"),
            api_key=os.environ.get("OPENAI_API_KEY"),
        )
    raise ConfigError(f"unknown RO_ASSISTANT_EMBEDDER {settings.embedder!r}: local or openai")
