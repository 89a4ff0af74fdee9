-- The customer-term index answers "is this one of ours, on which RO" and nothing more:
-- ro_app no longer reads the keyed hashes themselves (with the key ring, a table of them
-- could be brute-forced offline, name by name and number by number, leaving no trace).
-- It asks through two functions that take a bounded list of candidates; ingest still
-- writes and deletes rows as ADMIN, which needs only the key columns.

REVOKE SELECT ON app.customer_terms FROM ro_app;
GRANT SELECT (tenant_id, ro_id) ON app.customer_terms TO ro_app;

-- Which of these candidate terms belong to the shop's customers, each with its latest RO.
CREATE FUNCTION app.customer_terms_match(p_terms bytea[])
RETURNS TABLE (term bytea, kind text, ro_number text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF app.current_tenant_id() IS NULL THEN
    RAISE EXCEPTION 'no shop in this transaction''s context' USING ERRCODE = '42501';
  END IF;
  IF coalesce(array_length(p_terms, 1), 0) > 5000 THEN
    RAISE EXCEPTION 'at most 5000 candidate terms at once' USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
    SELECT DISTINCT ON (ct.term) ct.term, ct.kind, r.ro_number
    FROM app.customer_terms AS ct
    JOIN app.repair_orders AS r ON r.tenant_id = ct.tenant_id AND r.ro_id = ct.ro_id
    WHERE ct.tenant_id = app.current_tenant_id() AND ct.term = ANY (p_terms)
    ORDER BY ct.term, r.ro_open_date DESC NULLS LAST, r.ro_number DESC;
END;
$$;

-- Every RO of the customer of one RO ("what did we do for this customer"), by the terms of
-- the given kinds the two share.
CREATE FUNCTION app.customer_terms_same_customer(p_ro_number text, p_kinds text[])
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT DISTINCT same.ro_id
  FROM app.customer_terms AS ct
  JOIN app.repair_orders AS r ON r.tenant_id = ct.tenant_id AND r.ro_id = ct.ro_id
  JOIN app.customer_terms AS same ON same.tenant_id = ct.tenant_id AND same.term = ct.term
  WHERE ct.tenant_id = app.current_tenant_id() AND r.ro_number = p_ro_number
    AND ct.kind = ANY (p_kinds);
$$;

REVOKE ALL ON FUNCTION app.customer_terms_match(bytea[]),
  app.customer_terms_same_customer(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.customer_terms_match(bytea[]),
  app.customer_terms_same_customer(text, text[]) TO ro_app;
