-- Agent Chat API v3.6: who follows what, and thread tags.
-- An agent who follows a chat gets its pushes without being one of its users, until they
-- unfollow it or the chat is resumed (`follow_chat`, `unfollow_chat`).
CREATE TABLE chat_followers (
    chat_id  TEXT NOT NULL REFERENCES chats(id),
    agent_id TEXT NOT NULL,
    PRIMARY KEY (chat_id, agent_id)
);
-- An agent who follows a customer hears of their updates and page views (`follow_customer`).
CREATE TABLE customer_followers (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    agent_id    TEXT NOT NULL,
    PRIMARY KEY (customer_id, agent_id)
);
-- `tag_thread`, `untag_thread`; tags are case sensitive.
CREATE TABLE thread_tags (
    thread_id  TEXT NOT NULL REFERENCES threads(id),
    tag        TEXT NOT NULL,
    created_at INTEGER NOT NULL,                -- microseconds since the Unix epoch
    PRIMARY KEY (thread_id, tag)
);
CREATE INDEX thread_tags_by_tag ON thread_tags(tag);
