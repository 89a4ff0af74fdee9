-- The database enforces the PII rules itself, whatever SQL runs as the application role:
--
-- 1. "No audit row, no value": ro_app can no longer SELECT the vault's nonce or ciphertext.
--    app.pii_vault_open() is the only way to them. It checks the request, the context role
--    (ADMIN or PII_APPROVED) and that the RO is in the current shop, writes the pii.reveal
--    audit row itself (allowed or denied), and only then returns the sealed payload.
-- 2. Key rotation reads every payload too, so it gets its own audited path rather than
--    running as the owner: app.pii_vault_rotation_batch() is ADMIN-only and writes one
--    pii.rotate row per batch (how many rows, and the first and last RO id of the batch).
--    Running rotation as the owner would put the owner's password in every job that
--    rotates, and its reads would leave no trace. (Stored documents are rotated through
--    plain reads, which point 5 limits to ADMIN.)
-- 3. An audit row's actor comes from the transaction context (app.user_id, app.role), not
--    from what the INSERT says, so nobody can write a row in someone else's name.
-- 4. ro_app cannot read users.pass_hash (login reads it through app.directory_logins).
-- 5. Only an ADMIN reads or writes app.documents (the sealed original files).
-- 6. A chat message goes only into a conversation of the user writing it (or an ADMIN's).
--
-- Both functions below are SECURITY DEFINER and owned by the owner; RLS is forced on the
-- owner too, so everything they read and write still passes the tenant policies.

-- The vault's payload fields; a reveal names only these.
CREATE FUNCTION app.pii_field_names()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['customer_name', 'email', 'phones', 'address', 'vin', 'license_plate',
               'payment_method']::text[];
$$;
REVOKE ALL ON FUNCTION app.pii_field_names() FROM PUBLIC;

-- 1. The vault: upsert and delete keep what they need (the conflict target and WHERE
-- columns); nothing else is readable.
REVOKE SELECT ON app.pii_vault FROM ro_app;
GRANT SELECT (tenant_id, ro_id, key_ref, created_at, updated_at) ON app.pii_vault TO ro_app;

-- Denied: no rows. Allowed: exactly one row, with NULLs when the RO has no PII stored.
CREATE FUNCTION app.pii_vault_open(
  p_ro_id uuid, p_fields text[], p_purpose text,
  p_request_id text, p_ip inet, p_user_agent text)
RETURNS TABLE (key_ref text, nonce bytea, ciphertext bytea)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_tenant  uuid := app.current_tenant_id();
  v_purpose text := btrim(p_purpose);
  v_outcome text := 'denied';
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'no shop in this transaction''s context' USING ERRCODE = '42501';
  END IF;
  IF p_ro_id IS NULL OR p_fields IS NULL OR cardinality(p_fields) = 0
     OR array_position(p_fields, NULL) IS NOT NULL
     OR NOT (p_fields <@ app.pii_field_names()) THEN
    RAISE EXCEPTION 'name an RO and one or more known PII fields' USING ERRCODE = '22023';
  END IF;
  IF v_purpose IS NULL OR v_purpose = '' OR length(v_purpose) > 200 THEN
    RAISE EXCEPTION 'a purpose of 1-200 characters is required' USING ERRCODE = '22023';
  END IF;
  IF app.current_role() IN ('ADMIN', 'PII_APPROVED') AND EXISTS (
       SELECT 1 FROM app.repair_orders AS r
       WHERE r.tenant_id = v_tenant AND r.ro_id = p_ro_id) THEN
    v_outcome := 'allowed';
  END IF;
  INSERT INTO app.audit_log (tenant_id, action, object_type, object_id, pii_fields, purpose,
                             outcome, request_id, ip, user_agent)
  VALUES (v_tenant, 'pii.reveal', 'repair_order', p_ro_id::text, p_fields, v_purpose,
          v_outcome, nullif(p_request_id, ''), p_ip, left(nullif(p_user_agent, ''), 512));
  IF v_outcome = 'allowed' THEN
    RETURN QUERY
      SELECT v.key_ref, v.nonce, v.ciphertext
      FROM (SELECT p_ro_id AS ro_id) AS wanted
      LEFT JOIN app.pii_vault AS v ON v.tenant_id = v_tenant AND v.ro_id = wanted.ro_id;
  END IF;
END;
$$;

-- 2. Rotation: the next batch (by RO id, after p_after) of rows not on p_active_key_ref,
-- locked until the caller's transaction ends; with p_verify, every row whatever its key,
-- unlocked, to prove they all decrypt.
CREATE FUNCTION app.pii_vault_rotation_batch(
  p_active_key_ref text, p_after uuid, p_limit integer, p_verify boolean,
  p_request_id text, p_ip inet, p_user_agent text)
RETURNS TABLE (ro_id uuid, key_ref text, nonce bytea, ciphertext bytea)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_tenant  uuid := app.current_tenant_id();
  v_picked  uuid[];
  v_count   integer;
  v_purpose text;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'no shop in this transaction''s context' USING ERRCODE = '42501';
  END IF;
  IF p_active_key_ref IS NULL OR p_active_key_ref !~ '^[A-Za-z0-9._-]{1,64}$'
     OR p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 OR p_verify IS NULL THEN
    RAISE EXCEPTION 'name the active key, a batch size of 1-10000 and the mode'
      USING ERRCODE = '22023';
  END IF;
  v_purpose := CASE WHEN p_verify THEN 'verify rotation to key ' ELSE 're-encrypt to key ' END
               || p_active_key_ref;
  IF app.current_role() IS DISTINCT FROM 'ADMIN' THEN
    INSERT INTO app.audit_log (tenant_id, action, object_type, pii_fields, purpose, outcome,
                               request_id, ip, user_agent)
    VALUES (v_tenant, 'pii.rotate', 'pii_vault', app.pii_field_names(), v_purpose, 'denied',
            nullif(p_request_id, ''), p_ip, left(nullif(p_user_agent, ''), 512));
    RETURN;
  END IF;
  IF p_verify THEN
    SELECT array_agg(b.ro_id ORDER BY b.ro_id) INTO v_picked
    FROM (SELECT v.ro_id FROM app.pii_vault AS v
          WHERE v.tenant_id = v_tenant AND (p_after IS NULL OR v.ro_id > p_after)
          ORDER BY v.ro_id LIMIT p_limit) AS b;
  ELSE
    SELECT array_agg(b.ro_id ORDER BY b.ro_id) INTO v_picked
    FROM (SELECT v.ro_id FROM app.pii_vault AS v
          WHERE v.tenant_id = v_tenant AND (p_after IS NULL OR v.ro_id > p_after)
            AND v.key_ref <> p_active_key_ref
          ORDER BY v.ro_id LIMIT p_limit
          FOR UPDATE SKIP LOCKED) AS b;
  END IF;
  v_count := coalesce(cardinality(v_picked), 0);
  IF v_count = 0 THEN
    RETURN;
  END IF;
  INSERT INTO app.audit_log (tenant_id, action, object_type, object_id, pii_fields, purpose,
                             outcome, request_id, ip, user_agent)
  VALUES (v_tenant, 'pii.rotate', 'pii_vault',
          format('%s rows, ro_id %s to %s', v_count, v_picked[1], v_picked[v_count]),
          app.pii_field_names(), v_purpose, 'allowed',
          nullif(p_request_id, ''), p_ip, left(nullif(p_user_agent, ''), 512));
  RETURN QUERY
    SELECT v.ro_id, v.key_ref, v.nonce, v.ciphertext FROM app.pii_vault AS v
    WHERE v.tenant_id = v_tenant AND v.ro_id = ANY (v_picked)
    ORDER BY v.ro_id;
END;
$$;

REVOKE ALL ON FUNCTION
  app.pii_vault_open(uuid, text[], text, text, inet, text),
  app.pii_vault_rotation_batch(text, uuid, integer, boolean, text, inet, text)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
  app.pii_vault_open(uuid, text[], text, text, inet, text),
  app.pii_vault_rotation_batch(text, uuid, integer, boolean, text, inet, text)
  TO ro_app;

-- 3. The actor from the context (empty or invalid: NULL). A trigger of its own, named to
-- fire before audit_log_chain (triggers of one event fire in name order), so the chain's
-- hash covers the actor actually stored and 0007's chaining stays the one definition.
CREATE FUNCTION app.audit_log_actor()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.actor_user_id := app.current_user_id();
  NEW.actor_role := app.current_role();
  RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION app.audit_log_actor() FROM PUBLIC;
CREATE TRIGGER audit_log_actor BEFORE INSERT ON app.audit_log
  FOR EACH ROW EXECUTE FUNCTION app.audit_log_actor();

-- 4. Every column but pass_hash. Column grants do not cover columns added later: a
-- migration that adds a column to app.users must grant SELECT on it to ro_app as well.
REVOKE SELECT ON app.users FROM ro_app;
GRANT SELECT (user_id, tenant_id, email, role, is_active, created_at, updated_at)
  ON app.users TO ro_app;

-- 5. Ingest (the only writer) runs as ADMIN; no other role has a reason to see the files.
DROP POLICY documents_tenant_isolation ON app.documents;
CREATE POLICY documents_select ON app.documents
  FOR SELECT
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY documents_insert ON app.documents
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY documents_update ON app.documents
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN')
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY documents_delete ON app.documents
  FOR DELETE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

-- 6. Written in the writer's own name, into a conversation the writer owns (an ADMIN may
-- write into any of the shop's).
DROP POLICY messages_insert ON app.assistant_messages;
CREATE POLICY messages_insert ON app.assistant_messages
  FOR INSERT
  WITH CHECK (
    tenant_id = app.current_tenant_id()
    AND user_id = app.current_user_id()
    AND (app.current_role() = 'ADMIN'
         OR EXISTS (SELECT 1 FROM app.assistant_conversations AS c
                    WHERE c.tenant_id = assistant_messages.tenant_id
                      AND c.conversation_id = assistant_messages.conversation_id
                      AND c.user_id = app.current_user_id())));
