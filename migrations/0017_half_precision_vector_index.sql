-- Each shop's HNSW graph now holds its vectors in half precision (halfvec, 2 bytes a
-- dimension): the index is 43% smaller (98 MB -> 56 MB for 50,000 chunks), so more of every
-- shop's graph stays in shared buffers, inserts write half the bytes, and the ef_search 800
-- that real text needs costs less (bench/RESULTS.md, issue 10). Recall against an exact scan
-- is unchanged on the real-text benchmark. The table keeps full precision: exact scans,
-- the reported distances and re-embedding are untouched.
--
-- The query orders by the same expression (retrieval.search.vector_sql), which is what lets
-- the planner use this index.

DROP INDEX app.ro_chunks_embedding;
CREATE INDEX ro_chunks_embedding_half ON app.ro_chunks
  USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 128);
