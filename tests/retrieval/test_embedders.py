"""The local embedder: ONNX gives the model's own vectors, offline, and tokens count offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from retrieval import tokens
from retrieval.embedders import DIMENSIONS, local_model_dir
from tests.samples import local_model

TEXTS = [
    "Replaced front pads and rotors, road tested OK.",
    "P0420 catalyst efficiency below threshold bank 1",
    "customer states AC blows warm at idle " * 40,
]


def test_onnx_vectors_match_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    model = local_model()
    assert model.runtime == "onnxruntime"
    ours = model.embed(TEXTS)
    reference = SentenceTransformer(str(local_model_dir()), device="cpu").encode(
        TEXTS, normalize_embeddings=True
    )
    assert ours.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * reference).sum(axis=1).min() > 0.9999


def test_empty_batch() -> None:
    assert local_model().embed([]).shape == (0, DIMENSIONS)


OFFLINE_SCRIPT = """
from pathlib import Path
from retrieval.embedders import LocalMiniLM, local_model_dir, onnx_path
from retrieval.tokens import count_tokens
import sys
onnx = LocalMiniLM(local_model_dir(), onnx_path(Path(sys.argv[1])))
torch = LocalMiniLM(local_model_dir(), None)
a, b = onnx.embed(["brake pulsation"]), torch.embed(["brake pulsation"])
print(onnx.runtime, torch.runtime, round(float((a * b).sum()), 4), count_tokens("P0420 code"))
"""


@pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0,
    reason="needs unshare -n (root) to cut the network",
)
def test_both_embedders_and_tiktoken_work_with_the_network_unplugged(settings: object) -> None:
    from assistant.settings import Settings

    assert isinstance(settings, Settings)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TIKTOKEN_CACHE_DIR": "/nonexistent",
    }
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_SCRIPT, str(settings.model_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    runtime_a, runtime_b, cosine, count = result.stdout.split()
    assert (runtime_a, runtime_b) == ("onnxruntime", "sentence-transformers")
    assert float(cosine) > 0.999
    assert int(count) > 0


def test_tiktoken_falls_back_to_the_shipped_encoding() -> None:
    assert tokens.encoding_for("gpt-4o-mini").name == tokens.OFFLINE_ENCODING
    assert tokens.encoding_for("no-such-model").name == tokens.OFFLINE_ENCODING
    assert tokens.count_tokens("replace front pads") == 3
    assert tokens.truncate("one two three four", 2) == "one two"
