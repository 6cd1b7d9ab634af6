-- Confab's schema on PostgreSQL: the same tables as SQLite's after its 0002, in PostgreSQL's
-- types. Times are integer microseconds since the Unix epoch; expiries are unix seconds.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,          -- uuid; the token's entity_id
    cookie_secret TEXT NOT NULL,             -- sha256 of the __lc_cst cookie value
    name          TEXT,
    email         TEXT,
    visits_count  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,             -- the agent's email, as LiveChat does
    name       TEXT NOT NULL,
    job_title  TEXT,
    token_hash TEXT UNIQUE                   -- sha256 of the agent's access token
);

CREATE TABLE chats (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL UNIQUE REFERENCES customers(id),  -- one chat per customer
    created_at    BIGINT NOT NULL,
    properties    TEXT NOT NULL DEFAULT '{}',
    last_seq      BIGINT NOT NULL DEFAULT 0, -- the last event sequence number given out
    threads_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE chat_users (
    chat_id   TEXT NOT NULL REFERENCES chats(id),
    user_id   TEXT NOT NULL,
    user_type TEXT NOT NULL CHECK (user_type IN ('customer', 'agent')),
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE threads (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    seq        BIGINT NOT NULL,              -- 1, 2, … within the chat
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    UNIQUE (chat_id, seq)
);
CREATE UNIQUE INDEX threads_one_active_per_chat ON threads(chat_id) WHERE active;

CREATE TABLE events (
    id         TEXT PRIMARY KEY,             -- "<thread id>_<seq>"
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    thread_id  TEXT NOT NULL REFERENCES threads(id),
    seq        BIGINT NOT NULL,              -- 1, 2, … within the chat, across its threads
    kind       TEXT NOT NULL,
    author_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    custom_id  TEXT,
    visibility TEXT NOT NULL,
    event      TEXT NOT NULL,
    UNIQUE (chat_id, seq)
);
CREATE INDEX events_by_thread ON events(thread_id, seq);
CREATE INDEX events_by_kind ON events(chat_id, kind, seq);

-- Domain events committed, for the nodes that did not commit them: each row's id is sent with
-- NOTIFY in the same transaction, and a node that lost its listener reads what it missed here.
-- Rows older than the resync window are pruned.
CREATE TABLE domain_log (
    id         BIGSERIAL PRIMARY KEY,
    node_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    event      TEXT NOT NULL
);
CREATE INDEX domain_log_by_time ON domain_log(created_at);
