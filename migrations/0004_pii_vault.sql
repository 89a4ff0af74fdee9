-- PII vault: one AES-256-GCM ciphertext per RO. Payload (JSON): customer_name, email,
-- phones, address (street/city/state/zip), vin, license_plate, payment_method.
-- Read: ADMIN or PII_APPROVED. Write: ADMIN. One policy per command (PostgreSQL has no
-- "FOR INSERT, UPDATE, DELETE").

CREATE TABLE app.pii_vault (
  tenant_id    uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id        uuid NOT NULL,
  key_ref      text NOT NULL CHECK (key_ref ~ '^[A-Za-z0-9._-]{1,64}$'),
  nonce        bytea NOT NULL CHECK (octet_length(nonce) = 12),
  ciphertext   bytea NOT NULL CHECK (octet_length(ciphertext) >= 16),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ro_id),
  -- A reused nonce under one key breaks GCM; the database refuses it outright.
  UNIQUE (key_ref, nonce),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE
);

CREATE INDEX pii_vault_key_ref ON app.pii_vault (tenant_id, key_ref);

ALTER TABLE app.pii_vault ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.pii_vault FORCE ROW LEVEL SECURITY;

CREATE POLICY pii_vault_select ON app.pii_vault
  FOR SELECT
  USING (tenant_id = app.current_tenant_id()
         AND app.current_role() IN ('ADMIN', 'PII_APPROVED'));

CREATE POLICY pii_vault_insert ON app.pii_vault
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

CREATE POLICY pii_vault_update ON app.pii_vault
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN')
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

CREATE POLICY pii_vault_delete ON app.pii_vault
  FOR DELETE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

GRANT SELECT, INSERT, UPDATE, DELETE ON app.pii_vault TO ro_app;
