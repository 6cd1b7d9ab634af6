-- Chat state (SQLite): seen markers, rich message postbacks, and the customer's own fields
-- (avatar, session fields, page views and the last page). Chat, thread and event properties
-- are stored already (JSON in `chats.properties`, `threads.properties`, `events.event`).

-- When each user last saw the chat's events (microseconds); only ever moves forward.
ALTER TABLE chat_users ADD COLUMN events_seen_up_to INTEGER;

ALTER TABLE customers ADD COLUMN avatar TEXT;
-- The session fields as the wire carries them: a JSON array of one-key objects.
ALTER TABLE customers ADD COLUMN session_fields TEXT NOT NULL DEFAULT '[]';
-- Page views counted so far (each login page and page update); before this, page views were
-- reported as the visits.
ALTER TABLE customers ADD COLUMN page_views_count INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET page_views_count = visits_count;
-- The page the customer is on (or was on last), and when they opened it (microseconds).
ALTER TABLE customers ADD COLUMN last_page_url TEXT;
ALTER TABLE customers ADD COLUMN last_page_title TEXT;
ALTER TABLE customers ADD COLUMN last_page_at INTEGER;

-- A user's click on a rich message button: the latest state of each button, per user.
CREATE TABLE rich_message_postbacks (
    event_id    TEXT NOT NULL REFERENCES events(id),
    user_id     TEXT NOT NULL,
    postback_id TEXT NOT NULL,
    chat_id     TEXT NOT NULL REFERENCES chats(id),
    thread_id   TEXT NOT NULL REFERENCES threads(id),
    toggled     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id, postback_id)
);
