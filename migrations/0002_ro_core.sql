-- Source documents and repair-order headers. No customer PII here: it lives in
-- app.pii_vault only; VIN and plate appear here solely as keyed blind indexes.
-- Child tables reference (tenant_id, id) pairs, so a row can never point at another
-- shop's row even though foreign-key checks themselves bypass row-level security.

CREATE TABLE app.documents (
  doc_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  filename      text NOT NULL,
  mime_type     text NOT NULL,
  sha256        bytea NOT NULL CHECK (octet_length(sha256) = 32),
  storage_path  text,
  status        text NOT NULL DEFAULT 'stored',
  created_by    uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, sha256),
  UNIQUE (tenant_id, doc_id),
  FOREIGN KEY (tenant_id, created_by) REFERENCES app.users(tenant_id, user_id)
);

ALTER TABLE app.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_tenant_isolation ON app.documents
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.documents TO ro_app;

CREATE TABLE app.repair_orders (
  ro_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  doc_id             uuid NOT NULL,

  ro_number          text NOT NULL CHECK (length(ro_number) BETWEEN 1 AND 64),
  ro_open_date       date,
  ro_close_date      date,
  ro_status          text,

  advisor_name       text,
  advisor_tag        text,

  technician_name    text,
  technician_code    text,

  vehicle_year       int CHECK (vehicle_year BETWEEN 1886 AND 2100),
  vehicle_make       text,
  vehicle_model      text,
  vehicle_color      text,

  mileage_in         int CHECK (mileage_in >= 0),
  mileage_out        int CHECK (mileage_out >= 0),
  in_service_date    date,
  delivery_date      date,

  labor_total        numeric(10,2),
  parts_total        numeric(10,2),
  sublet_total       numeric(10,2),
  shop_supplies      numeric(10,2),
  hazardous_total    numeric(10,2),
  tax_total          numeric(10,2),
  discount_total     numeric(10,2),
  total_due          numeric(10,2),

  -- HMAC-SHA256 of the normalised VIN / plate under a per-tenant key.
  vin_bidx           bytea CHECK (octet_length(vin_bidx) = 32),
  plate_bidx         bytea CHECK (octet_length(plate_bidx) = 32),

  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),

  UNIQUE (tenant_id, ro_number),
  UNIQUE (tenant_id, ro_id),
  FOREIGN KEY (tenant_id, doc_id) REFERENCES app.documents(tenant_id, doc_id) ON DELETE CASCADE
);

CREATE INDEX repair_orders_vin_bidx ON app.repair_orders (tenant_id, vin_bidx)
  WHERE vin_bidx IS NOT NULL;
CREATE INDEX repair_orders_plate_bidx ON app.repair_orders (tenant_id, plate_bidx)
  WHERE plate_bidx IS NOT NULL;
CREATE INDEX repair_orders_vehicle ON app.repair_orders
  (tenant_id, vehicle_make, vehicle_model, vehicle_year);
CREATE INDEX repair_orders_opened ON app.repair_orders (tenant_id, ro_open_date);
CREATE INDEX repair_orders_doc ON app.repair_orders (tenant_id, doc_id);

ALTER TABLE app.repair_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.repair_orders FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_tenant_isolation ON app.repair_orders
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.repair_orders TO ro_app;
