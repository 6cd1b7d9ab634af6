-- Webhooks (Configuration API v3.6 `register_webhook`): where the Agent Chat API's webhook
-- actions are POSTed, and the log of every attempt an administrator can read.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    action          TEXT NOT NULL,              -- incoming_chat, incoming_event, …
    secret_key      TEXT NOT NULL,              -- sent in every body, for the receiver to check
    type            TEXT NOT NULL,              -- license or bot
    owner_client_id TEXT NOT NULL,
    description     TEXT,
    filters         TEXT NOT NULL DEFAULT '{}', -- JSON, as registered
    created_at      INTEGER NOT NULL            -- microseconds since the Unix epoch
);
CREATE INDEX webhooks_by_owner ON webhooks(owner_client_id, action);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    attempt     INTEGER NOT NULL,               -- 1, 2, … up to WEBHOOK_MAX_ATTEMPTS
    outcome     TEXT NOT NULL,                  -- delivered, failed (retried), gave_up, dropped
    http_status INTEGER,
    error       TEXT,
    at          INTEGER NOT NULL                -- microseconds since the Unix epoch
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries(at);

-- Who may configure the server (webhooks): `administrator`, or `agent`.
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';
