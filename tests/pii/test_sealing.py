"""Sealed values decrypt only for the row and key they were sealed for."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import DecryptionError, Sealed, seal, unseal

TENANT, OTHER_TENANT = uuid.uuid4(), uuid.uuid4()
RO, OTHER_RO = uuid.uuid4(), uuid.uuid4()
SECRET = b'{"customer_name":"Jordan Blake"}'


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate().with_new_active_key()


def test_round_trip(ring: KeyRing) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    assert SECRET not in sealed.ciphertext
    assert len(sealed.nonce) == 12
    assert unseal(ring, "pii_vault", TENANT, RO, sealed) == SECRET


def test_nonces_never_repeat(ring: KeyRing) -> None:
    nonces = {seal(ring, "pii_vault", TENANT, RO, SECRET).nonce for _ in range(2000)}
    assert len(nonces) == 2000


@pytest.mark.parametrize(
    ("tenant", "ro", "purpose"),
    [(TENANT, OTHER_RO, "pii_vault"), (OTHER_TENANT, RO, "pii_vault"), (TENANT, RO, "document")],
    ids=["other-ro", "other-tenant", "other-purpose"],
)
def test_a_moved_ciphertext_fails(
    ring: KeyRing, tenant: uuid.UUID, ro: uuid.UUID, purpose: str
) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    with pytest.raises(DecryptionError):
        unseal(ring, purpose, tenant, ro, sealed)


@pytest.mark.parametrize("byte", [0, 5, -1])
def test_a_flipped_bit_fails(ring: KeyRing, byte: int) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    flipped = bytearray(sealed.ciphertext)
    flipped[byte] ^= 0x01
    with pytest.raises(DecryptionError):
        unseal(
            ring, "pii_vault", TENANT, RO, dataclasses.replace(sealed, ciphertext=bytes(flipped))
        )


def test_a_flipped_nonce_fails(ring: KeyRing) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    nonce = bytes([sealed.nonce[0] ^ 1]) + sealed.nonce[1:]
    with pytest.raises(DecryptionError):
        unseal(ring, "pii_vault", TENANT, RO, dataclasses.replace(sealed, nonce=nonce))


def test_a_changed_key_ref_fails_even_when_that_key_exists(ring: KeyRing) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    other = next(ref for ref in ring.keys if ref != sealed.key_ref)
    with pytest.raises(DecryptionError):
        unseal(ring, "pii_vault", TENANT, RO, dataclasses.replace(sealed, key_ref=other))


def test_an_unknown_key_ref_fails_cleanly(ring: KeyRing) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    with pytest.raises(DecryptionError, match="not in the key ring"):
        unseal(ring, "pii_vault", TENANT, RO, Sealed("k-gone", sealed.nonce, sealed.ciphertext))


def test_truncated_ciphertext_fails(ring: KeyRing) -> None:
    sealed = seal(ring, "pii_vault", TENANT, RO, SECRET)
    with pytest.raises(DecryptionError):
        unseal(ring, "pii_vault", TENANT, RO, dataclasses.replace(sealed, ciphertext=b"short"))
