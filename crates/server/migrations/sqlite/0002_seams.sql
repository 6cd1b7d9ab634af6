-- Seams for growth (SQLite): times become integer microseconds since the Unix epoch (as on
-- PostgreSQL), events get one sequence per chat, the database itself allows one active thread
-- per chat, and customer access tokens are signed rather than stored.
--
-- Old times look like 2026-11-22T02:00:00.123456Z: whole seconds from strftime, then the six
-- digits after the dot (julianday's floating point would lose microseconds).
--
-- Parent tables are altered in place (dropping them would trip their foreign keys); `events`,
-- which nothing references, is rebuilt.

DROP TABLE customer_tokens;

-- Server-wide secrets shared by every node, created on first start (the token signing key).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

ALTER TABLE customers ADD COLUMN created_us INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET created_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER);
ALTER TABLE customers DROP COLUMN created_at;
ALTER TABLE customers RENAME COLUMN created_us TO created_at;

ALTER TABLE chats ADD COLUMN created_us INTEGER NOT NULL DEFAULT 0;
UPDATE chats SET created_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER);
ALTER TABLE chats DROP COLUMN created_at;
ALTER TABLE chats RENAME COLUMN created_us TO created_at;
-- The chat's counters: the last event sequence number given out, and threads opened.
ALTER TABLE chats ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN threads_count INTEGER NOT NULL DEFAULT 0;

ALTER TABLE threads ADD COLUMN created_us INTEGER NOT NULL DEFAULT 0;
UPDATE threads SET created_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER);
ALTER TABLE threads DROP COLUMN created_at;
ALTER TABLE threads RENAME COLUMN created_us TO created_at;
CREATE UNIQUE INDEX threads_one_active_per_chat ON threads(chat_id) WHERE active = 1;

CREATE TABLE events_v2 (
    id         TEXT PRIMARY KEY,             -- "<thread id>_<seq>"
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    thread_id  TEXT NOT NULL REFERENCES threads(id),
    seq        INTEGER NOT NULL,             -- 1, 2, … within the chat, across its threads
    kind       TEXT NOT NULL,                -- the event's `type`
    author_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    custom_id  TEXT,
    visibility TEXT NOT NULL,                -- 'all' or 'agents'
    event      TEXT NOT NULL,                -- the whole event as JSON, as sent to clients
    UNIQUE (chat_id, seq)
);
INSERT INTO events_v2 (id, chat_id, thread_id, seq, kind, author_id, created_at, custom_id, visibility, event)
SELECT e.id, e.chat_id, e.thread_id,
       ROW_NUMBER() OVER (PARTITION BY e.chat_id ORDER BY t.seq, e.seq),
       COALESCE(json_extract(e.event, '$.type'), 'message'),
       e.author_id,
       CAST(strftime('%s', substr(e.created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(e.created_at, 21, 6) AS INTEGER),
       e.custom_id,
       COALESCE(json_extract(e.event, '$.visibility'), 'all'),
       e.event
FROM events e JOIN threads t ON t.id = e.thread_id;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_by_thread ON events(thread_id, seq);
CREATE INDEX events_by_kind ON events(chat_id, kind, seq);

UPDATE chats SET
    last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events WHERE events.chat_id = chats.id),
    threads_count = (SELECT COUNT(*) FROM threads WHERE threads.chat_id = chats.id);
