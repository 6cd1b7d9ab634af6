-- Chat state (PostgreSQL): the same as SQLite's 0003. Seen markers, rich message postbacks,
-- and the customer's own fields (avatar, session fields, page views and the last page).

ALTER TABLE chat_users ADD COLUMN events_seen_up_to BIGINT;

ALTER TABLE customers ADD COLUMN avatar TEXT;
ALTER TABLE customers ADD COLUMN session_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN page_views_count BIGINT NOT NULL DEFAULT 0;
UPDATE customers SET page_views_count = visits_count;
ALTER TABLE customers ADD COLUMN last_page_url TEXT;
ALTER TABLE customers ADD COLUMN last_page_title TEXT;
ALTER TABLE customers ADD COLUMN last_page_at BIGINT;

CREATE TABLE rich_message_postbacks (
    event_id    TEXT NOT NULL REFERENCES events(id),
    user_id     TEXT NOT NULL,
    postback_id TEXT NOT NULL,
    chat_id     TEXT NOT NULL REFERENCES chats(id),
    thread_id   TEXT NOT NULL REFERENCES threads(id),
    toggled     BOOLEAN NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id, postback_id)
);
