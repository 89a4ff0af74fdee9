-- Foundation: the app schema, the caller-context functions RLS reads, tenants and users.
-- The runner wraps each file in one transaction; files hold no BEGIN/COMMIT.

CREATE SCHEMA IF NOT EXISTS app;
CREATE EXTENSION IF NOT EXISTS vector;

REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO ro_app;

CREATE TYPE app.user_role AS ENUM ('TECH', 'ADMIN', 'PII_APPROVED');

-- The request context lives in transaction-local settings (set_config(..., true)).
-- A missing, empty or malformed value reads as NULL, so every policy fails closed
-- (no rows, no writes) instead of raising a cast error.
CREATE FUNCTION app.setting_uuid(setting_name text)
RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
           THEN v::uuid
         END
  FROM (SELECT current_setting(setting_name, true) AS v) AS s;
$$;

CREATE FUNCTION app.current_tenant_id()
RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT app.setting_uuid('app.tenant_id');
$$;

CREATE FUNCTION app.current_user_id()
RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT app.setting_uuid('app.user_id');
$$;

CREATE FUNCTION app.current_role()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v IN ('TECH', 'ADMIN', 'PII_APPROVED') THEN v END
  FROM (SELECT current_setting('app.role', true) AS v) AS s;
$$;

REVOKE ALL ON FUNCTION app.setting_uuid(text), app.current_tenant_id(),
  app.current_user_id(), app.current_role() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.setting_uuid(text), app.current_tenant_id(),
  app.current_user_id(), app.current_role() TO ro_app;

CREATE TABLE app.tenants (
  tenant_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE app.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_tenant_isolation ON app.tenants
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE ON app.tenants TO ro_app;

CREATE TABLE app.users (
  user_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  email       text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
  pass_hash   text NOT NULL,
  role        app.user_role NOT NULL DEFAULT 'TECH',
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email),
  UNIQUE (tenant_id, user_id)
);

ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant_isolation ON app.users
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE ON app.users TO ro_app;
