-- Chat conversations and messages. A user reads and writes only their own; an ADMIN
-- may read another user's (the service writes an audit row when it does).

CREATE TABLE app.assistant_conversations (
  conversation_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  user_id          uuid NOT NULL,
  title            text CHECK (length(title) <= 200),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  last_message_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, conversation_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES app.users(tenant_id, user_id) ON DELETE CASCADE
);

CREATE INDEX assistant_conversations_user
  ON app.assistant_conversations (tenant_id, user_id, last_message_at DESC NULLS LAST);

ALTER TABLE app.assistant_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.assistant_conversations FORCE ROW LEVEL SECURITY;

CREATE POLICY conversations_select ON app.assistant_conversations
  FOR SELECT
  USING (tenant_id = app.current_tenant_id()
         AND (user_id = app.current_user_id() OR app.current_role() = 'ADMIN'));
CREATE POLICY conversations_insert ON app.assistant_conversations
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());
CREATE POLICY conversations_update ON app.assistant_conversations
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id())
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());
CREATE POLICY conversations_delete ON app.assistant_conversations
  FOR DELETE
  USING (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON app.assistant_conversations TO ro_app;

CREATE TABLE app.assistant_messages (
  message_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES app.tenants(tenant_id) ON DELETE CASCADE,
  conversation_id    uuid NOT NULL,
  user_id            uuid NOT NULL,
  role               text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  status             text NOT NULL DEFAULT 'complete'
                     CHECK (status IN ('pending', 'complete', 'failed')),
  content            text NOT NULL DEFAULT '',
  error              text,
  citations          jsonb NOT NULL DEFAULT '[]'::jsonb,
  model              text,
  response_id        text,
  prompt_name        text,
  prompt_version     text,
  prompt_tokens      int,
  completion_tokens  int,
  latency_ms         int,
  retrieval_trace    jsonb,
  metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.assistant_conversations(tenant_id, conversation_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, user_id) REFERENCES app.users(tenant_id, user_id) ON DELETE CASCADE
);

CREATE INDEX assistant_messages_conversation
  ON app.assistant_messages (tenant_id, conversation_id, created_at);

ALTER TABLE app.assistant_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.assistant_messages FORCE ROW LEVEL SECURITY;

CREATE POLICY messages_select ON app.assistant_messages
  FOR SELECT
  USING (tenant_id = app.current_tenant_id()
         AND (user_id = app.current_user_id() OR app.current_role() = 'ADMIN'));
CREATE POLICY messages_insert ON app.assistant_messages
  FOR INSERT
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());
CREATE POLICY messages_update ON app.assistant_messages
  FOR UPDATE
  USING (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id())
  WITH CHECK (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());
CREATE POLICY messages_delete ON app.assistant_messages
  FOR DELETE
  USING (tenant_id = app.current_tenant_id() AND user_id = app.current_user_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON app.assistant_messages TO ro_app;
