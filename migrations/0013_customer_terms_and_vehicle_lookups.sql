-- 1. What users type is checked against the shop's own customers without keeping their
--    details anywhere new: keyed HMACs (a per-shop key from the key ring) of normalised
--    name pairs and surnames, streets, phones and emails, written at ingest beside the
--    vault. Without the key a term says nothing; with it, it only answers "is this one of
--    ours, and on which RO".
-- 2. Lookups of vehicles and customers in typed text are audited ('pii.lookup'); a user's own
--    recent lookups are counted by a function, because a TECH may not read the audit log.

CREATE TABLE app.customer_terms (
  tenant_id  uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id      uuid NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('name', 'surname', 'street', 'phone', 'email')),
  term       bytea NOT NULL CHECK (octet_length(term) = 32),
  PRIMARY KEY (tenant_id, term, ro_id),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE
);

CREATE INDEX customer_terms_ro ON app.customer_terms (tenant_id, ro_id);

ALTER TABLE app.customer_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.customer_terms FORCE ROW LEVEL SECURITY;

CREATE POLICY customer_terms_select ON app.customer_terms
  FOR SELECT
  USING (tenant_id = app.current_tenant_id());
CREATE POLICY customer_terms_insert ON app.customer_terms
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY customer_terms_delete ON app.customer_terms
  FOR DELETE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

GRANT SELECT, INSERT, DELETE ON app.customer_terms TO ro_app;

-- The caller's own vehicle lookups since a moment, for the per-user probe budget. It runs
-- as ro_directory, which may read exactly those rows and nothing else of the log.
GRANT SELECT (tenant_id, actor_user_id, action, created_at) ON app.audit_log TO ro_directory;
CREATE POLICY audit_log_directory_pii_lookups ON app.audit_log FOR SELECT TO ro_directory
  USING (tenant_id = app.current_tenant_id()
         AND actor_user_id = app.current_user_id()
         AND action = 'pii.lookup');
GRANT EXECUTE ON FUNCTION app.current_user_id() TO ro_directory;

CREATE FUNCTION app.pii_lookups_since(since timestamptz)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT count(*) FROM app.audit_log AS a
  WHERE a.tenant_id = app.current_tenant_id()
    AND a.actor_user_id = app.current_user_id()
    AND a.action = 'pii.lookup'
    AND a.created_at >= since;
$$;

GRANT CREATE ON SCHEMA app TO ro_directory;
ALTER FUNCTION app.pii_lookups_since(timestamptz) OWNER TO ro_directory;
REVOKE CREATE ON SCHEMA app FROM ro_directory;
REVOKE ALL ON FUNCTION app.pii_lookups_since(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.pii_lookups_since(timestamptz) TO ro_app;
