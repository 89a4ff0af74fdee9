"""Sign-in and the chat pages. Handlers stay thin: they read the form or path, call the
same domain functions as the JSON API, and render a template (a whole page, or the
fragment an htmx request swaps in)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from assistant.audit.service import RequestMeta
from assistant.auth import service as auth
from assistant.auth.caller import Caller
from assistant.auth.service import user_id_of
from assistant.chat import conversations as service
from assistant.chat import placeholders
from assistant.chat import repository as repo
from assistant.db.session import Role
from assistant.errors import AppError
from assistant.pii.reveal import MAX_PURPOSE
from assistant.repair_orders import service as repair_orders
from assistant.web import session as web_session

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
SIDEBAR_SIZE = 50
PAGE = Provide(web_session.page_caller)


class SignInForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    shop: Annotated[str, msgspec.Meta(max_length=63)] = ""
    next: Annotated[str, msgspec.Meta(max_length=500)] = ""


class TitleForm(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(max_length=service.MAX_TITLE)] = ""


class PurposeForm(msgspec.Struct):
    purpose: Annotated[str, msgspec.Meta(max_length=MAX_PURPOSE)] = ""


def local_target(target: str | None) -> str:
    """Only a path of this app: a sign-in link can never send the user to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/chat"


def page(
    request: Request[Any, Any, Any],
    name: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    caller: Caller | None = request.scope["state"].get("caller")
    return Template(
        template_name=name,
        context={"caller": caller, "is_admin": caller is not None and caller.ctx.role is Role.ADMIN}
        | context,
        status_code=status_code,
        cookies=web_session.renewed(request),
    )


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/chat", status_code=303)


@get("/signin", include_in_schema=False)
async def sign_in_page(
    request: Request[Any, Any, Any], next: Annotated[str | None, Parameter(max_length=500)] = None
) -> Template:
    return page(request, "signin.html", next=local_target(next), error=None, email="", shop="")


@post("/signin", include_in_schema=False)
async def sign_in(
    request: Request[Any, Any, Any],
    state: State,
    data: Annotated[SignInForm, FORM],
) -> Response[Any]:
    target = local_target(data.next)
    try:
        issued = await auth.login(
            state.database,
            state.login_guard,
            state.token_secret,
            state.settings.token_ttl_s,
            data.email,
            data.password,
            data.shop.strip() or None,
        )
    except AppError as exc:
        return page(
            request,
            "signin.html",
            status_code=exc.status,
            next=target,
            error=exc.message,
            email=data.email,
            shop=data.shop,
        )
    return Redirect(
        target,
        status_code=303,
        cookies=[
            web_session.session_cookie(request, issued.access_token, state.settings.token_ttl_s)
        ],
    )


@post("/signout", include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    return Redirect("/signin", status_code=303, cookies=[web_session.cleared_cookie(request)])


@get("/session/keepalive", dependencies={"caller": PAGE}, include_in_schema=False)
async def keepalive(
    request: Request[Any, Any, Any], caller: NamedDependency[Caller]
) -> Response[None]:
    """Called by the chat page while in use: renews the session cookie half-way through."""
    return Response(None, status_code=204, cookies=web_session.renewed(request))


async def _sidebar(
    state: State, caller: Caller, title_has: str | None = None, archived: bool = False
) -> list[repo.Conversation]:
    async with state.database.transaction(caller.ctx) as session:
        return await repo.list_for_user(
            session,
            caller.ctx.tenant_id,
            user_id_of(caller),
            SIDEBAR_SIZE,
            "archived" if archived else "active",
            None,
            title_has.strip() if title_has else None,
        )


def _message(m: repo.Message) -> dict[str, Any]:
    """A stored message for the page: an answer keeps its placeholders (the page shows
    `[redacted]` or a Reveal button, never a value on load); a question shows labels."""
    return {
        "id": str(m.message_id),
        "role": m.role,
        "status": m.status,
        "content": m.content if m.role == "assistant" else placeholders.user_label(m.content),
        "error": m.error,
        "model": m.model,
        "citations": m.citations,
    }


@get("/chat", dependencies={"caller": PAGE}, include_in_schema=False)
async def chat_page(
    request: Request[Any, Any, Any], state: State, caller: NamedDependency[Caller]
) -> Template:
    return page(
        request,
        "chat.html",
        conversations=await _sidebar(state, caller),
        current=None,
        messages=[],
        can_reveal=caller.ctx.role is not Role.TECH,
        active="chat",
    )


@get("/chat/{conversation_id:uuid}", dependencies={"caller": PAGE}, include_in_schema=False)
async def conversation_page(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    conversation_id: FromPath[UUID],
) -> Template:
    """An admin may open another user's conversation (from the feedback review): read
    only, and audited as the API's read is."""
    async with state.database.transaction(caller.ctx) as session:
        conversation = await service.readable(session, caller, conversation_id, meta)
        rows = await repo.messages(session, caller.ctx.tenant_id, conversation_id, limit=200)
    return page(
        request,
        "chat.html",
        conversations=await _sidebar(state, caller),
        current=conversation,
        messages=[_message(m) for m in rows],
        can_reveal=caller.ctx.role is not Role.TECH,
        read_only=conversation.user_id != caller.ctx.user_id,
        active="chat",
    )


@get("/ui/conversations", dependencies={"caller": PAGE}, include_in_schema=False)
async def conversation_list(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    q: Annotated[str | None, Parameter(max_length=100)] = None,
    archived: FromQuery[bool] = False,
    current: FromQuery[UUID | None] = None,
) -> Template:
    return page(
        request,
        "partials/conversations.html",
        conversations=await _sidebar(state, caller, q, archived),
        current_id=current,
        archived=archived,
    )


async def _changed(
    request: Request[Any, Any, Any],
    state: State,
    caller: Caller,
    conversation_id: UUID,
    values: dict[str, Any],
    meta: RequestMeta,
) -> Template:
    async with state.database.transaction(caller.ctx) as session:
        scrub = service.TitleScrub(state.ring, meta, state.settings.pii_lookups_per_hour)
        await service.change(session, caller, conversation_id, values, scrub)
    return page(
        request,
        "partials/conversations.html",
        conversations=await _sidebar(state, caller),
        current_id=conversation_id,
        archived=False,
    )


@post(
    "/ui/conversations/{conversation_id:uuid}/rename",
    dependencies={"caller": PAGE},
    include_in_schema=False,
    status_code=200,
)
async def rename(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    conversation_id: FromPath[UUID],
    data: Annotated[TitleForm, FORM],
) -> Template:
    title = data.title.strip() or None
    return await _changed(request, state, caller, conversation_id, {"title": title}, meta)


@post(
    "/ui/conversations/{conversation_id:uuid}/archive",
    dependencies={"caller": PAGE},
    include_in_schema=False,
    status_code=200,
)
async def archive(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    conversation_id: FromPath[UUID],
) -> Template:
    values = {"status": "archived"}
    return await _changed(request, state, caller, conversation_id, values, meta)


@post(
    "/ui/conversations/{conversation_id:uuid}/unarchive",
    dependencies={"caller": PAGE},
    include_in_schema=False,
    status_code=200,
)
async def unarchive(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    conversation_id: FromPath[UUID],
) -> Template:
    values = {"status": "active"}
    return await _changed(request, state, caller, conversation_id, values, meta)


@post(
    "/ui/conversations/{conversation_id:uuid}/delete",
    dependencies={"caller": PAGE},
    include_in_schema=False,
    status_code=200,
)
async def remove(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    conversation_id: FromPath[UUID],
) -> Response[Any]:
    async with state.database.transaction(caller.ctx) as session:
        await service.delete(session, caller, conversation_id)
    return Response(b"", status_code=200, headers={"HX-Redirect": "/chat"})


@get("/ui/repair-orders/{ro_id:uuid}", dependencies={"caller": PAGE}, include_in_schema=False)
async def ro_panel(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    ro_id: FromPath[UUID],
    line: Annotated[str | None, Parameter(max_length=4)] = None,
) -> Template:
    async with state.database.transaction(caller.ctx) as session:
        ro = await repair_orders.read(session, state.ring, caller, ro_id, None, meta)
    return page(
        request,
        "partials/ro_panel.html",
        ro=ro,
        cited_line=line,
        can_reveal=caller.ctx.role is not Role.TECH,
    )


@post(
    "/ui/repair-orders/{ro_id:uuid}/reveal",
    dependencies={"caller": PAGE},
    include_in_schema=False,
    status_code=200,
)
async def reveal(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    ro_id: FromPath[UUID],
    data: Annotated[PurposeForm, FORM],
) -> Template:
    """The audited reveal of the API (`?purpose=`), from the panel's form."""
    purpose = data.purpose.strip()
    if not purpose:
        return page(
            request,
            "partials/customer.html",
            status_code=422,
            ro={"ro_id": str(ro_id), "customer": None, "pii": {"access": "withheld"}},
            error="Say why you need the customer's details.",
            can_reveal=True,
        )
    async with state.database.transaction(caller.ctx) as session:
        try:
            ro = await repair_orders.read(session, state.ring, caller, ro_id, purpose, meta)
        except repair_orders.MissingRepairOrder:
            ro = {"ro_id": str(ro_id), "customer": None, "pii": {"access": "denied"}}
    return page(request, "partials/customer.html", ro=ro, error=None, can_reveal=True)


ROUTES = [
    home,
    sign_in_page,
    sign_in,
    sign_out,
    keepalive,
    chat_page,
    conversation_page,
    conversation_list,
    rename,
    archive,
    unarchive,
    remove,
    ro_panel,
    reveal,
]
