"""The OpenAPI document is true, and stays so: schemathesis, in process, sends every
operation what the document allows and what it forbids, as a TECH, an advisor
(PII_APPROVED) and an ADMIN, and runs every check it has on each answer: no 500, no status,
body, content type or header the document does not list, nothing valid refused, nothing
invalid taken, auth enforced where documented, a deleted conversation gone. A TECH's
answers must also hold no customer detail from any shop's vault.

Each role gets a shop of its own (three ROs with known customers), so what an ADMIN's
requests change (users disabled, roles changed) reaches no other test. To keep the file near
a minute, the coverage phase (every boundary, every kind of malformed input) runs each
operation as the role it is for; fuzzing and call sequences run as every role.

The document is read when this module is imported (schemathesis makes one test per
operation at collection); `test_the_app_serves_this_document` ties it to what the app
serves at /schema/openapi.json.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from schemathesis.checks import CheckFunction
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.python import asgi

from assistant.api.app import create_app
from assistant.auth import tokens
from assistant.db.session import Database, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii import keyring
from assistant.settings import Settings
from assistant.tenants.service import create_tenant, create_user
from tests.api import helpers
from tests.api.conftest import TOKEN_SECRET
from tests.conftest import DemoService
from tests.samples import CUSTOMER, local_model, pii_values, record
from tests.test_pii_leaks import vault_values

ROLES = {"tech": Role.TECH, "advisor": Role.PII_APPROVED, "admin": Role.ADMIN}
CUSTOMERS = [
    CUSTOMER
    | {
        "name": f"{first} Contractson",
        "email": f"{first.lower()}.contractson@example.org",
        "phones": [f"(520) 555-01{n}{n}"],
        "address": {"street": f"{n}0{n} Schema Way", "city": "Tucson", "zip": "85701"},
        "vin": f"1HGCM8263{n}A00465{n}",
        "license_plate": f"AZ CTR{n}{n}{n}{n}",
    }
    for n, first in ((1, "Wilhelmina"), (2, "Bartholomew"), (3, "Octavia"))
]
# Business rules no JSON Schema can state: an estimate's work must name a job the shop has
# priced, and an anchor must carry this shop's MAC. For these two a schema-valid request
# may also be refused with 422; every other operation must take all it documents.
SEMANTIC_422 = "^/api/v1/(estimates/draft|audit-log/verify)$"
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
HYPOTHESIS = settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclasses.dataclass(frozen=True)
class ShopUser:
    slug: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID


@dataclasses.dataclass(frozen=True)
class Caller:
    role: str
    token: str = dataclasses.field(repr=False)
    ro_ids: tuple[str, ...]
    checks: list[CheckFunction]


def _document() -> dict[str, Any]:
    """What `create_app` documents; settings change nothing in it."""
    app = create_app(dataclasses.replace(Settings.from_env(), token_secret=TOKEN_SECRET))
    return app.openapi_schema.to_schema()


class AppUnderTest:
    """Schemathesis takes the app along with the document, when this module is imported;
    the app needs the test database, so the `contract_app` fixture plugs it in here."""

    def __init__(self) -> None:
        self.app: Litestar | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the contract_app fixture plugs the app in"
        await self.app(scope, receive, send)


DOCUMENT = _document()
APP = AppUnderTest()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "generation": {"max-examples": HYPOTHESIS.max_examples, "deterministic": True},
            "operations": [
                {
                    "include-path-regex": SEMANTIC_422,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
                }
            ],
        }
    ),
)
schema.app = APP


@pytest.fixture(scope="module")
def contract_app(api_settings: Settings) -> Iterator[Litestar]:
    APP.app = create_app(api_settings)
    yield APP.app
    # Schemathesis starts the app's lifespan once and keeps it: stop it, so its database
    # connections close before the test database is dropped.
    asgi.shutdown_lifespans()
    APP.app = None


@pytest.fixture(scope="module")
def vault_pii(demo_service: DemoService) -> list[str]:
    """Every customer detail in the demo shops' vaults and in the ones made here."""
    ours = [v.lower() for c in CUSTOMERS for v in pii_values(c) if len(v) >= 6]
    return [*vault_values(demo_service.db, demo_service.work)[0], *ours]


@pytest.fixture(scope="module", params=list(ROLES))
def caller(
    request: pytest.FixtureRequest,
    api_settings: Settings,
    demo_service: DemoService,
    vault_pii: list[str],
) -> Caller:
    role = str(request.param)
    shop = anyio.run(_shop_for, role, demo_service)
    token = tokens.issue(TOKEN_SECRET, shop.user_id, shop.tenant_id, api_settings.token_ttl_s)
    rows = helpers.rows_as_admin(demo_service, shop.slug, "SELECT ro_id FROM app.repair_orders")
    assert len(rows) == len(CUSTOMERS)
    checks = [_no_customer_details(vault_pii)] if role == "tech" else []
    return Caller(role, token, tuple(str(r["ro_id"]) for r in rows), checks)


async def _shop_for(role: str, demo: DemoService) -> ShopUser:
    """A shop with one user, of `role`, and three ROs."""
    ring = keyring.load(None, demo.work / "data" / "keyring.json")
    db = Database(demo.db.app_url)
    try:
        tenant = await create_tenant(db, f"contract-{role}-{uuid.uuid4().hex[:6]}", "Contract")
        user = await create_user(
            db, tenant, f"{role}@{tenant.slug}.example", ROLES[role], "contract-test-password"
        )
        for n, customer in enumerate(CUSTOMERS):
            rec = record(ro_number=str(61000 + n), customer=copy.deepcopy(customer))
            report = await ingest_bytes(
                db, ring, local_model(), tenant.tenant_id, "ro.jsonl", json.dumps(rec).encode()
            )
            assert not report.rejected
    finally:
        await db.dispose()
    return ShopUser(tenant.slug, tenant.tenant_id, user.user_id)


def _no_customer_details(values: list[str]) -> CheckFunction:
    def tech_sees_no_customer_details(
        ctx: schemathesis.CheckContext,
        response: schemathesis.Response,
        case: schemathesis.Case[Any],
    ) -> None:
        found = helpers.leaked(values, response.text_lossy())
        if found:
            # The count only: the values are customer PII.
            raise AssertionError(f"a TECH received {len(found)} customer detail(s)")

    return tech_sees_no_customer_details


def _call_kwargs(caller: Caller, case: schemathesis.Case[Any]) -> dict[str, Any]:
    """The caller's token, unless the case is about a missing or malformed one; and one of
    its shop's ROs where a valid request names an RO (a random id is only ever a 404)."""
    if "ro_id" in (case.path_parameters or {}) and not _negative_at(case, ParameterLocation.PATH):
        pick = uuid.UUID(str(case.path_parameters["ro_id"])).int % len(caller.ro_ids)
        case.path_parameters["ro_id"] = caller.ro_ids[pick]
    if _negative_at(case, ParameterLocation.HEADER):
        return {}
    return {"headers": {"Authorization": f"Bearer {caller.token}"}}


def _negative_at(case: schemathesis.Case[Any], location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def test_the_app_serves_this_document(contract_app: Litestar) -> None:
    assert contract_app.openapi_schema.to_schema() == DOCUMENT
    public = {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if not operation.get("security")
    }
    assert public == {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/v1/auth/token")}
    assert "security" not in DOCUMENT


def _worth_a_run(role: str, operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> bool:
    """A public operation once, an admin one as TECH (refused) and ADMIN: the advisor is
    refused exactly as TECH is."""
    if not operation.definition.raw.get("security"):
        return role == "tech"
    return role != "advisor" or "admin" not in (operation.tags or [])


def _owner(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> str:
    """The role an operation is for: its coverage cases (every boundary and every kind of
    malformed input, some hundreds) run as that role only; fuzzing runs as every role."""
    return "admin" if "admin" in (operation.tags or []) else "tech"


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], contract_app: Litestar, caller: Caller
) -> None:
    if not _worth_a_run(caller.role, case.operation):
        pytest.skip(f"{case.operation.label} answers {caller.role} as it answers another role")
    phase = case.meta.phase.name if case.meta else None
    if phase == TestPhase.COVERAGE and caller.role != _owner(case.operation):
        return
    case.call_and_validate(additional_checks=caller.checks, **_call_kwargs(caller, case))


def test_call_sequences_answer_as_documented(contract_app: Litestar, caller: Caller) -> None:
    """Conversations created, read, renamed, archived, asked in and deleted, users created
    and changed, each answer checked (a deleted conversation must then be a 404)."""
    machine = schema.as_state_machine()

    def get_call_kwargs(self: APIStateMachine, case: schemathesis.Case[Any]) -> dict[str, Any]:
        return _call_kwargs(caller, case)

    def validate_response(
        self: APIStateMachine,
        response: schemathesis.Response,
        case: schemathesis.Case[Any],
        additional_checks: list[CheckFunction] | None = None,
        **kwargs: Any,
    ) -> None:
        checks = [*(additional_checks or []), *caller.checks]
        machine.validate_response(self, response, case, additional_checks=checks, **kwargs)

    checked: type[APIStateMachine] = type(
        "Checked",
        (machine,),
        {"get_call_kwargs": get_call_kwargs, "validate_response": validate_response},
    )
    checked.run(settings=settings(HYPOTHESIS, max_examples=4, stateful_step_count=6))
