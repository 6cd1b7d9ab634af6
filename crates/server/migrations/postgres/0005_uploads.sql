-- Uploaded files (protocol.md §10): the bytes live on disk under the data directory
-- (uploads/<id>), what is known about them here. Exactly one of customer_id / agent_id names
-- who uploaded it. `content_type` is sniffed from the bytes, never the client's claim.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,           -- random [A-Z0-9]{32}; also the file's name on disk
    customer_id  TEXT,
    agent_id     TEXT,
    name         TEXT NOT NULL,              -- the client's file name, sanitized
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    width        BIGINT,                     -- images only
    height       BIGINT,
    created_at   BIGINT NOT NULL,            -- microseconds since the Unix epoch
    CHECK ((customer_id IS NULL) <> (agent_id IS NULL))
);
CREATE INDEX uploads_by_customer ON uploads(customer_id, created_at);
