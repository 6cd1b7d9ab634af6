//! Storage: one seam over two backends, SQLite (embedded default) and PostgreSQL (several
//! nodes). sqlx drives both.
//!
//! The store is dumb on purpose: it runs statements and maps rows, and knows no rule of the
//! product. The rules (who may do what, which state change causes which domain event) live in
//! `domain`, which asks for a connection, runs statements on it and commits.
//!
//! - [`Store::write`] opens a write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock
//!   up front, so two writers never deadlock on a lock upgrade), `BEGIN` on PostgreSQL, where
//!   the first `UPDATE … RETURNING` of a chat row locks that chat until commit.
//! - [`Store::read`] lends a pooled connection for reads.
//!
//! Correctness comes from the database, never from a lock in this process: one chat per
//! customer, one active thread per chat and one sequence number per event within its chat are
//! unique constraints, and the counters they depend on are read and bumped in the same
//! transaction (`UPDATE chats SET last_seq = last_seq + 1 … RETURNING`). So any number of
//! nodes can write to one PostgreSQL database at once.
//!
//! SQL is written once with numbered parameters (`$1`), which both backends read. Where the
//! dialects differ, [`Conn::pick`] chooses the backend's text, and the migrations are kept per
//! backend (`migrations/sqlite`, `migrations/postgres`). One conformance suite
//! (`tests/store_conformance.rs`) runs against both.

/// Runs a statement on a [`Conn`]; evaluates to the number of rows it changed.
/// `exec!(conn, "UPDATE … WHERE id = $1", id)`.
macro_rules! exec {
    ($conn:expr, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let conn: &mut $crate::store::Conn = $conn;
        let sql: &str = $sql;
        match conn {
            $crate::store::Conn::Sqlite(c) => {
                sqlx::query(sql)$(.bind($arg))*.execute(c.connection()).await?.rows_affected()
            }
            $crate::store::Conn::Postgres(c) => {
                sqlx::query(sql)$(.bind($arg))*.execute(c.connection()).await?.rows_affected()
            }
        }
    }};
}

/// Runs a query on a [`Conn`] and maps its rows to `T` (a `sqlx::FromRow`, tuples included):
/// `fetch!(conn, fetch_optional (String,), "SELECT id FROM chats WHERE customer_id = $1", id)`.
/// `fetch_one` → `T`, `fetch_optional` → `Option<T>`, `fetch_all` → `Vec<T>`.
macro_rules! fetch {
    ($conn:expr, $how:ident $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let conn: &mut $crate::store::Conn = $conn;
        let sql: &str = $sql;
        match conn {
            $crate::store::Conn::Sqlite(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$how(c.connection()).await?
            }
            $crate::store::Conn::Postgres(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$how(c.connection()).await?
            }
        }
    }};
}

/// `fetch!` for an `IN` list: binds `$args`, then each of `$ids` (the `IN` placeholders come
/// last), and fetches all rows.
macro_rules! fetch_in {
    ($conn:expr, $row:ty, $sql:expr, $ids:expr $(, $arg:expr)*) => {{
        let conn: &mut $crate::store::Conn = $conn;
        let sql: &str = $sql;
        match conn {
            $crate::store::Conn::Sqlite(c) => {
                let mut query = sqlx::query_as::<_, $row>(sql)$(.bind($arg))*;
                for id in $ids {
                    query = query.bind(id);
                }
                query.fetch_all(c.connection()).await?
            }
            $crate::store::Conn::Postgres(c) => {
                let mut query = sqlx::query_as::<_, $row>(sql)$(.bind($arg))*;
                for id in $ids {
                    query = query.bind(id);
                }
                query.fetch_all(c.connection()).await?
            }
        }
    }};
}

#[allow(unused_imports)] // `exec!` is used by path only where `fetch!` is.
pub(crate) use {exec, fetch, fetch_in};

mod archives;
mod chat_state;
mod chats;
mod following;
mod greetings;
mod identity;
mod paging;
mod routing;
mod sql;
mod uploads;
mod webhooks;

pub use archives::{ArchiveRow, check_archive_filters};
pub use chat_state::StoredEvent;
pub use chats::{ChatFilters, ChatRow, EventRow, Reader, ThreadRow, agent_access, group_condition, order};
pub use greetings::{GreetingRow, GreetingRuleRow};
pub use identity::{AgentSeed, CustomerRow};
pub use paging::{Filtered, Page, list_threads_page};
pub use routing::{Candidate, GroupAvailability, GroupRow, QueuedThread, TicketRow};
pub use sql::{Arg, Sql};
pub use uploads::UploadRow;
pub use webhooks::{DeliveryRow, WebhookRow};

use crate::clock::Micros;
use crate::error::Result;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// SQLite readers (WAL lets them run beside the one writer).
const SQLITE_READERS: u32 = 4;
/// PostgreSQL connections per node.
const POSTGRES_CONNECTIONS: u32 = 16;
/// How long a statement waits for a lock another connection holds.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database `{0}:`; use sqlite://PATH or postgres://USER@HOST/DB")]
    Unsupported(String),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone)]
pub enum Store {
    /// One writer connection (SQLite has one write lock anyway; queueing here is cheaper than
    /// its busy-wait) and a pool of readers.
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`:
    /// `sqlite:///var/lib/confab/confab.db`, `sqlite::memory:`, or `postgres://…`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split(':').next().unwrap_or(url);
        match scheme {
            "sqlite" => Self::open_sqlite(url).await,
            "postgres" | "postgresql" => Self::open_postgres(url).await,
            other => Err(StoreError::Unsupported(other.to_owned())),
        }
    }

    async fn open_sqlite(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Durable across a crash of the process (kill -9); not across power loss.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(LOCK_TIMEOUT);
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        // An in-memory database exists once per connection: readers share the writer's.
        let readers = if url.contains(":memory:") {
            writer.clone()
        } else {
            SqlitePoolOptions::new().max_connections(SQLITE_READERS).connect_with(options.read_only(true)).await?
        };
        Ok(Store::Sqlite { writer, readers })
    }

    async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let lock_timeout = format!("{}ms", LOCK_TIMEOUT.as_millis());
        let options = PgConnectOptions::from_str(url)?.options([("lock_timeout", lock_timeout.as_str())]);
        let pool = PgPoolOptions::new().max_connections(POSTGRES_CONNECTIONS).connect_with(options).await?;
        // Nodes starting together are fine: sqlx migrates under an advisory lock.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store::Postgres { pool })
    }

    /// A write transaction; nothing is kept unless [`Conn::commit`] is called.
    pub async fn write(&self) -> Result<Conn> {
        Ok(match self {
            Store::Sqlite { writer, .. } => Conn::Sqlite(Held::Tx(writer.begin_with("BEGIN IMMEDIATE").await?)),
            Store::Postgres { pool, .. } => Conn::Postgres(Held::Tx(pool.begin().await?)),
        })
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Conn> {
        Ok(match self {
            Store::Sqlite { readers, .. } => Conn::Sqlite(Held::Pooled(readers.acquire().await?)),
            Store::Postgres { pool, .. } => Conn::Postgres(Held::Pooled(pool.acquire().await?)),
        })
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Store::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// A connection lent for one unit of work: a pooled connection, or a transaction on one.
pub enum Held<DB: Database> {
    Pooled(PoolConnection<DB>),
    Tx(Transaction<'static, DB>),
}

impl<DB: Database> Held<DB> {
    pub fn connection(&mut self) -> &mut DB::Connection {
        match self {
            Held::Pooled(connection) => connection,
            Held::Tx(tx) => tx,
        }
    }

    async fn commit(self) -> Result<()> {
        if let Held::Tx(tx) = self {
            tx.commit().await?;
        }
        Ok(())
    }
}

/// A connection of either backend. Statements run on it through [`exec!`] and [`fetch!`].
pub enum Conn {
    Sqlite(Held<Sqlite>),
    Postgres(Held<Postgres>),
}

impl Conn {
    /// Keeps what this transaction wrote (a no-op for a read connection). Dropping a `Conn`
    /// without committing rolls back.
    pub async fn commit(self) -> Result<()> {
        match self {
            Conn::Sqlite(held) => held.commit().await,
            Conn::Postgres(held) => held.commit().await,
        }
    }

    /// The statement text for this backend, where the dialects differ.
    pub fn pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Conn::Sqlite(_) => sqlite,
            Conn::Postgres(_) => postgres,
        }
    }
}

/// The PostgreSQL channel on which committed domain events are announced to every node.
pub const BUS_CHANNEL: &str = "confab_domain";

impl Conn {
    /// Whether other nodes may need this transaction's domain events (PostgreSQL: any number
    /// of nodes share it; SQLite is embedded in one).
    pub fn needs_bus(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// Records `payload` (the transaction's domain events) in the log and announces it with
    /// `NOTIFY`, both taking effect at commit. The announcement carries a reference
    /// (`<node>:<log id>`), not the events: NOTIFY payloads are capped at 8000 bytes.
    pub async fn publish(&mut self, node_id: &str, now: Micros, payload: &str) -> Result<()> {
        // One round trip for both.
        exec!(
            self,
            "WITH entry AS (INSERT INTO domain_log (node_id, created_at, event) VALUES ($1, $2, $3) RETURNING id)
             SELECT pg_notify($4, $1 || ':' || entry.id) FROM entry",
            node_id,
            now.0,
            payload,
            BUS_CHANNEL
        );
        Ok(())
    }

    /// Log entries `ids` (announced on the bus), as `(id, node, payload)`.
    pub async fn logged(&mut self, ids: &[i64]) -> Result<Vec<(i64, String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!("SELECT id, node_id, event FROM domain_log WHERE id IN ({}) ORDER BY id", list.join(", "));
        Ok(fetch!(self, fetch_all(i64, String, String), &sql))
    }

    /// Log entries committed at or after `since`, oldest first: what a node that lost its
    /// listener may have missed.
    pub async fn logged_since(&mut self, since: Micros) -> Result<Vec<(i64, String, String)>> {
        Ok(fetch!(
            self,
            fetch_all(i64, String, String),
            "SELECT id, node_id, event FROM domain_log WHERE created_at >= $1 ORDER BY id",
            since.0
        ))
    }

    /// Forgets log entries older than `before`.
    pub async fn prune_log(&mut self, before: Micros) -> Result<u64> {
        Ok(exec!(self, "DELETE FROM domain_log WHERE created_at < $1", before.0))
    }
}

/// `($1, $2, …)` from `first`: the placeholders of an `IN` list of `count` values.
pub fn placeholders(first: usize, count: usize) -> String {
    let list: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Whether a database error is a unique-constraint violation (a race lost to another writer).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// A random id of `[A-Z0-9]`, like LiveChat's chat and thread ids.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// 256 random bits, base64url: access tokens, cookie secrets, signing keys.
pub fn random_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored hashed: a leaked database does not leak live credentials.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
