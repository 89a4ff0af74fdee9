"""The migration runner, on fresh databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from assistant.db import migrate
from assistant.settings import Settings
from tests.conftest import DatabaseUrls
from tests.db.seed import seed_tenant, set_context


def ledger(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT filename FROM public.schema_migrations ORDER BY filename"
            ).fetchall()
        ]


def table_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(body)
    return folder


def test_real_migrations_apply_to_a_fresh_database_once(
    make_database: Callable[[], DatabaseUrls], settings: Settings
) -> None:
    db = make_database()
    printed: list[str] = []
    applied = migrate.migrate(db.owner_url, settings.migrations_dir, echo=printed.append)
    expected = sorted(p.name for p in settings.migrations_dir.glob("*.sql"))
    assert applied == expected
    assert printed == [f"applying {name}" for name in expected]
    assert ledger(db.owner_url) == expected
    again: list[str] = []
    assert migrate.migrate(db.owner_url, settings.migrations_dir, echo=again.append) == []
    assert again == []


def test_an_edited_applied_file_is_refused_by_name(
    make_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    db = make_database()
    folder = write(tmp_path / "m", {"0001_first.sql": "CREATE TABLE public.t1 (id int);"})
    migrate.migrate(db.owner_url, folder, echo=lambda _: None)
    write(
        folder,
        {
            "0001_first.sql": "CREATE TABLE public.t1 (id int, extra int);",
            "0002_second.sql": "CREATE TABLE public.t2 (id int);",
        },
    )
    with pytest.raises(migrate.MigrationError, match=r"0001_first\.sql.*edited") as err:
        migrate.migrate(db.owner_url, folder, echo=lambda _: None)
    assert err.value.filename == "0001_first.sql"
    assert not table_exists(db.owner_url, "public.t2")
    assert ledger(db.owner_url) == ["0001_first.sql"]


def test_a_removed_applied_file_is_refused(
    make_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    db = make_database()
    folder = write(tmp_path / "m", {"0001_first.sql": "SELECT 1;"})
    migrate.migrate(db.owner_url, folder, echo=lambda _: None)
    (folder / "0001_first.sql").unlink()
    with pytest.raises(migrate.MigrationError, match=r"0001_first\.sql.*missing"):
        migrate.migrate(db.owner_url, folder, echo=lambda _: None)


def test_a_broken_file_stops_the_run_and_keeps_earlier_files(
    make_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    db = make_database()
    folder = write(
        tmp_path / "m",
        {
            "0001_good.sql": "CREATE TABLE public.good (id int);",
            "0002_broken.sql": (
                "CREATE TABLE public.half (id int);\nCREATE TABLE public.bad (id nonsense_type);"
            ),
            "0003_later.sql": "CREATE TABLE public.later (id int);",
        },
    )
    printed: list[str] = []
    with pytest.raises(migrate.MigrationError) as err:
        migrate.migrate(db.owner_url, folder, echo=printed.append)
    message = str(err.value)
    assert message.startswith("0002_broken.sql: ")
    assert 'type "nonsense_type" does not exist' in message
    assert "line 2" in message
    assert printed == ["applying 0001_good.sql", "applying 0002_broken.sql"]
    assert ledger(db.owner_url) == ["0001_good.sql"]
    assert table_exists(db.owner_url, "public.good")
    assert not table_exists(db.owner_url, "public.half")
    assert not table_exists(db.owner_url, "public.later")


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"1_init.sql": "SELECT 1;"})
    with pytest.raises(migrate.MigrationError, match="NNNN_lower_snake"):
        migrate.discover(folder)


def test_0021_moves_every_shops_chunks_into_the_shared_partitions_as_they_were(
    make_database: Callable[[], DatabaseUrls], settings: Settings, tmp_path: Path
) -> None:
    """Chunks stored under the per-shop layout (0009-0020) come through 0021 with their ids,
    contents and vectors, in the hash partitions, and their postings still match them."""
    db = make_database()
    before = tmp_path / "up-to-0020"
    before.mkdir()
    for path in sorted(settings.migrations_dir.glob("*.sql")):
        if path.name < "0021":
            (before / path.name).write_bytes(path.read_bytes())
    migrate.migrate(db.owner_url, before, echo=lambda _: None)
    shops = [seed_tenant(db.app_url, f"m21-{i}") for i in range(2)]
    with psycopg.connect(db.app_url) as conn:
        for i, shop in enumerate(shops):
            set_context(conn, shop.tenant_id, "ADMIN")
            conn.execute("DELETE FROM app.ro_chunks")  # the seed's, in the default partition
            if i == 1:  # one shop with a partition of its own, one in the default one
                conn.execute("SELECT app.ensure_chunk_partition(%s)", [shop.tenant_id])
            conn.execute(
                "INSERT INTO app.ro_chunks (tenant_id, ro_id, kind, content, embedding,"
                " embedding_model, token_count) SELECT %s, %s, 'header', 'brake pads ' || n,"
                " array_fill(n::real / 100 + %s, ARRAY[384])::vector, 'm', 3"
                " FROM generate_series(1, 40) n",
                [shop.tenant_id, shop.ro_id, i],
            )
            conn.commit()

    def snapshot() -> dict[object, list[tuple[object, ...]]]:
        out: dict[object, list[tuple[object, ...]]] = {}
        with psycopg.connect(db.app_url) as conn:
            for shop in shops:
                set_context(conn, shop.tenant_id, "ADMIN")
                out[shop.tenant_id] = [
                    *conn.execute(
                        "SELECT chunk_id, content, embedding::text, created_at FROM app.ro_chunks"
                        " ORDER BY chunk_id"
                    ),
                    *conn.execute(
                        "SELECT term, chunk_id, tf, dl FROM app.ro_chunk_terms"
                        " ORDER BY term, chunk_id"
                    ),
                ]
                conn.commit()
        return out

    stored = snapshot()
    assert all(len(rows) > 80 for rows in stored.values())
    assert migrate.migrate(db.owner_url, settings.migrations_dir, echo=lambda _: None)[0] == (
        "0021_chunks_in_shared_hash_partitions.sql"
    )
    assert snapshot() == stored
    with psycopg.connect(db.owner_url) as conn:
        strategy = conn.execute(
            "SELECT partstrat, (SELECT count(*) FROM pg_inherits WHERE inhparent = partrelid)"
            " FROM pg_partitioned_table WHERE partrelid = 'app.ro_chunks'::regclass"
        ).fetchone()
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname ~ '^ro_chunks_[0-9a-f]{32}$'"
        ).fetchone()
    assert strategy == ("h", 64)
    assert leftovers == (0,)
