-- The lettered concern lines of an RO (complaint / cause / correction, PII-scrubbed)
-- and the labor and parts lines under them.

CREATE TABLE app.ro_lines (
  line_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id        uuid NOT NULL,
  line_letter  text NOT NULL CHECK (line_letter ~ '^[A-Z]{1,2}$'),
  status       text NOT NULL
               CHECK (status IN ('completed', 'declined', 'recommended', 'in_progress')),
  complaint    text,
  cause        text,
  correction   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, ro_id, line_letter),
  UNIQUE (tenant_id, line_id),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE
);

CREATE INDEX ro_lines_status ON app.ro_lines (tenant_id, status);

ALTER TABLE app.ro_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY ro_lines_tenant_isolation ON app.ro_lines
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_lines TO ro_app;

CREATE TABLE app.ro_labor_lines (
  labor_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id           uuid NOT NULL,
  line_id         uuid NOT NULL,
  operation       text,
  description     text,
  technician_name text,
  technician_code text,
  hours           numeric(6,2) CHECK (hours >= 0),
  amount          numeric(10,2),
  pay_type        text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, line_id) REFERENCES app.ro_lines(tenant_id, line_id) ON DELETE CASCADE
);

CREATE INDEX ro_labor_lines_ro ON app.ro_labor_lines (tenant_id, ro_id);
CREATE INDEX ro_labor_lines_line ON app.ro_labor_lines (tenant_id, line_id);
CREATE INDEX ro_labor_lines_op ON app.ro_labor_lines (tenant_id, operation);

ALTER TABLE app.ro_labor_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_labor_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY labor_tenant_isolation ON app.ro_labor_lines
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_labor_lines TO ro_app;

CREATE TABLE app.ro_parts_lines (
  part_line_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  ro_id         uuid NOT NULL,
  line_id       uuid NOT NULL,
  part_number   text,
  description   text,
  quantity      numeric(10,2),
  unit_price    numeric(10,2),
  line_total    numeric(10,2),
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, ro_id) REFERENCES app.repair_orders(tenant_id, ro_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, line_id) REFERENCES app.ro_lines(tenant_id, line_id) ON DELETE CASCADE
);

CREATE INDEX ro_parts_lines_ro ON app.ro_parts_lines (tenant_id, ro_id);
CREATE INDEX ro_parts_lines_line ON app.ro_parts_lines (tenant_id, line_id);
CREATE INDEX ro_parts_lines_part ON app.ro_parts_lines (tenant_id, part_number);

ALTER TABLE app.ro_parts_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ro_parts_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY parts_tenant_isolation ON app.ro_parts_lines
  USING (tenant_id = app.current_tenant_id())
  WITH CHECK (tenant_id = app.current_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ro_parts_lines TO ro_app;
