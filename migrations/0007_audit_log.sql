-- The audit log: append-only, readable by ADMIN only, one hash chain per tenant.
-- The chain is computed inside the database by a SECURITY DEFINER trigger, because a
-- TECH's refused attempt must be chained too while a TECH cannot read the log. The
-- chain head lives in app.audit_chain_heads, which the application role cannot touch.

CREATE TABLE app.audit_log (
  audit_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES app.tenants(tenant_id),
  seq            bigint NOT NULL,
  actor_user_id  uuid,
  actor_role     text,
  action         text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  object_type    text,
  object_id      text,
  pii_fields     text[] NOT NULL DEFAULT '{}',
  purpose        text,
  outcome        text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
  request_id     text,
  ip             inet,
  user_agent     text CHECK (length(user_agent) <= 512),
  created_at     timestamptz NOT NULL DEFAULT now(),
  prev_hash      bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash           bytea NOT NULL CHECK (octet_length(hash) = 32),
  UNIQUE (tenant_id, seq)
);

CREATE INDEX audit_log_actor ON app.audit_log (tenant_id, actor_user_id, created_at);
CREATE INDEX audit_log_object ON app.audit_log (tenant_id, object_type, object_id);
CREATE INDEX audit_log_created ON app.audit_log (tenant_id, created_at);

CREATE TABLE app.audit_chain_heads (
  tenant_id  uuid PRIMARY KEY REFERENCES app.tenants(tenant_id),
  seq        bigint NOT NULL,
  hash       bytea NOT NULL CHECK (octet_length(hash) = 32)
);

ALTER TABLE app.audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_chain_heads_tenant_isolation ON app.audit_chain_heads
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());

-- The hash covers every column but audit_id and hash itself, in a fixed JSON encoding,
-- with created_at rendered in UTC so the TimeZone setting cannot change it.
CREATE FUNCTION app.audit_row_hash(r app.audit_log)
RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT sha256(convert_to(jsonb_build_array(
    encode(r.prev_hash, 'hex'), r.tenant_id, r.seq, r.actor_user_id, r.actor_role,
    r.action, r.object_type, r.object_id, r.pii_fields, r.purpose, r.outcome,
    r.request_id, r.ip::text, r.user_agent,
    to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  )::text, 'UTF8'));
$$;

CREATE FUNCTION app.audit_log_chain()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  head_seq  bigint;
  head_hash bytea;
BEGIN
  IF NEW.tenant_id IS NULL OR NEW.tenant_id IS DISTINCT FROM app.current_tenant_id() THEN
    RAISE EXCEPTION 'audit rows are written for the current tenant only'
      USING ERRCODE = '42501';
  END IF;
  -- Serialise writers of one tenant so each row links to the one before it.
  PERFORM pg_advisory_xact_lock(hashtextextended('app.audit_log/' || NEW.tenant_id::text, 0));
  SELECT h.seq, h.hash INTO head_seq, head_hash
    FROM app.audit_chain_heads AS h WHERE h.tenant_id = NEW.tenant_id;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := decode(repeat('00', 32), 'hex');
    INSERT INTO app.audit_chain_heads (tenant_id, seq, hash)
      VALUES (NEW.tenant_id, head_seq, head_hash);
  END IF;
  NEW.seq := head_seq + 1;
  NEW.prev_hash := head_hash;
  NEW.created_at := now();
  NEW.hash := app.audit_row_hash(NEW);
  UPDATE app.audit_chain_heads SET seq = NEW.seq, hash = NEW.hash
    WHERE tenant_id = NEW.tenant_id;
  RETURN NEW;
END;
$$;

CREATE FUNCTION app.audit_log_refuse_change()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = '42501';
END;
$$;

REVOKE ALL ON FUNCTION app.audit_log_chain(), app.audit_log_refuse_change(),
  app.audit_row_hash(app.audit_log) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.audit_row_hash(app.audit_log) TO ro_app;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON app.audit_log
  FOR EACH ROW EXECUTE FUNCTION app.audit_log_chain();
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON app.audit_log
  FOR EACH ROW EXECUTE FUNCTION app.audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON app.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION app.audit_log_refuse_change();

ALTER TABLE app.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_select ON app.audit_log
  FOR SELECT
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY audit_log_insert ON app.audit_log
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id());

GRANT SELECT, INSERT ON app.audit_log TO ro_app;
