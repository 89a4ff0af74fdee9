"""The API over real HTTP handling (Litestar's test client) on the demo database, as the
application role, with a fake OpenAI-compatible chat model on a real local port."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.demo.load import demo_logins
from assistant.settings import Settings
from tests import fake_llm
from tests.conftest import DemoService

SHOPS = ("desert-auto", "lakeside-motors")
TOKEN_SECRET = "test-token-secret-" + "x" * 32


@pytest.fixture(scope="session")
def fake_model() -> Iterator[fake_llm.FakeChatModel]:
    model, stop = fake_llm.start()
    yield model
    stop()


@pytest.fixture
def llm(fake_model: fake_llm.FakeChatModel) -> Iterator[fake_llm.FakeChatModel]:
    fake_model.reset()
    yield fake_model
    fake_model.reset()


@pytest.fixture(scope="session")
def api_settings(settings: Settings, demo_service: DemoService) -> Settings:
    """Extractive answers (no model configured), as `make run` serves by default."""
    data = demo_service.work / "data"
    return dataclasses.replace(
        settings,
        database_url=demo_service.db.owner_url,
        app_database_url=demo_service.db.app_url,
        data_dir=data,
        keyring_json=None,
        keyring_file=data / "keyring.json",
        model_dir=settings.model_path,
        token_secret=TOKEN_SECRET,
        llm_model=None,
        rate_limit_per_minute=100_000,
    )


def with_model(base: Settings, model: fake_llm.FakeChatModel, **changes: Any) -> Settings:
    return dataclasses.replace(
        base,
        llm_model="fake-chat-1",
        llm_base_url=model.base_url,
        llm_api_key="sk-test",
        llm_timeout_s=3.0,
        llm_max_retries=0,
        **changes,
    )


@pytest.fixture
async def client(api_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(api_settings)) as c:
        yield c


@pytest.fixture
async def llm_client(
    api_settings: Settings, llm: fake_llm.FakeChatModel
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(with_model(api_settings, llm))) as c:
        yield c


def login_of(slug: str, name: str) -> tuple[str, str]:
    found = next(x for x in demo_logins(slug) if x.email.startswith(f"{name}@"))
    return found.email, found.password


async def auth_headers(client: AsyncTestClient[Litestar], slug: str, name: str) -> dict[str, str]:
    email, password = login_of(slug, name)
    response = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
