"""Keyed blind indexes of VINs and plates: equal vehicles group together, values stay hidden."""

from __future__ import annotations

import hashlib
import hmac
import re
from uuid import UUID

from assistant.pii.keyring import KeyRing

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# A leading two-letter US state code is how many exports prefix plates ("AZ BXR4471").
_STATE_PREFIX = re.compile(r"^([A-Z]{2})[\s\-.]+(?=[A-Z0-9]*\d)")


def normalize_vin(vin: str) -> str:
    return _NOT_ALNUM.sub("", vin.upper())


def normalize_plate(plate: str) -> str:
    """Plate characters only: a state prefix, spaces and dashes are not part of the plate."""
    upper = plate.upper().strip()
    return _NOT_ALNUM.sub("", _STATE_PREFIX.sub("", upper))


def _index(ring: KeyRing, tenant_id: UUID, purpose: str, value: str) -> bytes | None:
    if not value:
        return None
    key = ring.tenant_key(tenant_id, purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).digest()


def vin_index(ring: KeyRing, tenant_id: UUID, vin: str | None) -> bytes | None:
    return _index(ring, tenant_id, "vin", normalize_vin(vin or ""))


def plate_index(ring: KeyRing, tenant_id: UUID, plate: str | None) -> bytes | None:
    return _index(ring, tenant_id, "plate", normalize_plate(plate or ""))


def fingerprint(ring: KeyRing, tenant_id: UUID, canonical: bytes) -> bytes:
    """Keyed, so the fingerprint of a record holding PII cannot be confirmed by guessing."""
    return hmac.new(ring.tenant_key(tenant_id, "record"), canonical, hashlib.sha256).digest()
