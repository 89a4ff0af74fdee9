-- Retrieval chunks: PII-free text of an RO, its embedding and two full-text vectors
-- ('english' for prose, 'simple' so codes like P0420, part numbers and RO numbers match
-- exactly). Chunks can always be rebuilt from the RO tables.

CREATE TABLE app.ro_chunks (
  chunk_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id            uuid NOT NULL,
  line_id          uuid,
  kind             text NOT NULL CHECK (kind IN ('header', 'line', 'parts')),
  content          text NOT NULL,
  fts_english      tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  fts_simple       tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
  embedding        vector(384) NOT NULL,
  embedding_model  text NOT NULL,
  token_count      int NOT NULL CHECK (token_count >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, line_id) REFERENCES app.ro_lines(tenant_id, line_id) ON DELETE CASCADE
);

CREATE INDEX ro_chunks_ro ON app.ro_chunks (tenant_id, ro_id);
CREATE INDEX ro_chunks_embedding ON app.ro_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX ro_chunks_fts_english ON app.ro_chunks USING gin (fts_english);
CREATE INDEX ro_chunks_fts_simple ON app.ro_chunks USING gin (fts_simple);

ALTER TABLE app.ro_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_chunks_tenant_isolation ON app.ro_chunks
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_chunks TO ro_app;
