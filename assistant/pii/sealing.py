"""AES-256-GCM sealing with associated data that binds a ciphertext to its row.

The associated data names the purpose, tenant, row and key reference, so a ciphertext
copied to another RO or shop, or relabelled with another key, fails authentication instead
of decrypting to something.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assistant.pii.keyring import KeyRing, KeyRingError

NONCE_BYTES = 12


class DecryptionError(RuntimeError):
    """A ciphertext did not authenticate for this row and key; no plaintext is available."""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_ref: str
    nonce: bytes
    ciphertext: bytes = field(repr=False)


def _associated_data(purpose: str, tenant_id: UUID, object_id: UUID, key_ref: str) -> bytes:
    return b"|".join(
        (b"ro-assistant/v1", purpose.encode(), tenant_id.bytes, object_id.bytes, key_ref.encode())
    )


def seal(ring: KeyRing, purpose: str, tenant_id: UUID, object_id: UUID, plaintext: bytes) -> Sealed:
    key_ref = ring.active
    nonce = os.urandom(NONCE_BYTES)
    aad = _associated_data(purpose, tenant_id, object_id, key_ref)
    return Sealed(key_ref, nonce, AESGCM(ring.key(key_ref)).encrypt(nonce, plaintext, aad))


def unseal(ring: KeyRing, purpose: str, tenant_id: UUID, object_id: UUID, sealed: Sealed) -> bytes:
    try:
        key = ring.key(sealed.key_ref)
    except KeyRingError as exc:
        raise DecryptionError(str(exc)) from None
    aad = _associated_data(purpose, tenant_id, object_id, sealed.key_ref)
    try:
        return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("ciphertext failed authentication for this row and key") from None
