-- Greetings (an agent's or a rule's invitation to chat, shown before a chat) and bans.
-- Times are integer microseconds since the Unix epoch.

-- Greeting rules: shown to a customer whose page URL contains `url_contains` ('' matches every
-- page), `delay_secs` after they reached it. Their id is the greeting's template id (`id` on
-- the wire); greetings an agent sends by hand have template id 0. Seeded with none; the
-- `--greetings-file` option replaces them on start.
CREATE TABLE greeting_rules (
    id           BIGINT PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    text         TEXT NOT NULL,
    url_contains TEXT NOT NULL,
    delay_secs   BIGINT NOT NULL,
    subtype      TEXT NOT NULL
);

-- Every greeting made for a customer. `state`: pending (waiting for its delay), shown,
-- accepted, canceled. `period` (rule greetings only) numbers the GREETING_RULE_PERIOD it was
-- made in: the unique index keeps it to one per rule, customer and period, even between nodes.
CREATE TABLE greetings (
    unique_id   TEXT PRIMARY KEY,
    template_id BIGINT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    agent_id    TEXT NOT NULL,
    rule_id     BIGINT,
    period      BIGINT,
    event       TEXT NOT NULL,               -- the greeting's message event, as JSON
    subtype     TEXT NOT NULL,               -- 'greeting' or 'announcement'
    state       TEXT NOT NULL CHECK (state IN ('pending', 'shown', 'accepted', 'canceled')),
    due_at      BIGINT NOT NULL,
    shown_at    BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX greetings_once_per_rule_and_period ON greetings(rule_id, customer_id, period)
    WHERE rule_id IS NOT NULL;
CREATE INDEX greetings_by_customer ON greetings(customer_id, state, due_at);

-- A customer's ban (Agent Web API `ban_customer`), until `expires_at`.
CREATE TABLE customer_bans (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
