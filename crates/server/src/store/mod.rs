//! Storage: customers and their tokens, agents, chats, threads and events, in SQLite through
//! sqlx. The database file is created and migrated on start (`Store::open`), in WAL mode.
//!
//! Writes go through one in-process lock (`write`), so a read-then-write such as "does this
//! customer have a chat yet?" is atomic without SQLite's busy/upgrade dance. Reads run in
//! parallel on the pool.
//!
//! Access is checked here, by [`Requester`]: a customer sees and writes only their own chat
//! (another chat is `not_found`, so ids leak nothing); an agent sees every chat.

mod chats;
mod identity;
mod paging;

pub use chats::{Added, Started};
pub use identity::AgentSeed;
pub use paging::Page;

use crate::error::Result;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;

/// Who is asking: decides what they may see and write.
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    Customer(&'a str),
    Agent(&'a str),
}

impl Requester<'_> {
    pub fn id(&self) -> &str {
        match self {
            Requester::Customer(id) | Requester::Agent(id) => id,
        }
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database `{0}:`; this version supports SQLite URLs (sqlite://PATH)")]
    Unsupported(String),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub struct Store {
    pool: SqlitePool,
    write: Mutex<()>,
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`, e.g.
    /// `sqlite:///var/lib/confab/confab.db` or `sqlite::memory:`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Unsupported(url.split(':').next().unwrap_or(url).to_owned()));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database exists once per connection: keep exactly one.
        let max = if url.contains(":memory:") { 1 } else { 8 };
        let pool = SqlitePoolOptions::new().max_connections(max).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool, write: Mutex::new(()) })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, as the wire writes times: RFC 3339, microseconds, UTC.
pub fn timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random id of `[A-Z0-9]`, like LiveChat's chat and thread ids.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// 256 random bits, base64url: access tokens and cookie secrets.
pub fn random_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored hashed: a leaked database does not leak live tokens.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
