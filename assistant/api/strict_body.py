"""JSON request bodies are read as JSON, strictly: `0` is not `false` and `"12"` is not 12.
Litestar converts a body as leniently as it converts query strings, so it would take what
the OpenAPI document says is not valid. Used as the `before_request` hook of the routes that
take a body; a body that is not JSON at all is left to Litestar (400)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    raw = await request.body()
    if not raw.strip():
        return
    try:
        msgspec.json.decode(raw, type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            "the request is not valid", extra=[{"key": "data", "message": str(exc)}]
        ) from None
    except msgspec.DecodeError:
        return
