//! Every limit the server enforces, in one place, with the document that motivates it.

use std::time::Duration;

/// A socket that has not logged in within this time is closed (RTM reference v3.2: "the server
/// closes connections that do not log in within 30 s"; protocol.md §5).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest RTM frame accepted from a client. A message of `MAX_MESSAGE_TEXT_BYTES` plus its
/// envelope fits; anything larger is refused by the WebSocket layer before it is buffered.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

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

/// Chats one agent handles at once: routing assigns a new chat only to an agent accepting
/// chats with fewer active chats than this; with every accepting agent at it, chats queue.
/// LiveChat's default concurrent chat limit per agent ("Chat limit", 6); ours is not per agent
/// yet.
pub const MAX_CHATS_PER_AGENT: i64 = 6;

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

/// Tickets per client address (`POST /v2/tickets/new`): per second on average, and in a
/// burst. Each is a database row written without authentication, so tighter than token grants.
pub const TICKETS_PER_ADDRESS_PER_SECOND: u32 = 1;
pub const TICKET_BURST_PER_ADDRESS: u32 = 20;

/// Sizes of a ticket's fields (the Ticket form; ours, generous for a message).
pub const MAX_TICKET_MESSAGE_BYTES: usize = 16 * 1024;
pub const MAX_TICKET_FIELD_BYTES: usize = 512;
