-- ro_chunks re-created partitioned by tenant (LIST, one partition per shop), so each
-- shop's vectors get their own HNSW graph: a tenant filter then costs nothing and recall
-- does not depend on how big the shop is among all others (design.md, Retrieval).
-- Chunks are derived data (rebuilt by `ro-assistant reindex`), so the table is replaced.

DROP TABLE app.ro_chunks;

CREATE TABLE app.ro_chunks (
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
) PARTITION BY LIST (tenant_id);

-- Defined on the parent, so every partition gets its own copy.
CREATE INDEX ro_chunks_ro ON app.ro_chunks (tenant_id, ro_id);
CREATE INDEX ro_chunks_embedding ON app.ro_chunks
  USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128);
CREATE INDEX ro_chunks_fts_english ON app.ro_chunks USING gin (fts_english);
CREATE INDEX ro_chunks_fts_simple ON app.ro_chunks USING gin (fts_simple);

ALTER TABLE app.ro_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_chunks_tenant_isolation ON app.ro_chunks
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_chunks TO ro_app;

-- Partitions are reached through the parent only (the application role has no grant on
-- them); each still carries RLS forced and the tenant policy, like every tenant table.
CREATE FUNCTION app.secure_chunk_partition(partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', partition);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', partition);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = app.current_tenant_id())'
                 ' WITH CHECK (tenant_id = app.current_tenant_id())', partition);
END;
$$;
REVOKE ALL ON FUNCTION app.secure_chunk_partition(regclass) FROM PUBLIC;

-- Shops without a partition of their own (none, normally) still have somewhere to go.
CREATE TABLE app.ro_chunks_default PARTITION OF app.ro_chunks DEFAULT;
SELECT app.secure_chunk_partition('app.ro_chunks_default');

-- Called when a shop is created (and before its chunks are written): idempotent, and the
-- only DDL the application can cause, through this owner-run function.
CREATE FUNCTION app.ensure_chunk_partition(shop uuid)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  part_name text := 'ro_chunks_' || replace(shop::text, '-', '');
BEGIN
  IF shop IS NULL OR shop IS DISTINCT FROM app.current_tenant_id() THEN
    RAISE EXCEPTION 'a shop creates only its own chunk partition' USING ERRCODE = '42501';
  END IF;
  IF to_regclass('app.' || part_name) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('app.ro_chunks/partition', 0));
    IF to_regclass('app.' || part_name) IS NULL THEN
      EXECUTE format('CREATE TABLE app.%I PARTITION OF app.ro_chunks FOR VALUES IN (%L)',
                     part_name, shop);
      PERFORM app.secure_chunk_partition(('app.' || part_name)::regclass);
    END IF;
  END IF;
  RETURN part_name;
END;
$$;
REVOKE ALL ON FUNCTION app.ensure_chunk_partition(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.ensure_chunk_partition(uuid) TO ro_app;

-- Shops that exist already get theirs now (as the migration's owner, for each shop).
DO $$
DECLARE
  shop uuid;
BEGIN
  FOR shop IN SELECT tenant_id FROM app.directory_tenants() LOOP
    PERFORM set_config('app.tenant_id', shop::text, true);
    PERFORM app.ensure_chunk_partition(shop);
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
END
$$;
