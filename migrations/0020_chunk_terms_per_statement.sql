-- The posting list (0011) costs ingest less: filled once per statement, and without a
-- foreign key checked for every posting.
--
-- 1. A row trigger ran a PL/pgSQL call and an INSERT for every chunk. Ingest now writes a
--    whole batch of chunks with one statement, and a statement trigger indexes them all
--    from its transition table with one INSERT: the same postings, row for row.
-- 2. The foreign key to ro_chunks checked each posting (about 50 a chunk) against the
--    partitioned table, locking the chunk each time: four tenths of the database's work per
--    ingested RO. It was there for ON DELETE CASCADE; a row trigger on ro_chunks now deletes
--    a chunk's postings instead (cascades from repair_orders and ro_lines delete from the
--    partitions, where only row triggers fire, and the parent's are cloned to every one).
--
-- Only these two functions write the list now: ro_app loses INSERT on it. They run as the
-- owner, which RLS still holds to the transaction's shop (forced), so a posting is only
-- ever written for a chunk of the current shop, as it is inserted.

ALTER TABLE app.ro_chunk_terms DROP CONSTRAINT ro_chunk_terms_tenant_id_chunk_id_fkey;
DROP TRIGGER ro_chunks_terms ON app.ro_chunks;
DROP FUNCTION app.index_chunk_terms();

CREATE FUNCTION app.index_new_chunk_terms()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO app.ro_chunk_terms (tenant_id, term, chunk_id, tf, dl)
  SELECT n.tenant_id, t.lexeme, n.chunk_id,
         least(coalesce(array_length(t.positions, 1), 1), 32767), n.token_count
  FROM new_chunks AS n, unnest(n.fts_english) AS t;
  RETURN NULL;
END;
$$;

CREATE FUNCTION app.drop_chunk_terms()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM app.ro_chunk_terms WHERE tenant_id = OLD.tenant_id AND chunk_id = OLD.chunk_id;
  RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION app.index_new_chunk_terms(), app.drop_chunk_terms() FROM PUBLIC;

CREATE TRIGGER ro_chunks_terms AFTER INSERT ON app.ro_chunks
  REFERENCING NEW TABLE AS new_chunks
  FOR EACH STATEMENT EXECUTE FUNCTION app.index_new_chunk_terms();
CREATE TRIGGER ro_chunks_drop_terms AFTER DELETE ON app.ro_chunks
  FOR EACH ROW EXECUTE FUNCTION app.drop_chunk_terms();

CREATE POLICY ro_chunk_terms_delete ON app.ro_chunk_terms
  FOR DELETE
  USING (tenant_id = app.current_tenant_id());
REVOKE INSERT ON app.ro_chunk_terms FROM ro_app;
