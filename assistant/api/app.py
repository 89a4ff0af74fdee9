"""The application factory: everything a process shares (engine, key ring, embedder, chat
model, token secret) is built once at start-up and kept on app state."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import anyio
import msgspec
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from assistant import readiness
from assistant.api import deps, errors, openapi
from assistant.api.allow import AllowEveryMethod
from assistant.api.middleware import request_context
from assistant.api.rate_limit import SharedRateLimit
from assistant.api.routes import (
    audit,
    auth,
    conversations,
    estimates,
    feedback,
    messages,
    repair_orders,
    users,
)
from assistant.auth import tokens
from assistant.auth.service import LoginGuard
from assistant.auth.throttle import LoginThrottle
from assistant.chat.answers import ChatServices
from assistant.chat.llm import ChatModel
from assistant.db.conninfo import app_url
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.limits.counters import SharedCounters
from assistant.pii import keyring
from assistant.settings import Settings
from assistant.web import admin as admin_pages
from assistant.web import assets, pages
from assistant.web import estimates as estimate_pages
from assistant.web.security import CookieCsrf, SecurityHeaders
from assistant.web.session import NotSignedIn, to_sign_in

UNLIMITED = ["/healthz", "/readyz", "/schema", "/static"]


def csrf_secret(token_secret: str) -> str:
    """A key of its own for CSRF tokens, derived from the token secret."""
    return hmac.new(token_secret.encode(), b"ro-assistant csrf", hashlib.sha256).hexdigest()


class Liveness(msgspec.Struct):
    status: Literal["ok"]


class ModelReport(msgspec.Struct):
    status: Literal["ok", "failing", "not configured"]
    last_error: str | None = None
    last_error_s_ago: int | None = None


class Readiness(msgspec.Struct):
    status: Literal["ready", "not ready"]
    database: str
    pending_migrations: list[str]
    connections_in_use: int
    connections_max: int
    model: ModelReport


@get("/healthz", sync_to_thread=False, tags=["health"])
def healthz() -> Liveness:
    """Liveness: the process answers. Says nothing about its dependencies."""
    return Liveness("ok")


@get(
    "/readyz",
    tags=["health"],
    responses={
        HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
            Readiness,
            description="Not ready: the database does not answer, every connection is in use,"
            " or a migration is pending.",
            generate_examples=False,
        )
    },
)
async def readyz(state: State) -> Response[Readiness]:
    """Readiness: the database answers as the application role, a connection is free and no
    migration is pending. The model's last outcome is reported, not required."""
    result = await readiness.check(state.database, state.settings.migrations_dir)
    model = state.chat.model
    body = Readiness(
        status="ready" if result.ready else "not ready",
        database=result.database,
        pending_migrations=result.pending_migrations,
        connections_in_use=result.connections_in_use,
        connections_max=result.connections_max,
        model=msgspec.convert(model.health.report(), ModelReport)
        if model
        else ModelReport("not configured"),
    )
    return Response(body, status_code=HTTP_200_OK if result.ready else HTTP_503_SERVICE_UNAVAILABLE)


def create_app(settings: Settings) -> Litestar:
    # Here, not in the lifespan: a refused secret stops `serve` with one line, no traceback.
    token_secret = tokens.load_secret(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = Database(
            app_url(settings),
            pool_size=(settings.db_pool_size + 1) // 2,
            max_overflow=settings.db_pool_size // 2,
            pool_timeout_s=settings.db_pool_timeout_s,
        )
        counters = SharedCounters(database.engine, token_secret)
        ring = keyring.load(settings.keyring_json, settings.keyring_path)
        embedder = embedder_for(settings)
        model = ChatModel(settings) if settings.llm_model else None
        app.state.update(
            database=database,
            settings=settings,
            ring=ring,
            embedder=embedder,
            token_secret=token_secret,
            counters=counters,
            login_guard=LoginGuard(
                LoginThrottle(
                    counters, settings.login_failures_per_account, settings.login_lockout_s
                ),
                anyio.CapacityLimiter(settings.argon2_concurrency),
            ),
            chat=ChatServices(database, ring, embedder, settings, model),
        )
        # Load the model now, not on the first question.
        await anyio.to_thread.run_sync(embedder.embed, ["warm up"])
        try:
            yield
        finally:
            if model:
                await model.close()
            await database.dispose()

    return Litestar(
        route_handlers=[
            healthz,
            readyz,
            auth.issue_token,
            conversations.ConversationController,
            messages.MessageController,
            repair_orders.read_repair_order,
            estimates.draft,
            feedback.rate_answer,
            audit.AuditController,
            users.UserController,
            *pages.ROUTES,
            *admin_pages.ROUTES,
            *estimate_pages.ROUTES,
            assets.static_router(),
        ],
        template_config=assets.template_config(),
        dependencies={
            "db_session": Provide(deps.provide_db_session),
            "caller": Provide(deps.provide_caller),
            "meta": Provide(deps.provide_meta, sync_to_thread=False),
        },
        lifespan=[lifespan],
        middleware=[
            AllowEveryMethod(),
            SecurityHeaders,
            DefineMiddleware(CookieCsrf, secret=csrf_secret(token_secret)),
            request_context,
            SharedRateLimit(settings.rate_limit_per_minute, tuple(UNLIMITED)),
        ],
        exception_handlers={**errors.HANDLERS, NotSignedIn: to_sign_in},
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="RO Assistant",
            version="1.0.0",
            path="/schema",
            # Each operation says whether it needs a token: /healthz, /readyz and logging in do not.
            components=openapi.COMPONENTS,
        ),
        plugins=[openapi.StrictStructs()],
    )
