"""Short-lived HS256 bearer tokens (PyJWT). They name the user and shop only: role and
status are re-read from the user record on every request, so a change takes effect at once."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import jwt

from assistant.errors import Unauthorized
from assistant.pii.keyring import KeyRingError
from assistant.settings import Settings

ALGORITHM = "HS256"
ISSUER = "ro-assistant"
MIN_SECRET_CHARS = 32


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: UUID
    tenant_id: UUID


def issue(secret: str, user_id: UUID, tenant_id: UUID, ttl_s: int) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "sub": str(user_id),
            "tid": str(tenant_id),
            "iss": ISSUER,
            "iat": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
        },
        secret,
        algorithm=ALGORITHM,
    )


def decode(secret: str, token: str) -> Claims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "tid", "exp", "iat", "iss"]},
        )
        return Claims(UUID(str(claims["sub"])), UUID(str(claims["tid"])))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; log in again") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("the token is not valid") from None


def load_secret(settings: Settings) -> str:
    """From RO_ASSISTANT_TOKEN_SECRET, else a 0600 file in the data folder made on first use,
    so tokens survive a restart of the embedded setup without anyone choosing a secret."""
    if settings.token_secret:
        if len(settings.token_secret) < MIN_SECRET_CHARS:
            raise KeyRingError(f"RO_ASSISTANT_TOKEN_SECRET needs {MIN_SECRET_CHARS}+ characters")
        return settings.token_secret
    path: Path = settings.token_secret_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.replace(path)
    return path.read_text().strip()
