"""Short-lived HS256 bearer tokens (PyJWT). They name the user and shop only: role and
status are re-read from the user record on every request, so a change takes effect at once."""

from __future__ import annotations

import os
import secrets
import stat
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
# The web app keeps the same token in this HttpOnly cookie; API clients send it as a header.
SESSION_COOKIE = "ro_session"


class TokenSecretError(KeyRingError):
    """The token secret is too short or readable by others: the service does not start,
    since anyone holding the secret can sign a token for any user of any shop."""


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: UUID
    tenant_id: UUID
    issued_at: int = 0  # epoch seconds: the web session renews a token half-way through


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
        return Claims(UUID(str(claims["sub"])), UUID(str(claims["tid"])), int(claims["iat"]))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; log in again") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("the token is not valid") from None


def load_secret(settings: Settings) -> str:
    """From RO_ASSISTANT_TOKEN_SECRET, else a 0600 file in the data folder made on first use,
    so tokens survive a restart of the embedded setup without anyone choosing a secret.
    A file that others may read, or that is too short to resist guessing, is refused."""
    if settings.token_secret:
        if len(settings.token_secret) < MIN_SECRET_CHARS:
            raise TokenSecretError(
                f"RO_ASSISTANT_TOKEN_SECRET needs {MIN_SECRET_CHARS}+ characters"
            )
        return settings.token_secret
    path: Path = settings.token_secret_path
    if not path.exists():
        _generate(path)
    with path.open("rb") as fh:
        mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
        raw = fh.read().strip()
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenSecretError(f"token secret file {path} must be mode 600 (is {mode:o})")
    if len(raw) < MIN_SECRET_CHARS:
        raise TokenSecretError(
            f"token secret file {path} must hold at least {MIN_SECRET_CHARS} bytes (has {len(raw)})"
        )
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise TokenSecretError(f"token secret file {path} must be text (UTF-8)") from None


def _generate(path: Path) -> None:
    """Written whole and 0600 from the start, so the secret is never briefly readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(secrets.token_urlsafe(48))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
