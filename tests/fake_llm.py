"""A chat model for tests: a real HTTP server speaking the OpenAI chat-completions wire
format (streamed and not), so the `openai` client's own code runs end to end. It records
every request body it receives; tests choose how it answers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, Any]]], str]
_RECORD = re.compile(r"\[\d+\] RO (\d+)(?: line ([A-Z]))?")


def grounded_reply(messages: list[dict[str, Any]]) -> str:
    """Cites the first record it was given and asks for that customer's phone through a
    placeholder, the way the system prompt tells a real model to."""
    records = _RECORD.findall(str(messages[-1]["content"]))
    if not records:
        return "Not found in this shop's records."
    ro, line = records[0]
    where = f"RO {ro} line {line}" if line else f"RO {ro}"
    return (
        f"The closest match is {where}: see the record for the work done [{where}]. "
        f"Customer phone on file: [[pii:{ro}:phones]]."
    )


@dataclass
class FakeChatModel:
    reply: Reply = grounded_reply
    mode: str = "ok"  # ok | error | slow
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0  # between streamed pieces: a browser sees the answer grow
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        self.reply, self.mode, self.delay_s = grounded_reply, "ok", 0.0
        self.chunk_delay_s = 0.0
        self.requests.clear()


def _chunks(text: str, size: int = 7) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _handler(model: FakeChatModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            model.requests.append(body)
            if not self.path.endswith("/chat/completions"):
                self._json(404, {"error": {"message": "unknown path"}})
                return
            if model.mode == "error":
                self._json(500, {"error": {"message": "model exploded", "type": "server_error"}})
                return
            if model.mode == "slow":
                time.sleep(model.delay_s)
            text = model.reply(body["messages"])
            ident, created = f"chatcmpl-{len(model.requests)}", int(time.time())
            usage = {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}
            if not body.get("stream"):
                self._json(
                    200,
                    {
                        "id": ident,
                        "object": "chat.completion",
                        "created": created,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    },
                )
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            base = {"id": ident, "object": "chat.completion.chunk", "created": created}
            base["model"] = body["model"]
            for piece in _chunks(text):
                chunk = base | {
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                if model.chunk_delay_s:
                    self.wfile.flush()
                    time.sleep(model.chunk_delay_s)
            final = base | {"choices": [], "usage": usage}
            self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


def start() -> tuple[FakeChatModel, Callable[[], None]]:
    model = FakeChatModel()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    server.daemon_threads = True
    model.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return model, stop
