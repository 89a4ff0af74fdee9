"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024
_hasher = PasswordHasher()


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"passwords have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"passwords have at most {MAX_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(pass_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(pass_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verifying against this when no user matches keeps a failed login as slow as a real one.
DUMMY_HASH = _hasher.hash("not-a-real-password-0000")
