"""The application factory: one engine per process, kept on app state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from assistant import readiness
from assistant.db.conninfo import app_url
from assistant.db.session import Database
from assistant.settings import Settings


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about its dependencies."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(state: State) -> Response[dict[str, object]]:
    """Readiness: the database answers as the application role and no migration is pending."""
    result = await readiness.check(state.database, state.settings.migrations_dir)
    body: dict[str, object] = {
        "status": "ready" if result.ready else "not ready",
        "database": result.database,
        "pending_migrations": result.pending_migrations,
    }
    return Response(body, status_code=HTTP_200_OK if result.ready else HTTP_503_SERVICE_UNAVAILABLE)


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = Database(app_url(settings))
        app.state.database = database
        app.state.settings = settings
        try:
            yield
        finally:
            await database.dispose()

    return Litestar(
        route_handlers=[healthz, readyz],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="RO Assistant", version="0.1.0", path="/schema"),
    )
