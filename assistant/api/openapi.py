"""What the OpenAPI document says beyond what Litestar infers, so that a client generated
from it handles every answer: who must send a token, which request bodies refuse unknown
fields or may be left out, and which strings the domain takes (as patterns, written for
both Python's and ECMAScript's regex engines: explicit ranges, no `\\s`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.openapi.spec import Components, Operation, RequestBody, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

BEARER_SCHEME = "BearerToken"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
COMPONENTS = Components(
    security_schemes={
        BEARER_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="From POST /api/v1/auth/token; the web app's session cookie also works.",
        )
    }
)

# What `str.isspace()` (and so `str.strip()` and Python's `\s`) counts as whitespace.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Whitespace and the control characters a question or work text loses before it is read.
_SPACE_OR_CONTROL = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL: such a value is refused (400) once it reaches the database."""
NOT_BLANK = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
"""Something left after `strip()`, and no NUL."""
HAS_TEXT = rf"[^{_SPACE_OR_CONTROL}]"
"""Something left once control characters and whitespace are taken out."""
RO_NUMBER = rf"^[^\x00]*(?:[^#\x00{_SPACE}]|#[{_SPACE}]+#)[^\x00]*$"
"""Something left after `strip()` and dropping leading `#`s ("#48211" is RO 48211)."""
EMAIL_ADDRESS = rf"^[{_SPACE}]*[^@\x00{_SPACE}]+@[^@\x00{_SPACE}]+\.[^@\x00{_SPACE}]+[{_SPACE}]*$"
"""What `tenants.service.EMAIL` takes once stripped, and no NUL."""
VIN_CHARACTER = r"[0-9A-Za-z\xdf\u0131\u0149\u017f\u01f0\u1e96-\u1e9a\ufb00-\ufb06]"
"""A character whose upper case holds an ASCII letter or digit (`"ß".upper() == "SS"`):
what a VIN keeps once normalised."""


def documented(pattern: str) -> dict[str, Any]:
    """`extra_json_schema` for a msgspec `Meta`: the pattern goes into the document only. For
    fields whose domain check refuses the same strings with a clearer message than a regex
    (or with the 400 of a value the database cannot hold)."""
    return {"extra": {"pattern": pattern}}


class StrictStructs(OpenAPISchemaPlugin):
    """msgspec Structs that refuse unknown fields say so (`additionalProperties: false`);
    Litestar's own Struct plugin, which this one runs first, leaves that out. A Struct may
    add keywords of its own in `__openapi_extra__` (such as a `oneOf` of required fields)."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            not field_definition.is_union
            and field_definition.is_subclass_of(msgspec.Struct)
            and _forbids_unknown(field_definition.type_)
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        builtin = next(
            p
            for p in schema_creator.plugins
            if isinstance(p, OpenAPISchemaPlugin)
            and p is not self
            and p.is_plugin_supported_field(field_definition)
        )
        schema = builtin.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        for key, value in getattr(field_definition.type_, "__openapi_extra__", {}).items():
            setattr(schema, key, value)
        return schema


def _forbids_unknown(struct: Any) -> bool:
    return bool(struct.__struct_config__.forbid_unknown_fields)


@dataclass
class OptionalBody(Operation):
    """For handlers whose body may be left out (`data: X | None = None`): Litestar marks
    every request body required."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False
