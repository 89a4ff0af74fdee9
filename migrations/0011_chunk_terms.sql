-- Full-text ranking from a posting list instead of the chunks' own tsvectors.
--
-- Ranking an OR'ed question against a big shop read and scored every matching chunk row
-- (wide rows: text, two tsvectors, an embedding): 30-60 ms on a 20,000-chunk shop. Each
-- chunk's English lexemes are kept here, narrow and indexed by (shop, term), so a question
-- reads only the postings of its own terms and ranks them with BM25 in a few
-- milliseconds. A trigger fills it from ro_chunks; deleting a chunk deletes its postings.

CREATE TABLE app.ro_chunk_terms (
  tenant_id  uuid NOT NULL,
  term       text NOT NULL,
  chunk_id   uuid NOT NULL,
  tf         smallint NOT NULL CHECK (tf > 0),
  dl         int NOT NULL CHECK (dl >= 0),
  PRIMARY KEY (tenant_id, term, chunk_id) INCLUDE (tf, dl),
  FOREIGN KEY (tenant_id, chunk_id) REFERENCES app.ro_chunks(tenant_id, chunk_id)
    ON DELETE CASCADE
);

-- Deleting a chunk finds its postings by this index, not by a scan of the shop's.
CREATE INDEX ro_chunk_terms_chunk ON app.ro_chunk_terms (tenant_id, chunk_id);

ALTER TABLE app.ro_chunk_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunk_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_chunk_terms_select ON app.ro_chunk_terms
  FOR SELECT
  USING (tenant_id = app.current_tenant_id());
CREATE POLICY ro_chunk_terms_insert ON app.ro_chunk_terms
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT ON app.ro_chunk_terms TO ro_app;

-- Runs as the inserting role, under its RLS context: a shop only ever writes its own.
CREATE FUNCTION app.index_chunk_terms()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO app.ro_chunk_terms (tenant_id, term, chunk_id, tf, dl)
  SELECT NEW.tenant_id, t.lexeme, NEW.chunk_id,
         least(coalesce(array_length(t.positions, 1), 1), 32767), NEW.token_count
  FROM unnest(NEW.fts_english) AS t;
  RETURN NULL;
END;
$$;

CREATE TRIGGER ro_chunks_terms AFTER INSERT ON app.ro_chunks
  FOR EACH ROW EXECUTE FUNCTION app.index_chunk_terms();

-- Chunks already stored: the owner reads them with row security lifted for this
-- statement only (it is forced again below, in the same transaction).
ALTER TABLE app.ro_chunks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunk_terms NO FORCE ROW LEVEL SECURITY;
INSERT INTO app.ro_chunk_terms (tenant_id, term, chunk_id, tf, dl)
SELECT c.tenant_id, t.lexeme, c.chunk_id,
       least(coalesce(array_length(t.positions, 1), 1), 32767), c.token_count
FROM app.ro_chunks c, unnest(c.fts_english) AS t;
ALTER TABLE app.ro_chunks FORCE ROW LEVEL SECURITY;
ALTER TABLE app.ro_chunk_terms FORCE ROW LEVEL SECURITY;
ANALYZE app.ro_chunk_terms;
