-- Chunks move from one LIST partition per shop (0009) to 64 HASH partitions that shops
-- share. Measured at 10,000 shops (bench/RESULTS.md, "Many shops"): a partition per shop
-- made creating a shop take an exclusive lock on app.ro_chunks for up to 180 ms, grew the
-- catalogue to 1.26 GB, left up to 435 MB in each pooled connection's relation cache, and
-- let any schema change on the table run the server's lock table out of shared memory.
--
-- Small shops (under 1,000 chunks, retrieval.search.EXACT_BELOW_ROWS) are searched
-- exactly through the (tenant_id, ro_id) index, as before; they never used their graph.
-- A shop past that size gets an HNSW graph of its own: a partial index on its hash
-- partition, WHERE tenant_id = the shop, built CONCURRENTLY by `ro-assistant db
-- index-shops` (a background job run as the owner), so no search or write waits for it.
-- Until it exists the shop is searched exactly: correct, a few milliseconds slower.
-- Creating a shop does no DDL at all.
--
-- Chunks are copied with their ids, so the posting list (0011, 0020) stays valid as it is.

CREATE TABLE app.ro_chunks_shared (
  chunk_id         uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id            uuid NOT NULL,
  line_id          uuid,
  kind             text NOT NULL CHECK (kind IN ('header', 'line')),
  seq              int NOT NULL DEFAULT 0 CHECK (seq >= 0),
  content          text NOT NULL,
  fts_english      tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  fts_simple       tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
  embedding        vector(384) NOT NULL,
  embedding_model  text NOT NULL,
  token_count      int NOT NULL CHECK (token_count >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, chunk_id),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, line_id) REFERENCES app.ro_lines(tenant_id, line_id) ON DELETE CASCADE
) PARTITION BY HASH (tenant_id);

DO $$
BEGIN
  FOR i IN 0..63 LOOP
    EXECUTE format('CREATE TABLE app.%I PARTITION OF app.ro_chunks_shared'
                   ' FOR VALUES WITH (MODULUS 64, REMAINDER %s)', 'ro_chunks_h' || lpad(i::text, 2, '0'), i);
  END LOOP;
END
$$;

-- The owner reads every shop's chunks with row security lifted for this statement only
-- (forced again below, in the same transaction).
ALTER TABLE app.ro_chunks NO FORCE ROW LEVEL SECURITY;
INSERT INTO app.ro_chunks_shared (chunk_id, tenant_id, ro_id, line_id, kind, seq, content,
                                  embedding, embedding_model, token_count, created_at)
SELECT chunk_id, tenant_id, ro_id, line_id, kind, seq, content,
       embedding, embedding_model, token_count, created_at
FROM app.ro_chunks;

DROP TABLE app.ro_chunks;
ALTER TABLE app.ro_chunks_shared RENAME TO ro_chunks;
ALTER TABLE app.ro_chunks RENAME CONSTRAINT ro_chunks_shared_pkey TO ro_chunks_pkey;

-- No HNSW index on the parent: graphs are per big shop (above).
CREATE INDEX ro_chunks_ro ON app.ro_chunks (tenant_id, ro_id);
CREATE INDEX ro_chunks_fts_english ON app.ro_chunks USING gin (fts_english);
CREATE INDEX ro_chunks_fts_simple ON app.ro_chunks USING gin (fts_simple);

ALTER TABLE app.ro_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_chunks_tenant_isolation ON app.ro_chunks
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_chunks TO ro_app;

DO $$
BEGIN
  FOR i IN 0..63 LOOP
    PERFORM app.secure_chunk_partition(('app.ro_chunks_h' || lpad(i::text, 2, '0'))::regclass);
  END LOOP;
END
$$;

-- The posting list's triggers (0020), on the new table.
CREATE TRIGGER ro_chunks_terms AFTER INSERT ON app.ro_chunks
  REFERENCING NEW TABLE AS new_chunks
  FOR EACH STATEMENT EXECUTE FUNCTION app.index_new_chunk_terms();
CREATE TRIGGER ro_chunks_drop_terms AFTER DELETE ON app.ro_chunks
  FOR EACH ROW EXECUTE FUNCTION app.drop_chunk_terms();

-- Kept for callers of 0009's interface; a shop has no partition of its own to create.
CREATE OR REPLACE FUNCTION app.ensure_chunk_partition(shop uuid)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF shop IS NULL OR shop IS DISTINCT FROM app.current_tenant_id() THEN
    RAISE EXCEPTION 'a shop creates only its own chunk partition' USING ERRCODE = '42501';
  END IF;
  RETURN 'ro_chunks';
END;
$$;

ANALYZE app.ro_chunks;
