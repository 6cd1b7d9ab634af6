-- Routing (SQLite): groups with their forms, agents' groups and routing status, the chat's
-- group, the agent a thread is assigned to and its place in the queue, and tickets.

CREATE TABLE groups (
    id            INTEGER PRIMARY KEY,       -- LiveChat group ids are small integers; 0 is "General"
    name          TEXT NOT NULL,
    prechat_form  TEXT,                      -- a protocol Form as JSON; NULL: the form is off
    postchat_form TEXT,
    ticket_form   TEXT,
    offline_chats INTEGER NOT NULL DEFAULT 1 -- whether chats start while the group is offline
);

CREATE TABLE group_agents (
    group_id INTEGER NOT NULL REFERENCES groups(id),
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

-- 'accepting_chats', 'not_accepting_chats' or 'offline' (Agent Chat Web API v3.6).
ALTER TABLE agents ADD COLUMN routing_status TEXT NOT NULL DEFAULT 'offline';

ALTER TABLE chats ADD COLUMN group_id INTEGER NOT NULL DEFAULT 0;

-- The agent routing assigned the thread to; kept after the thread closes (its history).
ALTER TABLE threads ADD COLUMN agent_id TEXT;
-- When the thread entered its group's queue; NULL once assigned or closed, or never queued.
ALTER TABLE threads ADD COLUMN queued_at INTEGER;
CREATE INDEX threads_active_by_agent ON threads(agent_id) WHERE active = 1;
CREATE INDEX threads_queued ON threads(queued_at, id) WHERE queued_at IS NOT NULL;

CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT,                     -- the visitor's id as the form sent it
    group_id       INTEGER NOT NULL,
    requester_name TEXT,
    requester_mail TEXT NOT NULL,
    subject        TEXT,
    message        TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
