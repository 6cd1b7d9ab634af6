-- Confab's schema. Timestamps are RFC 3339 strings with microseconds in UTC
-- ("2026-11-22T02:00:00.000000Z"), which sort as text; expiries are unix seconds.

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,          -- uuid; the token's entity_id
    cookie_secret TEXT NOT NULL,             -- sha256 of the __lc_cst cookie value
    name          TEXT,
    email         TEXT,
    visits_count  INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE customer_tokens (
    token_hash  TEXT PRIMARY KEY,            -- sha256 of the access token
    customer_id TEXT NOT NULL REFERENCES customers(id),
    expires_at  INTEGER NOT NULL
);
CREATE INDEX customer_tokens_expiry ON customer_tokens(expires_at);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,             -- the agent's email, as LiveChat does
    name       TEXT NOT NULL,
    job_title  TEXT,
    token_hash TEXT UNIQUE                   -- sha256 of the agent's access token
);

CREATE TABLE chats (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    created_at  TEXT NOT NULL,
    properties  TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX chats_one_per_customer ON chats(customer_id);

CREATE TABLE chat_users (
    chat_id   TEXT NOT NULL REFERENCES chats(id),
    user_id   TEXT NOT NULL,
    user_type TEXT NOT NULL CHECK (user_type IN ('customer', 'agent')),
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE threads (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    seq        INTEGER NOT NULL,             -- 1, 2, … within the chat
    active     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    UNIQUE (chat_id, seq)
);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,             -- "<thread id>_<seq>"
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    thread_id  TEXT NOT NULL REFERENCES threads(id),
    seq        INTEGER NOT NULL,
    author_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    custom_id  TEXT,
    event      TEXT NOT NULL,                -- the whole event as JSON, as sent to clients
    UNIQUE (thread_id, seq)
);
