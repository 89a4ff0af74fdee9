"""The key ring: AES-256 data keys by reference, one active, plus the blind-index key.

Keys live in an environment variable or a file outside the database, never in it and never
in logs. Old data keys stay in the ring after a rotation until `keys rotate` reports that
no row uses them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32


class KeyRingError(RuntimeError):
    """The key ring is missing, unreadable, or lacks a key that data refers to."""


@dataclass(frozen=True, slots=True)
class KeyRing:
    active: str
    keys: dict[str, bytes] = field(repr=False)
    blind_index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyRingError(f"the active key {self.active!r} is not in the key ring")
        for ref, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"key {ref!r} is not {KEY_BYTES} bytes")
        if len(self.blind_index_key) != KEY_BYTES:
            raise KeyRingError(f"the blind-index key is not {KEY_BYTES} bytes")

    def key(self, key_ref: str) -> bytes:
        try:
            return self.keys[key_ref]
        except KeyError:
            raise KeyRingError(f"key {key_ref!r} is not in the key ring") from None

    def tenant_key(self, tenant_id: UUID, purpose: str) -> bytes:
        """A per-tenant subkey, so the same VIN in two shops gives unrelated values."""
        return _derive(self.blind_index_key, tenant_id, purpose)

    def tenant_data_subkey(self, key_ref: str, tenant_id: UUID, purpose: str) -> bytes:
        """A per-tenant subkey of a named data key. Unlike the blind-index key, data keys
        rotate: whatever is signed with one names its `key_ref` and stays checkable for as
        long as that key is in the ring."""
        return _derive(self.key(key_ref), tenant_id, purpose)

    def with_new_active_key(self) -> KeyRing:
        ref = new_key_ref()
        return KeyRing(
            active=ref,
            keys={**self.keys, ref: secrets.token_bytes(KEY_BYTES)},
            blind_index_key=self.blind_index_key,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keys": {ref: _b64(k) for ref, k in self.keys.items()},
                "blind_index_key": _b64(self.blind_index_key),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            raw = json.loads(text)
            return cls(
                active=str(raw["active"]),
                keys={
                    str(ref): base64.b64decode(k, validate=True) for ref, k in raw["keys"].items()
                },
                blind_index_key=base64.b64decode(raw["blind_index_key"], validate=True),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyRingError(f"the key ring is malformed ({type(exc).__name__})") from None

    @classmethod
    def generate(cls) -> KeyRing:
        ref = new_key_ref()
        return cls(
            active=ref,
            keys={ref: secrets.token_bytes(KEY_BYTES)},
            blind_index_key=secrets.token_bytes(KEY_BYTES),
        )


def _derive(material: bytes, tenant_id: UUID, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"ro-assistant/{purpose}/".encode() + tenant_id.bytes,
    ).derive(material)


def new_key_ref() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def load(inline: str | None, path: Path) -> KeyRing:
    """From `RO_ASSISTANT_KEYRING` (the JSON itself) if set, else from the key file."""
    if inline:
        return KeyRing.from_json(inline)
    if not path.exists():
        raise KeyRingError(
            f"no key ring: set RO_ASSISTANT_KEYRING, or create {path} with "
            "`ro-assistant keys generate`"
        )
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyRingError(f"{path} is readable by other users; chmod 600 it")
    return KeyRing.from_json(path.read_text())


def save(ring: KeyRing, path: Path) -> None:
    """Written atomically with mode 0600, so a crash never leaves half a key ring."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
