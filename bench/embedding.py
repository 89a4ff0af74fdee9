"""Embedding figures: query latency, time to ready, ingest throughput vs a plain baseline.

    .venv/bin/python -P bench/embedding.py

The baseline is `SentenceTransformer.encode` on torch (CPU) over the same texts in the same
run; ours is the ONNX export run by onnxruntime (what the service uses).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from decimal import Decimal

from assistant.settings import Settings
from retrieval.chunking import chunk_ro, ro_view
from retrieval.embedders import local_embedder, local_model_dir

READY_SCRIPT = """
import time, sys
started = float(sys.argv[1])
from assistant.api.app import create_app
from assistant.embedding import embedder_for
from assistant.settings import Settings
settings = Settings.from_env()
create_app(settings)
embedder_for(settings).embed(["when were the front pads last done on the camry"])
print(time.time() - started)
"""


def demo_chunk_texts(count: int) -> list[str]:
    """Real chunk texts: demo ROs through the same chunking ingestion uses."""
    import uuid

    from assistant.demo.generator import generate_shop_records

    model = local_embedder(Settings.from_env().model_path)
    texts: list[str] = []
    for r in generate_shop_records(0, count // 3 + 10):
        ro_id = uuid.uuid4()
        lines, labor, parts = [], [], []
        for line in r["lines"]:
            line_id = uuid.uuid4()
            lines.append({"line_id": line_id, "line_letter": line["line"], **line})
            labor += [
                {
                    "line_id": line_id,
                    "operation": x.get("op_code"),
                    "description": x.get("description"),
                    "technician_name": (x.get("technician") or {}).get("name"),
                    "technician_code": (x.get("technician") or {}).get("code"),
                    "hours": Decimal(str(x.get("hours"))),
                    "amount": Decimal(str(x.get("amount"))),
                }
                for x in line["labor"]
            ]
            parts += [
                {
                    "line_id": line_id,
                    **p,
                    "quantity": Decimal(str(p["quantity"])),
                    "unit_price": Decimal(str(p["unit_price"])),
                }
                for p in line["parts"]
            ]
        header = {
            "ro_id": ro_id,
            "ro_number": r["ro_number"],
            "vehicle_year": r["vehicle"]["year"],
            "vehicle_make": r["vehicle"]["make"],
            "vehicle_model": r["vehicle"]["model"],
        }
        texts += [
            c.content for c in chunk_ro(ro_view(header, lines, labor, parts), model.count_tokens)
        ]
    return texts[:count]


def throughput(embed: object, texts: list[str]) -> float:
    started = time.perf_counter()
    embed(texts)  # type: ignore[operator]
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    settings = Settings.from_env()
    ready = []
    for _ in range(3):
        out = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, "-c", READY_SCRIPT, repr(time.time())],
            capture_output=True,
            text=True,
            check=True,
        )
        ready.append(float(out.stdout.strip()))
    print(
        f"process start -> app built, model loaded, first query embedded: "
        f"median {statistics.median(ready):.2f} s (runs: {', '.join(f'{r:.2f}' for r in ready)})"
    )

    model = local_embedder(settings.model_path)
    model.embed(["warm up"])
    latencies = []
    for i in range(300):
        started = time.perf_counter()
        model.embed([f"when did we last replace the front pads on the 2018 camry {i}"])
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    print(
        f"query embedding ({model.runtime}): p50 {latencies[149]:.2f} ms, "
        f"p95 {latencies[284]:.2f} ms, p99 {latencies[296]:.2f} ms"
    )

    from sentence_transformers import SentenceTransformer

    baseline = SentenceTransformer(str(local_model_dir()), device="cpu")
    demo = demo_chunk_texts(600)
    long = [
        (
            "Customer states intermittent no start after sitting overnight; verified "
            "concern, tested battery and starter draw, found corroded ground strap. "
        )
        * 9
    ] * 200
    print(
        f"token lengths: demo chunks mean {statistics.mean(map(model.count_tokens, demo)):.0f},"
        f" long chunks {model.count_tokens(long[0])}"
    )
    for name, texts in (("demo chunks", demo), ("240-token chunks", long)):
        ours = throughput(model.embed, texts)
        theirs = throughput(lambda t: baseline.encode(t, batch_size=32), texts)
        print(
            f"ingest embedding, {name} ({len(texts)}): onnxruntime {ours:.0f} chunks/s, "
            f"SentenceTransformer.encode {theirs:.0f} chunks/s"
        )


if __name__ == "__main__":
    main()
