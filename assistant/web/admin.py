"""The admin pages (ADMIN only; everyone else gets 404): audit log, users, feedback.

Handlers call the same domain functions as the JSON API. Every form works without script
(a whole page comes back); under htmx the same handler answers with the fragment it swaps.
A refused change answers 4xx with the reason on the page, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.routes.audit import EXPORT_LIMIT, MEDIA
from assistant.audit import anchor as anchors
from assistant.audit import service as audit
from assistant.audit.service import AuditFilter, Outcome
from assistant.auth.caller import Caller
from assistant.chat import placeholders
from assistant.chat import repository as chat_repo
from assistant.chat.conversations import READ_OTHERS
from assistant.chat.typed_pii import LOOKUP_ACTION
from assistant.db.session import Role
from assistant.errors import AppError, Unprocessable
from assistant.pii.markers import PLACEHOLDER
from assistant.pii.reveal import ACTION as REVEAL_ACTION
from assistant.repair_orders import repository as ro_repo
from assistant.tenants import repository as users_repo
from assistant.tenants import shop_users
from assistant.tenants.passwords import MIN_LENGTH, WeakPassword, hash_password
from assistant.tenants.service import EMAIL
from assistant.web import session as web_session
from assistant.web.pages import FORM, page

ADMIN = Provide(web_session.admin_caller)
AUDIT_PAGE_SIZE = 50
FEEDBACK_PAGE_SIZE = 25
EXPORT_BATCH = 1000
MAX_SEQ = 2**63 - 1  # bigint: a larger cursor is a 400, not a database error
# Suggestions for the action filter; any other action can still be typed.
KNOWN_ACTIONS = (REVEAL_ACTION, LOOKUP_ACTION, READ_OTHERS, "pii.rotate")
RO_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,19}$")
ROLE_LABELS = {
    Role.TECH: "Technician (TECH)",
    Role.PII_APPROVED: "Advisor (PII_APPROVED)",
    Role.ADMIN: "Admin (ADMIN)",
}


def _htmx(request: Request[Any, Any, Any]) -> bool:
    """A fragment for htmx; a history restore wants the whole page back."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def _either(
    request: Request[Any, Any, Any],
    whole: str,
    fragment: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The same context as a whole page or as the fragment htmx swaps in; `Vary` keeps a
    cached fragment from coming back as the page."""
    name = fragment if _htmx(request) else whole
    response = page(request, name, status_code=status_code, **context)
    response.headers["Vary"] = "HX-Request"
    return response


def _utc_text(value: datetime | str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- Audit log ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The filter as typed: it refills the form and carries over to paging and exports."""

    actor: str = ""
    action: str = ""
    outcome: str = ""
    ro: str = ""
    since: str = ""
    until: str = ""

    def params(self) -> dict[str, str]:
        """The fields given, for a query string (empty ones would only clutter it)."""
        fields = ("actor", "action", "outcome", "ro", "since", "until")
        return {name: getattr(self, name) for name in fields if getattr(self, name)}


def provide_audit_query(
    actor: Annotated[str, QueryParameter(max_length=64)] = "",
    action: Annotated[str, QueryParameter(max_length=100)] = "",
    outcome: Annotated[str, QueryParameter(max_length=16)] = "",
    ro: Annotated[str, QueryParameter(max_length=64)] = "",
    since: Annotated[str, QueryParameter(max_length=32)] = "",
    until: Annotated[str, QueryParameter(max_length=32)] = "",
) -> AuditQuery:
    return AuditQuery(
        actor.strip(), action.strip(), outcome.strip(), ro.strip(), since.strip(), until.strip()
    )


AUDIT_QUERY = Provide(provide_audit_query, sync_to_thread=False)


@dataclass(slots=True)
class Resolved:
    """The filter the domain applies, or why there is none."""

    flt: AuditFilter | None
    errors: list[str] = field(default_factory=list)


def _day(text: str, label: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"The {label} date is not a date (YYYY-MM-DD).")
        return None


async def _resolve(session: AsyncSession, caller: Caller, q: AuditQuery) -> Resolved:
    """The typed filter as the API's `AuditFilter`. An RO is given by number (or id); the
    date range is whole days in UTC, the end day included."""
    errors: list[str] = []
    actor: UUID | None = None
    if q.actor:
        try:
            actor = UUID(q.actor)
        except ValueError:
            errors.append("Choose the actor from the list.")
    outcome: Outcome | None = None
    if q.outcome:
        try:
            outcome = Outcome(q.outcome)
        except ValueError:
            errors.append("The outcome is allowed or denied.")
    since, until = _day(q.since, "start", errors), _day(q.until, "end", errors)
    if since and until and until < since:
        errors.append("The end date is before the start date.")
    object_id: str | None = None
    if q.ro:
        try:
            object_id = str(UUID(q.ro))
        except ValueError:
            if not RO_NUMBER.match(q.ro):
                errors.append("An RO number is letters, digits and dashes.")
            else:
                found = await ro_repo.ro_id_by_number(session, caller.ctx.tenant_id, q.ro)
                if found is None:
                    errors.append(f"This shop has no RO {q.ro}.")
                object_id = str(found) if found else None
    if errors:
        return Resolved(None, errors)
    return Resolved(
        AuditFilter(
            actor_user_id=actor,
            action=q.action or None,
            object_id=object_id,
            outcome=outcome,
            since=datetime.combine(since, time(), UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
        )
    )


def _object_text(row: dict[str, Any], ro_numbers: dict[UUID, str]) -> str:
    kind, ident = row["object_type"], row["object_id"]
    if not ident:
        return "—"
    if kind == "repair_order":
        try:
            number = ro_numbers.get(UUID(ident))
        except ValueError:
            number = None
        return f"RO {number}" if number else f"repair order {ident[:8]}…"
    if kind in {"vehicle", "customer"}:
        return f"RO {ident} ({kind})"
    return f"{kind or 'object'} {ident[:8]}…"


def _audit_row(
    row: dict[str, Any], emails: dict[UUID, str], ro_numbers: dict[UUID, str]
) -> dict[str, Any]:
    actor = row["actor_user_id"]
    return {
        "seq": row["seq"],
        "time": row["created_at"],
        "time_text": _utc_text(row["created_at"]),
        "actor": emails.get(UUID(actor), actor) if actor else "system",
        "role": row["actor_role"] or "—",
        "action": row["action"],
        "object": _object_text(row, ro_numbers),
        "fields": ", ".join(f.replace("_", " ") for f in row["pii_fields"] or []),
        "purpose": row["purpose"] or "",
        "outcome": row["outcome"],
    }


async def _audit_context(
    state: State,
    caller: Caller,
    q: AuditQuery,
    before: int | None = None,
    after: int | None = None,
) -> tuple[int, dict[str, Any]]:
    async with state.database.transaction(caller.ctx) as session:
        users = await users_repo.list_users(session, caller.ctx.tenant_id)
        resolved = await _resolve(session, caller, q)
        items: list[dict[str, Any]] = []
        total = 0
        ro_numbers: dict[UUID, str] = {}
        if resolved.flt is not None:
            items = await audit.newest_rows(
                session,
                resolved.flt,
                limit=AUDIT_PAGE_SIZE + 1,
                before_seq=before,
                after_seq=after,
            )
            total = await audit.count_rows(session, resolved.flt)
            ids = [
                UUID(r["object_id"])
                for r in items
                if r["object_type"] == "repair_order" and _is_uuid(r["object_id"])
            ]
            ro_numbers = await ro_repo.ro_numbers_by_ids(session, caller.ctx.tenant_id, ids)
    more = len(items) > AUDIT_PAGE_SIZE
    if after is not None:
        # Fetched upwards from `after`: the extra row is the newest, at the front.
        shown, newer, older = items[-AUDIT_PAGE_SIZE:], more, True
    else:
        shown, newer, older = items[:AUDIT_PAGE_SIZE], before is not None, more
    emails = {u.user_id: u.email for u in users}
    params = q.params()
    context = {
        "active": "audit",
        "query": q,
        "users": users,
        "actions": KNOWN_ACTIONS,
        "errors": resolved.errors,
        "rows": [_audit_row(r, emails, ro_numbers) for r in shown],
        "total": total,
        "filtered": bool(params),
        "export_query": urlencode(params),
        "older_query": urlencode(params | {"before": shown[-1]["seq"]}) if older and shown else "",
        "newer_query": urlencode(params | {"after": shown[0]["seq"]}) if newer and shown else "",
        "newest_query": urlencode(params) if before is not None or after is not None else None,
        "verify": None,
    }
    return (422 if resolved.errors else 200), context


def _is_uuid(text: str | None) -> bool:
    try:
        UUID(text or "")
    except ValueError:
        return False
    return True


@get("/admin/audit", dependencies={"caller": ADMIN, "q": AUDIT_QUERY}, include_in_schema=False)
async def audit_page(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    q: NamedDependency[AuditQuery],
    before: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    after: Annotated[int | None, QueryParameter(ge=0, le=MAX_SEQ)] = None,
) -> Template:
    status, context = await _audit_context(state, caller, q, before, after)
    return _either(request, "admin/audit.html", "admin/audit_results.html", status, **context)


async def _export_chunks(
    state: State, caller: Caller, flt: AuditFilter, fmt: Literal["csv", "jsonl"]
) -> AsyncIterator[str]:
    """The API export's rows and bytes (oldest first, same cap), read and sent in batches
    so a large log never sits in memory whole."""
    async with state.database.transaction(caller.ctx) as session:
        after, sent = 0, 0
        while True:
            batch = await audit.rows(
                session, flt, limit=min(EXPORT_BATCH, EXPORT_LIMIT - sent), after_seq=after
            )
            if fmt == "jsonl":
                yield audit.to_jsonl(batch)
            else:
                text = audit.to_csv(batch)
                yield text if sent == 0 else text.split("\n", 1)[1]
            sent += len(batch)
            if len(batch) < EXPORT_BATCH or sent >= EXPORT_LIMIT:
                return
            after = batch[-1]["seq"]


@get(
    "/admin/audit/export",
    dependencies={"caller": ADMIN, "q": AUDIT_QUERY},
    include_in_schema=False,
)
async def audit_export(
    state: State,
    caller: NamedDependency[Caller],
    q: NamedDependency[AuditQuery],
    format: FromQuery[Literal["csv", "jsonl"]] = "jsonl",
) -> Stream:
    async with state.database.transaction(caller.ctx) as session:
        resolved = await _resolve(session, caller, q)
    if resolved.flt is None:
        raise Unprocessable(" ".join(resolved.errors))
    return Stream(
        _export_chunks(state, caller, resolved.flt, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="audit-log.{format}"'},
    )


@post(
    "/admin/audit/verify",
    dependencies={"caller": ADMIN},
    include_in_schema=False,
    status_code=200,
)
async def audit_verify(
    request: Request[Any, Any, Any], state: State, caller: NamedDependency[Caller]
) -> Template:
    """The API's check (`POST /audit-log/verify` without an anchor): walks the chain and
    signs its head when it holds, an anchor worth keeping outside the database."""
    async with state.database.transaction(caller.ctx) as session:
        report, signed = await anchors.take(
            session, state.ring, caller.ctx.tenant_id, caller.slug, None
        )
    verify = {
        "ok": report.ok,
        "rows": report.rows,
        "first_broken_seq": report.first_broken_seq,
        "problem": report.problem,
        "anchor": signed.to_json() if signed else None,
    }
    if _htmx(request):
        return page(request, "admin/verify.html", verify=verify)
    _, context = await _audit_context(state, caller, AuditQuery())
    return page(request, "admin/audit.html", **(context | {"verify": verify}))


# --- Users ----------------------------------------------------------------------------


class NewUserForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    role: Annotated[str, msgspec.Meta(max_length=20)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class RoleForm(msgspec.Struct):
    role: Annotated[str, msgspec.Meta(max_length=20)] = ""


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise Unprocessable("Choose a role from the list.") from None


async def _hashed(state: State, password: str) -> str:
    """Hashed off the event loop, under the same cap on concurrent argon2 work as logins."""
    try:
        return await anyio.to_thread.run_sync(
            hash_password, password, limiter=state.login_guard.argon2_limiter
        )
    except WeakPassword as exc:
        raise Unprocessable(f"The password is too short or too long: {exc}.") from None


async def _users_page(
    request: Request[Any, Any, Any],
    state: State,
    caller: Caller,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    draft: NewUserForm | None = None,
    error_for: UUID | None = None,
) -> Template:
    async with state.database.transaction(caller.ctx) as session:
        users = await users_repo.list_users(session, caller.ctx.tenant_id)
    return _either(
        request,
        "admin/users.html",
        "admin/users_section.html",
        status_code,
        active="users",
        users=users,
        roles=ROLE_LABELS,
        notice=notice,
        error=error,
        error_for=error_for,
        draft=draft or NewUserForm(role=Role.TECH.value),
        min_password=MIN_LENGTH,
    )


def _left_admin(request: Request[Any, Any, Any]) -> Response[Any]:
    """An admin who just demoted or disabled themselves has no admin page left to see."""
    if _htmx(request):
        return Response(b"", status_code=200, headers={"HX-Redirect": "/chat"})
    return Redirect("/chat", status_code=303)


@get("/admin/users", dependencies={"caller": ADMIN}, include_in_schema=False)
async def users_page(
    request: Request[Any, Any, Any], state: State, caller: NamedDependency[Caller]
) -> Template:
    return await _users_page(request, state, caller)


@post("/admin/users", dependencies={"caller": ADMIN}, include_in_schema=False, status_code=200)
async def users_create(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    data: Annotated[NewUserForm, FORM],
) -> Template:
    email = data.email.strip().lower()
    draft = NewUserForm(email=data.email, role=data.role)
    try:
        if not EMAIL.match(email):
            raise Unprocessable("That is not an email address.")
        role = _role(data.role)
        pass_hash = await _hashed(state, data.password)
        async with state.database.transaction(caller.ctx) as session:
            user = await shop_users.create(session, caller, email, role, pass_hash)
    except AppError as exc:
        return await _users_page(request, state, caller, exc.status, error=exc.message, draft=draft)
    notice = f"Created {user.email} as {ROLE_LABELS[user.role]}."
    return await _users_page(request, state, caller, notice=notice)


async def _apply(
    request: Request[Any, Any, Any],
    state: State,
    caller: Caller,
    user_id: UUID,
    values: dict[str, object],
    done: str,
) -> Response[Any]:
    try:
        async with state.database.transaction(caller.ctx) as session:
            user = await shop_users.change(session, caller, user_id, values)
    except AppError as exc:
        return await _users_page(
            request, state, caller, exc.status, error=exc.message, error_for=user_id
        )
    if user.user_id == caller.ctx.user_id and (user.role is not Role.ADMIN or not user.is_active):
        return _left_admin(request)
    return await _users_page(request, state, caller, notice=done.format(email=user.email))


@post(
    "/admin/users/{user_id:uuid}/role",
    dependencies={"caller": ADMIN},
    include_in_schema=False,
    status_code=200,
)
async def users_role(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    user_id: FromPath[UUID],
    data: Annotated[RoleForm, FORM],
) -> Response[Any]:
    try:
        role = _role(data.role)
    except AppError as exc:
        return await _users_page(
            request, state, caller, exc.status, error=exc.message, error_for=user_id
        )
    done = "{email} is now " + ROLE_LABELS[role] + "."
    return await _apply(request, state, caller, user_id, {"role": role.value}, done)


@post(
    "/admin/users/{user_id:uuid}/disable",
    dependencies={"caller": ADMIN},
    include_in_schema=False,
    status_code=200,
)
async def users_disable(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    user_id: FromPath[UUID],
) -> Response[Any]:
    done = "{email} is disabled and can no longer sign in."
    return await _apply(request, state, caller, user_id, {"is_active": False}, done)


@post(
    "/admin/users/{user_id:uuid}/enable",
    dependencies={"caller": ADMIN},
    include_in_schema=False,
    status_code=200,
)
async def users_enable(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    user_id: FromPath[UUID],
) -> Response[Any]:
    done = "{email} is enabled and can sign in again."
    return await _apply(request, state, caller, user_id, {"is_active": True}, done)


# --- Feedback -------------------------------------------------------------------------


def _feedback_row(f: chat_repo.FeedbackReview) -> dict[str, Any]:
    """An answer shows `[redacted]` for every customer detail, a question the neutral
    label the chat shows: this page never reveals, so it writes no audit row."""
    return {
        "message_id": str(f.message_id),
        "conversation_id": str(f.conversation_id),
        "rating": f.rating,
        "reason": f.reason or "",
        "time": f.updated_at.isoformat(),
        "time_text": _utc_text(f.updated_at),
        "rated_by": f.rated_by,
        "question": placeholders.user_label(f.question) if f.question else "",
        "answer": PLACEHOLDER.sub(placeholders.REDACTED, f.answer),
        "model": f.model,
    }


@get("/admin/feedback", dependencies={"caller": ADMIN}, include_in_schema=False)
async def feedback_page(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    rating: FromQuery[Literal["down", "up", "all"]] = "down",
    page_number: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
) -> Template:
    offset = (page_number - 1) * FEEDBACK_PAGE_SIZE
    async with state.database.transaction(caller.ctx) as session:
        found = await chat_repo.feedback_for_review(
            session,
            caller.ctx.tenant_id,
            None if rating == "all" else rating,
            FEEDBACK_PAGE_SIZE + 1,
            offset,
        )
    more = len(found) > FEEDBACK_PAGE_SIZE
    return _either(
        request,
        "admin/feedback.html",
        "admin/feedback_results.html",
        active="feedback",
        rating=rating,
        rows=[_feedback_row(f) for f in found[:FEEDBACK_PAGE_SIZE]],
        page_number=page_number,
        older_query=urlencode({"rating": rating, "page": page_number + 1}) if more else "",
        newer_query=(
            urlencode({"rating": rating, "page": page_number - 1}) if page_number > 1 else ""
        ),
    )


ROUTES = [
    audit_page,
    audit_export,
    audit_verify,
    users_page,
    users_create,
    users_role,
    users_disable,
    users_enable,
    feedback_page,
]
