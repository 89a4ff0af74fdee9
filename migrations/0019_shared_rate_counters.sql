-- Rate limits and login throttles that every worker and replica shares (issue 12): with
-- several processes, counts kept in each one's memory let a client or a password guesser
-- through N times the limit. One row per bucket and window, counted atomically by one
-- statement; the window starts at the bucket's first hit (as Litestar's limiter did), and a
-- refused hit is not counted. Buckets are keyed hashes made by the service (never an email,
-- address or user id in clear). Unlogged: losing the counts in a crash only resets limits.
-- The application role reaches the table only through the two functions below.

CREATE UNLOGGED TABLE app.rate_counters (
  bucket     text PRIMARY KEY CHECK (length(bucket) BETWEEN 1 AND 200),
  hits       int NOT NULL CHECK (hits >= 0),
  resets_at  timestamptz NOT NULL
);
CREATE INDEX rate_counters_resets_at ON app.rate_counters (resets_at);
REVOKE ALL ON app.rate_counters FROM PUBLIC;

-- One hit on `bucket`, allowed while fewer than `lim` hits landed in its current window of
-- `window_s` seconds. Returns whether it was allowed, the hits left and the seconds until the
-- window resets.
CREATE FUNCTION app.rate_hit(bucket text, lim int, window_s int,
                             OUT allowed boolean, OUT remaining int, OUT reset_s int)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n int;
  resets timestamptz;
BEGIN
  IF lim < 1 OR window_s < 1 THEN
    RAISE EXCEPTION 'limit and window must be positive' USING ERRCODE = '22023';
  END IF;
  INSERT INTO app.rate_counters AS r (bucket, hits, resets_at)
  VALUES (rate_hit.bucket, 1, clock_timestamp() + make_interval(secs => window_s))
  ON CONFLICT ON CONSTRAINT rate_counters_pkey DO UPDATE
    SET hits = CASE WHEN r.resets_at <= clock_timestamp() THEN 1 ELSE r.hits + 1 END,
        resets_at = CASE WHEN r.resets_at <= clock_timestamp()
                         THEN clock_timestamp() + make_interval(secs => window_s)
                         ELSE r.resets_at END
    WHERE r.resets_at <= clock_timestamp() OR r.hits < lim
  RETURNING r.hits, r.resets_at INTO n, resets;
  allowed := n IS NOT NULL;
  IF NOT allowed THEN
    SELECT r.hits, r.resets_at INTO n, resets FROM app.rate_counters r
     WHERE r.bucket = rate_hit.bucket;
  END IF;
  remaining := greatest(lim - n, 0);
  reset_s := greatest(ceil(extract(epoch FROM resets - clock_timestamp()))::int, 1);
  -- Expired buckets go now and then, so the table stays the size of the active clients.
  IF random() < 0.001 THEN
    DELETE FROM app.rate_counters r WHERE r.resets_at < clock_timestamp() - interval '1 hour';
  END IF;
END;
$$;

-- Forget a bucket (a login that proved its password clears its failures).
CREATE FUNCTION app.rate_clear(bucket text) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  DELETE FROM app.rate_counters r WHERE r.bucket = rate_clear.bucket;
$$;

REVOKE ALL ON FUNCTION app.rate_hit(text, int, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.rate_clear(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.rate_hit(text, int, int) TO ro_app;
GRANT EXECUTE ON FUNCTION app.rate_clear(text) TO ro_app;
