-- Only a shop's ADMIN may create or change its users and its shop record. Until now any
-- role could, within its own shop; the API already refused it, now the database does too,
-- so a TECH can never raise its own role whatever SQL runs in its context.

DROP POLICY tenants_tenant_isolation ON app.tenants;
CREATE POLICY tenants_select ON app.tenants
  FOR SELECT
  USING (tenant_id = app.current_tenant_id());
CREATE POLICY tenants_insert ON app.tenants
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY tenants_update ON app.tenants
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN')
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');

DROP POLICY users_tenant_isolation ON app.users;
CREATE POLICY users_select ON app.users
  FOR SELECT
  USING (tenant_id = app.current_tenant_id());
CREATE POLICY users_insert ON app.users
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
CREATE POLICY users_update ON app.users
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN')
  WITH CHECK (tenant_id = app.current_tenant_id() AND app.current_role() = 'ADMIN');
