//! The command line. Every flag is also an environment variable, so the server is as easy to
//! run from a shell as from a service manager or a container.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The organization the demo uses when none is given. Any UUID works; this one is fixed so that
/// the demo site, tests and scripts agree without configuration.
pub const DEMO_ORGANIZATION_ID: &str = "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "confab-server",
    version,
    about = "Confab: a self-hostable live-chat server.",
    long_about = "Confab: a self-hostable live-chat server.\n\n\
        Serves the Customer Chat API v3.5 (RTM WebSocket, customer tokens), the Agent Chat Web API v3.6, \
        the loader script (/confab.js), the chat widget (/widget/) and, with --site-listen, a demo website \
        on a second origin. Data lives in SQLite (created and migrated on start).\n\n\
        Prints one line when ready: its URLs and the agent access token."
)]
pub struct Config {
    /// Address of the API and widget origin.
    #[arg(long, env = "CONFAB_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Address of the demo website (a second origin that embeds the widget). Off when absent.
    #[arg(long, env = "CONFAB_SITE_LISTEN", value_name = "ADDR")]
    pub site_listen: Option<SocketAddr>,

    /// The URL browsers reach the API origin at, if not http://<listen> (behind a proxy, say).
    #[arg(long, env = "CONFAB_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Database URL: `sqlite://PATH`, or `postgres://USER@HOST/DB` for several nodes sharing
    /// one database. Default: a SQLite file `confab.db` in --data-dir.
    #[arg(long, env = "CONFAB_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,

    /// Directory for the default SQLite database (created if missing).
    #[arg(long, env = "CONFAB_DATA_DIR", default_value = "confab-data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// The organization this server serves (clients pass it as `organization_id`).
    #[arg(long, env = "CONFAB_ORGANIZATION_ID", default_value = DEMO_ORGANIZATION_ID, value_name = "UUID", value_parser = parse_uuid)]
    pub organization_id: String,

    /// Access token of the first agent. Random, and printed, when absent.
    #[arg(long, env = "CONFAB_AGENT_TOKEN", value_name = "TOKEN")]
    pub agent_token: Option<String>,

    /// An origin allowed to embed the widget and open customer sockets (repeatable; the
    /// environment variable takes a comma-separated list). The API's own origin and the demo
    /// site's are always allowed.
    #[arg(long = "allowed-origin", env = "CONFAB_ALLOWED_ORIGINS", value_delimiter = ',', value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,

    /// Customer access token lifetime (seconds). For tests.
    #[arg(long, hide = true, env = "CONFAB_CUSTOMER_TOKEN_TTL_SECS", default_value_t = crate::limits::CUSTOMER_TOKEN_TTL.as_secs())]
    pub customer_token_ttl_secs: u64,

    /// A proxy or load balancer in front of this server whose `X-Forwarded-For` header names
    /// the real client (repeatable; comma-separated in the environment variable).
    #[arg(long = "trusted-proxy", env = "CONFAB_TRUSTED_PROXIES", value_delimiter = ',', value_name = "IP")]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Customer token grants per client address and second, and their burst. For load tests.
    #[arg(long, hide = true, env = "CONFAB_TOKEN_GRANTS_PER_SECOND", default_value_t = crate::limits::TOKEN_GRANTS_PER_ADDRESS_PER_SECOND)]
    pub token_grants_per_second: u32,
    #[arg(long, hide = true, env = "CONFAB_TOKEN_GRANT_BURST", default_value_t = crate::limits::TOKEN_GRANT_BURST_PER_ADDRESS)]
    pub token_grant_burst: u32,

    /// New customers per client address and second, and their burst. For load tests.
    #[arg(long, hide = true, env = "CONFAB_NEW_CUSTOMERS_PER_SECOND", default_value_t = crate::limits::NEW_CUSTOMERS_PER_ADDRESS_PER_SECOND)]
    pub new_customers_per_second: u32,
    #[arg(long, hide = true, env = "CONFAB_NEW_CUSTOMER_BURST", default_value_t = crate::limits::NEW_CUSTOMER_BURST_PER_ADDRESS)]
    pub new_customer_burst: u32,

    /// An address `get_url_info` may fetch from although it is loopback, private or otherwise
    /// not public (repeatable; comma-separated in the environment variable). None by default:
    /// for tests, which serve pages on loopback.
    #[arg(
        long = "url-info-allow-private",
        hide = true,
        env = "CONFAB_URL_INFO_ALLOW_PRIVATE",
        value_delimiter = ',',
        value_name = "IP"
    )]
    pub url_info_allow_private: Vec<std::net::IpAddr>,

    /// How long a webhook receiver has to answer (milliseconds). For tests.
    #[arg(long, hide = true, env = "CONFAB_WEBHOOK_TIMEOUT_MS", default_value_t = crate::limits::WEBHOOK_TIMEOUT.as_millis() as u64)]
    pub webhook_timeout_ms: u64,

    /// The wait before a webhook call's first retry, doubled for each next (milliseconds).
    /// For tests.
    #[arg(long, hide = true, env = "CONFAB_WEBHOOK_RETRY_BASE_MS", default_value_t = crate::limits::WEBHOOK_RETRY_BASE.as_millis() as u64)]
    pub webhook_retry_base_ms: u64,

    /// Sockets not yet logged in per client address and node. For load tests.
    #[arg(long, hide = true, env = "CONFAB_MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS", default_value_t = crate::limits::MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS)]
    pub max_unauthorized_connections_per_address: usize,

    /// Greeting rules: a JSON array of `{"text", "agent_id", "url_contains"?, "delay_secs"?,
    /// "subtype"?}`, shown to customers whose page URL contains `url_contains` after
    /// `delay_secs` on it (at most once a day per rule and customer). Replaces the stored rules
    /// on start; without it they are kept (none at first).
    #[arg(long, env = "CONFAB_GREETINGS_FILE", value_name = "FILE")]
    pub greetings_file: Option<PathBuf>,

    /// A JSON file of agents to create or update on start, each with their own access token:
    /// `[{"id": "sam@shop.example", "name": "Sam Lee", "job_title"?: "Support", "token": "…",
    /// "role"?: "agent" | "administrator", "max_chats"?: 1–100 (default 6)}]`. Applied before
    /// `--groups-file`, which may name them. The first agent (`--agent-token`) is always there,
    /// an administrator.
    #[arg(long, env = "CONFAB_AGENTS_FILE", value_name = "PATH")]
    pub agents_file: Option<PathBuf>,

    /// A JSON file of groups to create or update on start: `[{"id": 1, "name": "Sales",
    /// "agents": ["alex@confab.example"], "forms": {"prechat": {"id": "…", "fields": […]},
    /// "ticket": null}, "offline_chats": true}]`. Group 0 ("General") always exists.
    #[arg(long, env = "CONFAB_GROUPS_FILE", value_name = "PATH")]
    pub groups_file: Option<PathBuf>,

    /// Directory of the built widget, served at /widget/.
    #[arg(long, env = "CONFAB_WIDGET_DIR", default_value = "dist/widget", value_name = "DIR")]
    pub widget_dir: PathBuf,
}

fn parse_uuid(value: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(value).map(|u| u.to_string()).map_err(|e| format!("not a UUID: {e}"))
}

impl Config {
    /// The database URL to open.
    pub fn database_url(&self) -> String {
        self.database.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("confab.db").display()))
    }
}

/// `http://<addr>`, with an unspecified address (0.0.0.0) shown as 127.0.0.1.
pub fn url_of(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("http://127.0.0.1:{}", addr.port()) } else { format!("http://{addr}") }
}
