-- Feedback on answers: thumbs up or down with an optional reason, one per answer and user
-- (a second vote replaces the first). Shop admins review it; a user writes only their own.

CREATE TABLE app.answer_feedback (
  tenant_id   uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  message_id  uuid NOT NULL REFERENCES app.assistant_messages(message_id) ON DELETE CASCADE,
  user_id     uuid NOT NULL,
  rating      text NOT NULL CHECK (rating IN ('up', 'down')),
  reason      text CHECK (char_length(reason) <= 1000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, message_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES app.users(tenant_id, user_id) ON DELETE CASCADE
);

CREATE INDEX answer_feedback_recent ON app.answer_feedback (tenant_id, rating, updated_at DESC);

ALTER TABLE app.answer_feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.answer_feedback FORCE ROW LEVEL SECURITY;
CREATE POLICY answer_feedback_select ON app.answer_feedback
  FOR SELECT
  USING (tenant_id = app.current_tenant_id()
         AND (user_id = app.current_user_id() OR app.current_role() = 'ADMIN'));
CREATE POLICY answer_feedback_insert ON app.answer_feedback
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());
CREATE POLICY answer_feedback_update ON app.answer_feedback
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id())
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());

GRANT SELECT, INSERT, UPDATE ON app.answer_feedback TO ro_app;
