"""The chat model, through the `openai` client: any OpenAI-compatible server works.

Base URL and key are the client's own OPENAI_BASE_URL / OPENAI_API_KEY; the model, timeout
and retries come from settings. Failures become `UpstreamFailed` / `UpstreamTimeout` with a
reason a user can act on; the provider's own error text (which can echo the request) is
not passed on.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from assistant.errors import UpstreamFailed, UpstreamTimeout
from assistant.settings import Settings


@dataclass(slots=True)
class Generation:
    """Filled in while the answer streams; complete once the stream has ended."""

    model: str
    response_id: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    text: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class ModelHealth:
    """What this process last saw of the model server, for /readyz: a model that fails
    does not make the service unready (questions are still stored, answers marked failed),
    but an operator should see it."""

    last_error: str | None = None
    last_error_at: float | None = None
    last_answer_at: float | None = None

    def failed(self, reason: str) -> None:
        self.last_error, self.last_error_at = reason, time.monotonic()

    def answered(self) -> None:
        self.last_answer_at = time.monotonic()

    def report(self) -> dict[str, object]:
        now = time.monotonic()
        failing = self.last_error_at is not None and (
            self.last_answer_at is None or self.last_answer_at < self.last_error_at
        )
        return {
            "status": "failing" if failing else "ok",
            "last_error": self.last_error,
            "last_error_s_ago": round(now - self.last_error_at) if self.last_error_at else None,
        }


class ChatModel:
    def __init__(self, settings: Settings) -> None:
        self.health = ModelHealth()
        assert settings.llm_model, "LLM mode needs RO_ASSISTANT_LLM_MODEL"
        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self.timeout_s = settings.llm_timeout_s
        self.client = AsyncOpenAI(
            base_url=settings.llm_base_url,
            # Local servers (Ollama, llama.cpp, vLLM) usually take any key.
            api_key=settings.llm_api_key or "unused",
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    async def stream(
        self, messages: list[dict[str, str]], generation: Generation
    ) -> AsyncIterator[str]:
        try:
            stream = await self.client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                max_tokens=self.max_tokens,
                temperature=0.1,
                stream=True,
                stream_options={"include_usage": True},
            )
            try:
                async for chunk in stream:
                    generation.response_id = generation.response_id or chunk.id
                    if chunk.usage:
                        generation.prompt_tokens = chunk.usage.prompt_tokens
                        generation.completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.delta.content:
                            generation.text.append(choice.delta.content)
                            yield choice.delta.content
            finally:
                await stream.close()  # a client that left stops the model too
        except openai.APITimeoutError:
            self.health.failed("timeout")
            raise UpstreamTimeout(
                f"the model did not answer within {self.timeout_s:g} s; try again"
            ) from None
        except openai.APIStatusError as exc:
            self.health.failed(f"answered {exc.status_code}")
            raise UpstreamFailed(
                f"the model server answered {exc.status_code}; try again"
            ) from None
        except openai.APIError:
            self.health.failed("unreachable")
            raise UpstreamFailed("the model server could not be reached; try again") from None
        self.health.answered()

    async def close(self) -> None:
        await self.client.close()
