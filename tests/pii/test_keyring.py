"""The key ring file: its format, its permissions, and key material never in its repr."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from assistant.pii import blind_index, keyring
from assistant.pii.keyring import KeyRing, KeyRingError


def test_save_and_load_round_trip_with_private_permissions(tmp_path: Path) -> None:
    ring = KeyRing.generate().with_new_active_key()
    path = tmp_path / "ring.json"
    keyring.save(ring, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyring.load(None, path) == ring
    assert len(ring.keys) == 2


def test_a_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    keyring.save(KeyRing.generate(), path)
    path.chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        keyring.load(None, path)


def test_inline_json_wins_over_the_file(tmp_path: Path) -> None:
    ring = KeyRing.generate()
    assert keyring.load(ring.to_json(), tmp_path / "absent.json") == ring


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        "[]",
        '{"active": "a", "keys": {"a": "!!"}}',
        '{"active": "b", "keys": {}, "blind_index_key": ""}',
    ],
)
def test_malformed_key_rings_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(KeyRingError) as err:
        KeyRing.from_json(text)
    assert "!!" not in str(err.value)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="keys generate"):
        keyring.load(None, tmp_path / "nope.json")


def test_repr_never_shows_key_material() -> None:
    ring = KeyRing.generate()
    text = repr(ring)
    assert ring.blind_index_key.hex() not in text
    assert all(str(k) not in text for k in ring.keys.values())


def test_blind_indexes_normalise_and_differ_per_tenant() -> None:
    ring = KeyRing.generate()
    a, b = uuid.uuid4(), uuid.uuid4()
    assert blind_index.vin_index(ring, a, "4t1b11hk5ju123456") == blind_index.vin_index(
        ring, a, "4T1 B11HK5-JU123456"
    )
    assert blind_index.vin_index(ring, a, "4T1B11HK5JU123456") != blind_index.vin_index(
        ring, b, "4T1B11HK5JU123456"
    )
    assert blind_index.plate_index(ring, a, "AZ BXR4471") == blind_index.plate_index(
        ring, a, "bxr-4471"
    )
    assert blind_index.vin_index(ring, a, "") is None
