-- Per-agent chat limits (routing), and the thread an accepted greeting opened (list_archives
-- `filters.greetings`).
ALTER TABLE agents ADD COLUMN max_chats BIGINT NOT NULL DEFAULT 6;
ALTER TABLE greetings ADD COLUMN thread_id TEXT;
CREATE INDEX greetings_by_thread ON greetings(thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX threads_by_time ON threads(created_at, id);
