//! Every limit the server enforces, in one place, with the document that motivates it.

use std::time::Duration;

/// A socket that has not logged in within this time is closed (RTM reference v3.2: "the server
/// closes connections that do not log in within 30 s"; protocol.md §5).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest RTM frame accepted from a client. A message of `MAX_MESSAGE_TEXT_BYTES` plus its
/// envelope fits; anything larger is refused by the WebSocket layer from the frame's header,
/// before its body is buffered, and the socket is closed with 1009 (RFC 6455 §7.4.1: "message
/// too big").
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The close text of a socket that sent a frame over `MAX_FRAME_BYTES`.
pub const OVERSIZED_FRAME_CLOSE_TEXT: &str = "frame larger than 64 KiB";
const _: () = assert!(MAX_FRAME_BYTES == 64 * 1024, "OVERSIZED_FRAME_CLOSE_TEXT names the limit");

/// Longest message text accepted in a `message` event.
pub const MAX_MESSAGE_TEXT_BYTES: usize = 16 * 1024;

/// Frames a customer socket may send: per second on average, and in a burst. Beyond that,
/// requests are answered `too_many_requests` unprocessed (RTM reference "Possible errors":
/// `too_many_requests`; LiveChat publishes no figure, so this one is ours: well above a person
/// typing, well below a script flooding).
pub const RTM_FRAMES_PER_SECOND: u32 = 10;
pub const RTM_FRAME_BURST: u32 = 30;

/// Largest JSON body of an Agent Chat Web API call or a token request.
pub const MAX_HTTP_BODY_BYTES: usize = 256 * 1024;

/// Frames queued for one socket before it is considered too slow and dropped. Pushes never
/// wait on a slow reader.
pub const OUTBOUND_QUEUE_FRAMES: usize = 256;

/// WebSocket buffers. tungstenite's defaults (128 KiB each) cost ~134 KiB RSS per idle socket.
/// The read buffer is what an idle socket keeps: 512 bytes hold a typical frame (a larger one
/// reserves its own length), and bring a logged-in idle socket to 7.4 KiB of server memory
/// (`bench/load.sh`, 10,000 sockets; budget 8 KiB, design.md §6; anchors-quality.md §0.4).
pub const WS_READ_BUFFER_BYTES: usize = 512;
pub const WS_WRITE_BUFFER_BYTES: usize = 0;

/// Customer access token lifetime (customer authorization docs: `expires_in` 28800 s).
pub const CUSTOMER_TOKEN_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// How long the customer identity cookies live (protocol.md §2.2: 2 years).
pub const IDENTITY_COOKIE_MAX_AGE: Duration = Duration::from_secs(2 * 365 * 24 * 60 * 60);

/// `list_chats` page size: customer default / maximum (protocol.md §8.2: clients reject > 25),
/// agent maximum (Agent Chat Web API v3.6 `list_chats`: default 10, maximum 100).
pub const CUSTOMER_LIST_CHATS_DEFAULT: u32 = 10;
pub const CUSTOMER_LIST_CHATS_MAX: u32 = 25;
pub const AGENT_LIST_CHATS_DEFAULT: u32 = 10;
pub const AGENT_LIST_CHATS_MAX: u32 = 100;

/// `list_threads` (RTM reference `list_threads`: `limit` default 3, max 100;
/// `min_events_count` 1–100).
pub const LIST_THREADS_DEFAULT: u32 = 3;
pub const LIST_THREADS_MAX: u32 = 100;
pub const MIN_EVENTS_COUNT_MAX: u32 = 100;

/// How long shutdown waits for sockets to say goodbye before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Events of one thread read at once (its newest): bounds the memory and time of `get_chat`
/// and `list_threads` however long a conversation grows. Ours; LiveChat documents none.
pub const MAX_EVENTS_PER_THREAD_READ: i64 = 1000;

/// Events a `start_chat` / `resume_chat` may carry in its initial thread.
pub const MAX_INITIAL_EVENTS: usize = 50;

/// Requests one socket may have waiting or running. Requests run one at a time, in order,
/// beside the socket's read loop (so a slow query never stalls reading or pings); beyond this
/// many, a request is answered `too_many_requests` at once. Ours; the RTM reference documents
/// `too_many_requests` without a figure.
pub const MAX_PENDING_REQUESTS: usize = 16;

/// Customer token grants per client address: per second on average, and in a burst. Generous
/// enough for an office or a mobile carrier's NAT with many visitors behind one address, well
/// below what minting tokens in a loop would take.
pub const TOKEN_GRANTS_PER_ADDRESS_PER_SECOND: u32 = 50;
pub const TOKEN_GRANT_BURST_PER_ADDRESS: u32 = 500;

/// New customers (grants without valid identity cookies) per client address: each one is a
/// row in the database, so they are bounded more tightly than grants.
pub const NEW_CUSTOMERS_PER_ADDRESS_PER_SECOND: u32 = 5;
pub const NEW_CUSTOMER_BURST_PER_ADDRESS: u32 = 300;

/// Client addresses whose rate is tracked at once; past it, addresses whose bucket refilled
/// are forgotten first.
pub const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// The cross-node bus (PostgreSQL): how long a listener waits before reconnecting, how far
/// before the loss of its connection it reads back on resync (commits in flight), how long
/// log entries are kept, and how many delivered ids it remembers to skip on resync.
pub const BUS_RECONNECT_DELAY: Duration = Duration::from_millis(250);
pub const BUS_RESYNC_MARGIN: Duration = Duration::from_secs(5);
pub const BUS_LOG_RETENTION: Duration = Duration::from_secs(10 * 60);
pub const BUS_SEEN_IDS: usize = 10_000;

/// Longest URL accepted in an event (a file, a rich message's image or button), a customer's
/// avatar or page. Ours: browsers handle far longer, but a chat has no use for them.
pub const MAX_URL_BYTES: usize = 2048;

/// Longest `custom_id` a client may give an event (ours; clients use uuids).
pub const MAX_CUSTOM_ID_BYTES: usize = 256;

/// Longest file name / alternative text of a `file` event (ours).
pub const MAX_FILE_NAME_BYTES: usize = 1024;

/// Fields of one `filled_form` event (ours; LiveChat's form builder stays far below), and the
/// longest answer or label in one.
pub const MAX_FORM_FIELDS: usize = 64;
pub const MAX_FORM_ANSWER_BYTES: usize = MAX_MESSAGE_TEXT_BYTES;

/// Rich messages (agents only): elements of one message and buttons of one element (ours,
/// above what the official widget lays out: cards scroll, quick replies wrap), and the longest
/// title, subtitle or button text.
pub const MAX_RICH_MESSAGE_ELEMENTS: usize = 10;
pub const MAX_RICH_MESSAGE_BUTTONS: usize = 13;
pub const MAX_RICH_MESSAGE_TEXT_BYTES: usize = 4096;

/// Properties (`{namespace: {name: value}}`) of one chat, thread or event: the longest
/// namespace and name, how many names in all, and the size of the whole object as JSON. Ours;
/// LiveChat's namespaces are client ids (32 hex characters) and names short identifiers.
pub const MAX_PROPERTY_NAMESPACE_BYTES: usize = 64;
pub const MAX_PROPERTY_NAME_BYTES: usize = 64;
pub const MAX_PROPERTIES: usize = 100;
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;

/// A chat rating (`{"rating": {"score": 0|1, "comment": …}}`, the SDK's `rateChat`): the
/// longest comment (ours; the official widget's rating box is a short text area).
pub const MAX_RATING_COMMENT_BYTES: usize = 1024;

/// Sneak peeks (what a customer is typing, to agents; not stored): the longest text (a
/// message's), and how many one socket may send per second on average and in a burst. Beyond
/// that they are answered `too_many_requests` (the SDK ignores the answer). Ours: the official
/// SDK sends one per keystroke, throttled by the widget; agents need a few a second at most.
pub const MAX_SNEAK_PEEK_TEXT_BYTES: usize = MAX_MESSAGE_TEXT_BYTES;
pub const SNEAK_PEEKS_PER_SECOND: u32 = 2;
pub const SNEAK_PEEK_BURST: u32 = 5;

/// A customer's fields (`update_customer`, `login`): the longest name and email (RFC 5321's
/// 254-character path limit).
pub const MAX_CUSTOMER_NAME_BYTES: usize = 256;
pub const MAX_EMAIL_BYTES: usize = 254;

/// Session fields of one customer (`set_customer_session_fields`, `update_customer`): how many,
/// and the longest key and value. Beyond them: `customer_session_fields_limit_reached`
/// (protocol.md §11.1; the SDK docs: "total amount of session fields would have been
/// exceeded"). LiveChat publishes no figures; these are ours.
pub const MAX_SESSION_FIELDS: usize = 100;
pub const MAX_SESSION_FIELD_KEY_BYTES: usize = 256;
pub const MAX_SESSION_FIELD_VALUE_BYTES: usize = 1024;

/// The longest page title of `update_customer_page` (ours; browsers cap nothing).
pub const MAX_PAGE_TITLE_BYTES: usize = 1024;
/// Largest file a customer may upload (protocol.md §10: the SDK refuses more than 10 MB as
/// `TOO_BIG_FILE`; Agent Chat Web API v3.6 `upload_file`: "maximum size: 10MB", and
/// `entity_too_large`: "Upload limit exceeded (10MB)"). Counted while the file streams to disk:
/// exactly this many bytes pass, one more is refused.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// What a multipart body may carry besides the file: boundaries, part headers, small fields.
/// The body as a whole is cut off at `MAX_UPLOAD_BYTES` plus this. Ours.
pub const MAX_UPLOAD_OVERHEAD_BYTES: usize = 64 * 1024;

/// Longest original file name kept (bytes, after sanitizing): what common file systems allow.
pub const MAX_UPLOAD_NAME_BYTES: usize = 255;

/// Uploads per customer (or agent): per second on average, and in a burst. Each one is up to
/// 10 MiB of disk, so far fewer than RTM frames. Ours; LiveChat publishes no figure.
pub const UPLOADS_PER_SECOND: u32 = 1;
pub const UPLOAD_BURST: u32 = 20;

/// `get_url_info`: the largest page read (HTML heads with Open Graph tags are well below this),
/// the time one lookup may take from the first byte sent to the last read (redirects included),
/// how many redirects are followed (each hop's address is checked again), and the longest
/// title or description returned. Ours; the RTM reference documents none.
pub const MAX_URL_INFO_BYTES: usize = 1024 * 1024;
pub const URL_INFO_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_URL_INFO_REDIRECTS: usize = 5;
pub const MAX_URL_INFO_TEXT_CHARS: usize = 1000;

/// `get_url_info` lookups per customer: per second on average, and in a burst. Each one makes
/// this server fetch a page from the Internet for the customer. Ours.
pub const URL_INFO_PER_SECOND: u32 = 1;
pub const URL_INFO_BURST: u32 = 10;

/// Logged-in sockets one customer may have open on one node (SDK docs, "Too many connections":
/// "The Customer has reached the maximum number of connections", no figure given; ours: more
/// browser tabs than a person keeps open, fewer than a script opening sockets in a loop). The
/// newest socket beyond it gets `too_many_connections` and is closed.
pub const MAX_CONNECTIONS_PER_CUSTOMER: usize = 16;

/// A customer refused `too_many_connections` this many times within
/// `TOO_MANY_CONNECTIONS_PERIOD` is refused `customer_temporarily_blocked` for
/// `TEMPORARY_BLOCK` (SDK docs, "Customer temporarily blocked": "tried reconnecting too many
/// times after the too_many_connections error"; figures ours).
pub const TOO_MANY_CONNECTIONS_STRIKES: u32 = 5;
pub const TOO_MANY_CONNECTIONS_PERIOD: Duration = Duration::from_secs(60);
pub const TEMPORARY_BLOCK: Duration = Duration::from_secs(5 * 60);

/// Customers whose `too_many_connections` strikes are tracked at once (per node); past it,
/// those whose strikes and block have lapsed are forgotten first.
pub const MAX_TRACKED_CUSTOMERS: usize = 100_000;

/// Sockets from one client address that have not logged in yet (per node). Beyond it a new
/// socket gets `too_many_unauthorized_connections` and is closed (SDK docs, "Too many
/// unauthorized connections"; figure ours: a socket is unauthorized for the moment between
/// open and login, so even a large NAT has few at once; above the load tool's 64 concurrent
/// setups). `--max-unauthorized-connections-per-address` overrides it (load tests whose
/// thousands of loopback clients reconnect at once).
pub const MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS: usize = 256;

/// A logged-in customer with no chat activity (no request but pings, no push) and no page
/// change for this long gets `inactivity_timeout` (SDK docs, "Inactivity timeout": "didn't
/// chat or change the page in the past 30 minutes").
pub const INACTIVITY_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A greeting rule greets one customer at most once per period (periods are counted from the
/// Unix epoch, so "once a day" is once per UTC day). Ours.
pub const GREETING_RULE_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

/// Greeting rules loaded from `--greetings-file`, and the longest delay one may have. Ours.
pub const MAX_GREETING_RULES: usize = 100;
pub const MAX_GREETING_DELAY: Duration = Duration::from_secs(60 * 60);

/// `GET /v1/greets` is asked on every page of a site that shows greetings, by visitors who are
/// not even chatting: it answers from the rules read at most this long ago, not from the
/// database each time. Ours.
pub const GREETING_RULES_CACHE_TTL: Duration = Duration::from_secs(10);

/// Greeting timers waiting on one node; beyond it the latest are dropped (the customer's next
/// login or page change schedules them again).
pub const MAX_SCHEDULED_GREETINGS: usize = 100_000;

/// Longest ban `ban_customer` takes (Agent Chat Web API v3.6 gives no maximum; ours: ten years).
pub const MAX_BAN_DAYS: u32 = 3650;

/// `multicast`: the largest `content`, as JSON. Ours; the Agent Chat Web API v3.6 reference
/// documents none. Multicasts are not stored, but each is copied to every recipient's sockets.
pub const MAX_MULTICAST_CONTENT_BYTES: usize = 16 * 1024;

/// Chats one agent handles at once unless the agents file sets their `max_chats`: routing
/// assigns a new chat only to an agent accepting chats with fewer active chats than their
/// limit; with every accepting agent at it, chats queue. LiveChat's default concurrent chat
/// limit per agent ("Chat limit", 6). Migration `0009_archives` (`0008` on PostgreSQL) uses
/// the same default.
pub const DEFAULT_MAX_CHATS_PER_AGENT: u32 = 6;

/// The highest `max_chats` the agents file may give an agent.
pub const MAX_CHATS_PER_AGENT_SETTING: u32 = 100;

/// Threads one group's queue holds. A chat that would wait behind this many is refused
/// (`group_unavailable`, RTM reference: "no available slots in the requested group"); it also
/// bounds the queue read after each change, and the `queue_position_updated` pushes it causes.
/// Ours; LiveChat documents none.
pub const MAX_QUEUE_PER_GROUP: i64 = 500;

/// The wait announced per place in the queue (`queue.wait_time`, seconds). LiveChat estimates
/// it from the group's history; until Confab keeps such statistics, a fixed estimate.
pub const QUEUE_WAIT_PER_POSITION_SECS: u32 = 120;

/// Groups read at once (`list_group_statuses {all: true}`, the login's online groups, the
/// groups file), and named in one request. Groups come from the site owner's file, so this
/// only bounds a mistake (or a client listing ids at random).
pub const MAX_GROUPS: i64 = 1000;

/// Agents, or groups, one `transfer_chat` may name in `target.ids` (ours; the Agent Chat Web
/// API v3.6 documents no bound). Each named agent is checked and joins the chat in the one
/// transaction; each group is locked for routing.
pub const MAX_TRANSFER_TARGETS: usize = 10;

/// Tickets per client address (`POST /v2/tickets/new`): per second on average, and in a
/// burst. Each is a database row written without authentication, so tighter than token grants.
pub const TICKETS_PER_ADDRESS_PER_SECOND: u32 = 1;
pub const TICKET_BURST_PER_ADDRESS: u32 = 20;

/// Sizes of a ticket's fields (the Ticket form; ours, generous for a message).
pub const MAX_TICKET_MESSAGE_BYTES: usize = 16 * 1024;
pub const MAX_TICKET_FIELD_BYTES: usize = 512;

/// Agents besides the requester an agent's `start_chat` / `resume_chat` may name in
/// `chat.users` (Agent Chat Web API v3.6: "up to 4 additional agents and 1 customer").
pub const MAX_STARTING_AGENTS: usize = 4;

/// A thread tag's length, and the tags one thread may have (ours; LiveChat's tags are a list
/// the account keeps, short names).
pub const MAX_TAG_BYTES: usize = 64;
pub const MAX_TAGS_PER_THREAD: u64 = 20;

/// Group ids in one listing filter (`list_chats`, `list_archives` `filters.group_ids`:
/// Agent Chat Web API v3.6, "max array size: 200").
pub const MAX_FILTER_GROUP_IDS: usize = 200;

/// `list_archives`: `filters.thread_ids` at most (Agent Chat Web API v3.6, "max array size:
/// 20"); values in one `values` / `exclude_values` list, and surveys in `filters.surveys`
/// (ours); the length of `filters.query` and of a highlight tag (ours).
pub const MAX_ARCHIVE_THREAD_IDS: usize = 20;
pub const MAX_FILTER_VALUES: usize = 100;
pub const MAX_SURVEY_FILTERS: usize = 10;
pub const MAX_ARCHIVE_QUERY_BYTES: usize = 256;
pub const MAX_HIGHLIGHT_TAG_BYTES: usize = 64;

/// Webhooks one client may register for one action (LiveChat: "a limit of three webhooks for
/// every action a Client ID can register"), and the size of a secret key.
pub const MAX_WEBHOOKS_PER_ACTION: u64 = 3;
pub const MAX_WEBHOOK_SECRET_BYTES: usize = 256;

/// Attempts at one webhook call: the first and the retries after a receiver that failed
/// (not 2xx), refused the connection, or did not answer within the timeout.
pub const WEBHOOK_MAX_ATTEMPTS: u32 = 5;
/// How long a receiver has to answer, and the first retry's wait (doubled for each next);
/// `--webhook-timeout-ms` and `--webhook-retry-base-ms` change them (tests use short ones).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
pub const WEBHOOK_RETRY_BASE: Duration = Duration::from_secs(1);

/// Webhook calls waiting to be sent. A full queue drops the newest call (logged as
/// `dropped`) rather than slow chat traffic down.
pub const WEBHOOK_QUEUE: usize = 10_000;
/// Webhook calls in flight at once (each with its retries).
pub const WEBHOOK_CONCURRENCY: usize = 64;
/// How long a node's copy of the registrations may be out of date (a webhook registered
/// on another node is delivered by this one after at most this long).
pub const WEBHOOK_REGISTRY_REFRESH: Duration = Duration::from_secs(2);
/// How long the delivery log keeps an attempt, and how often a node forgets older ones.
pub const WEBHOOK_LOG_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
pub const WEBHOOK_LOG_PRUNE_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Attempts one `list_webhook_deliveries` answers with, at most.
pub const MAX_WEBHOOK_DELIVERIES_READ: u32 = 1000;

/// Agent Chat API calls per agent over the Web API, and per agent socket: per second on
/// average, and in a burst; beyond them `too_many_requests` (429 over HTTP). A bot answers
/// many chats at once: well above the 200 messages/s the latency budget is measured at
/// (`make bench`), which an earlier 50/s refused.
pub const AGENT_CALLS_PER_SECOND: u32 = 500;
pub const AGENT_CALL_BURST: u32 = 1000;

/// How long one Agent Chat API action may take before it is answered `request_timeout`
/// (the reference's threshold), its transaction rolled back.
pub const AGENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The shortest access token the agents file may give an agent (a token is all it takes to act
/// as them).
pub const MIN_AGENT_TOKEN_BYTES: usize = 16;
