-- 1. A narrow, audited way across tenants for the few jobs that need one (resolving a
--    shop's slug, listing shops for the operator, finding a login by email). RLS stays
--    forced on tenants and users; a NOLOGIN role ro_directory gets SELECT policies that
--    apply to it alone, and owns the SECURITY DEFINER functions below, which are the only
--    way to act as it. The application role is never a member.
-- 2. Source documents keep the original file, which holds PII, only as AES-256-GCM
--    ciphertext under the key ring.
-- 3. A keyed fingerprint of each RO's canonical record, so re-ingesting an identical RO
--    changes nothing.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ro_directory') THEN
    CREATE ROLE ro_directory NOLOGIN NOINHERIT;
  END IF;
END
$$;
-- The owner must be able to hand the functions to ro_directory.
DO $$
BEGIN
  EXECUTE format('GRANT ro_directory TO %I', current_user);
END
$$;

GRANT USAGE ON SCHEMA app TO ro_directory;
GRANT SELECT (tenant_id, slug, name, is_active, created_at) ON app.tenants TO ro_directory;
GRANT SELECT (user_id, tenant_id, email, pass_hash, role, is_active) ON app.users TO ro_directory;
GRANT SELECT (tenant_id, seq, hash) ON app.audit_chain_heads TO ro_directory;

CREATE POLICY tenants_directory_read ON app.tenants FOR SELECT TO ro_directory USING (true);
CREATE POLICY users_directory_read ON app.users FOR SELECT TO ro_directory USING (true);
-- The chain head is read for the caller's own tenant only.
CREATE POLICY audit_chain_heads_directory_read ON app.audit_chain_heads FOR SELECT
  TO ro_directory USING (tenant_id = app.current_tenant_id());
GRANT EXECUTE ON FUNCTION app.current_tenant_id(), app.current_role(),
  app.setting_uuid(text) TO ro_directory;

CREATE FUNCTION app.directory_tenants()
RETURNS TABLE (tenant_id uuid, slug text, name text, is_active boolean, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT t.tenant_id, t.slug, t.name, t.is_active, t.created_at
  FROM app.tenants AS t ORDER BY t.slug;
$$;

CREATE FUNCTION app.directory_tenant(lookup_slug text)
RETURNS TABLE (tenant_id uuid, slug text, name text, is_active boolean, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT t.tenant_id, t.slug, t.name, t.is_active, t.created_at
  FROM app.tenants AS t WHERE t.slug = lookup_slug;
$$;

-- Every account with this email, in every shop, for the login step (which verifies the
-- password hash in the service and then acts inside the one shop it resolved to).
CREATE FUNCTION app.directory_logins(lookup_email text)
RETURNS TABLE (user_id uuid, tenant_id uuid, slug text, pass_hash text, role app.user_role,
               user_active boolean, tenant_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT u.user_id, u.tenant_id, t.slug, u.pass_hash, u.role, u.is_active, t.is_active
  FROM app.users AS u JOIN app.tenants AS t ON t.tenant_id = u.tenant_id
  WHERE u.email = lower(lookup_email);
$$;

-- The head of the caller's own audit chain (ADMIN only), so a verifier can tell that the
-- newest rows were not removed.
CREATE FUNCTION app.audit_chain_head()
RETURNS TABLE (seq bigint, hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT h.seq, h.hash FROM app.audit_chain_heads AS h
  WHERE h.tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN';
$$;

-- A new owner needs CREATE on the schema at the moment of the change, and only then.
GRANT CREATE ON SCHEMA app TO ro_directory;
ALTER FUNCTION app.directory_tenants() OWNER TO ro_directory;
ALTER FUNCTION app.directory_tenant(text) OWNER TO ro_directory;
ALTER FUNCTION app.directory_logins(text) OWNER TO ro_directory;
ALTER FUNCTION app.audit_chain_head() OWNER TO ro_directory;
REVOKE CREATE ON SCHEMA app FROM ro_directory;
REVOKE ALL ON FUNCTION app.directory_tenants(), app.directory_tenant(text),
  app.directory_logins(text), app.audit_chain_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.directory_tenants(), app.directory_tenant(text),
  app.directory_logins(text), app.audit_chain_head() TO ro_app;

ALTER TABLE app.documents
  ADD COLUMN content_key_ref    text CHECK (content_key_ref ~ '^[A-Za-z0-9._-]{1,64}$'),
  ADD COLUMN content_nonce      bytea CHECK (octet_length(content_nonce) = 12),
  ADD COLUMN content_ciphertext bytea,
  ADD COLUMN size_bytes         bigint CHECK (size_bytes >= 0),
  ADD CONSTRAINT documents_content_sealed CHECK (
    (content_key_ref IS NULL) = (content_nonce IS NULL)
    AND (content_nonce IS NULL) = (content_ciphertext IS NULL)),
  ADD CONSTRAINT documents_content_nonce_unique UNIQUE (content_key_ref, content_nonce);

CREATE INDEX documents_key_ref ON app.documents (tenant_id, content_key_ref);

ALTER TABLE app.repair_orders
  ADD COLUMN fingerprint bytea CHECK (octet_length(fingerprint) = 32);
