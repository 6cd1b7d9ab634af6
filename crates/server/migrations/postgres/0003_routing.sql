-- Routing (PostgreSQL): the same as SQLite's 0004, in PostgreSQL's types.

CREATE TABLE groups (
    id            BIGINT PRIMARY KEY,
    name          TEXT NOT NULL,
    prechat_form  TEXT,
    postchat_form TEXT,
    ticket_form   TEXT,
    offline_chats BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE group_agents (
    group_id BIGINT NOT NULL REFERENCES groups(id),
    agent_id TEXT NOT NULL REFERENCES agents(id),
    PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX group_agents_by_agent ON group_agents(agent_id);

-- Group 0, "General", on first start: no pre-chat form; a post-chat rating with a comment; a
-- ticket form asking for name, email and message (protocol `Form`s). Every agent that exists
-- joins it (new agents join it when created: `Domain::upsert_agent`).
INSERT INTO groups (id, name, prechat_form, postchat_form, ticket_form) VALUES (0, 'General', NULL,
    '{"id":"postchat","fields":[{"id":"0","type":"rating","label":"How would you rate this chat?","required":false,"comment_label":"Leave a comment"}]}',
    '{"id":"ticket","fields":[{"id":"0","type":"header","label":"Our agents are not available right now. Leave us a message and we will answer by email."},{"id":"1","type":"name","label":"Your name:","required":false},{"id":"2","type":"email","label":"Your email:","required":true},{"id":"3","type":"textarea","label":"Your message:","required":true}]}');
INSERT INTO group_agents (group_id, agent_id) SELECT 0, id FROM agents;

ALTER TABLE agents ADD COLUMN routing_status TEXT NOT NULL DEFAULT 'offline';

ALTER TABLE chats ADD COLUMN group_id BIGINT NOT NULL DEFAULT 0;

ALTER TABLE threads ADD COLUMN agent_id TEXT;
ALTER TABLE threads ADD COLUMN queued_at BIGINT;
CREATE INDEX threads_active_by_agent ON threads(agent_id) WHERE active;
CREATE INDEX threads_queued ON threads(queued_at, id) WHERE queued_at IS NOT NULL;

CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT,
    group_id       BIGINT NOT NULL,
    requester_name TEXT,
    requester_mail TEXT NOT NULL,
    subject        TEXT,
    message        TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
