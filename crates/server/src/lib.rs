//! confab-server: the self-hostable Confab backend.
//!
//! # Layout
//!
//! - [`config`]: the command line (clap; every flag also an environment variable).
//! - [`Server::start`]: binds the listeners, opens the store, seeds the first agent, serves.
//! - [`app`]: the API + widget origin's router; [`assets::demo_site`]: the demo website's.
//! - [`customer::token`]: customer tokens by cookie grant; [`customer::rtm`]: the customer
//!   WebSocket (Customer Chat API v3.5).
//! - [`agent`]: the Agent Chat Web API v3.6.
//! - [`domain`]: every state change (validate, commit in one transaction, return domain
//!   events) and the reads, with who-may-see-what.
//! - [`fanout`]: domain events → pushes (recipients in one place) → this node's sockets
//!   ([`fanout::hub`]) and, on PostgreSQL, other nodes' ([`fanout::bus`]).
//! - [`store`]: SQLite or PostgreSQL through sqlx, one seam; [`clock`]: the one clock.
//! - [`error`]: the one error type, rendering the APIs' error shape.
//! - [`limits`]: every enforced limit ([`rate`]: the token buckets behind the rate limits);
//!   [`shutdown`]: graceful shutdown as an object.
//!
//! A message's way through: a customer socket's `send_event` → `domain.send_event` (commits,
//! returns `EventAdded`) → response on that socket → `fanout.deliver`: the requester's copy
//! with its `request_id`, everyone else's on their sockets here, and (PostgreSQL) the other
//! nodes' through the bus. An agent's `send_event` over HTTP takes the same domain and fan-out
//! path.

pub mod agent;
pub mod assets;
pub mod clock;
pub mod config;
pub mod configuration;
pub mod customer;
pub mod domain;
pub mod error;
pub mod fanout;
pub mod greeter;
pub mod limits;
pub mod rate;
pub mod shutdown;
pub mod store;
pub mod url_info;
pub mod webhooks;

use crate::clock::Clock;
use crate::config::{Config, url_of};
use crate::domain::Domain;
use crate::error::Error;
use crate::fanout::Fanout;
use crate::fanout::bus::BusStats;
use crate::greeter::Greeter;
use crate::limits::{
    MAX_HTTP_BODY_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOAD_OVERHEAD_BYTES, SHUTDOWN_GRACE, TEMPORARY_BLOCK,
    TOO_MANY_CONNECTIONS_PERIOD, TOO_MANY_CONNECTIONS_STRIKES,
};
use crate::rate::{AddressLimiter, PendingSockets, Strikes};
use crate::shutdown::Shutdown;
use crate::store::{AgentSeed, Store};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::routing::{get, post};
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Settings known once the listeners are bound.
#[derive(Debug, Clone)]
pub struct Settings {
    pub organization_id: String,
    /// The API and widget origin as browsers see it, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// The demo website's origin, when it is served.
    pub site_url: Option<String>,
    /// Origins that may open customer sockets, call the token endpoint with credentials, and
    /// frame the widget.
    pub allowed_origins: Vec<String>,
    pub widget_dir: PathBuf,
    /// `LOGIN_TIMEOUT`.
    pub login_timeout: std::time::Duration,
    /// Proxies (nginx, a load balancer) whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpAddr>,
    /// `MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS`, unless the command line says otherwise.
    pub max_unauthorized_connections_per_address: usize,
}

impl Settings {
    fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Browsers count a loopback origin as secure even over plain HTTP (a local demo, the e2e
    /// tests), so `Secure` cookies work there.
    fn is_secure_context(&self) -> bool {
        let authority = self.public_url.split_once("://").map_or("", |(_, rest)| rest);
        let host_port = authority.split('/').next().unwrap_or("");
        let host = match host_port.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => host_port,
        };
        self.is_https() || matches!(host, "127.0.0.1" | "localhost" | "[::1]")
    }

    /// A browser's request must come from an allowed origin; a request without `Origin` is not
    /// from a browser page and is left to authentication.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Error> {
        match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")) {
            None => Ok(()),
            Some(origin) if self.allowed_origins.iter().any(|a| a == origin) => Ok(()),
            Some(origin) => {
                Err(Error::new(confab_protocol::ErrorType::Authorization, format!("Origin {origin} is not allowed")))
            }
        }
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not one (nginx appends the address it saw).
    pub fn client_address(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.ip();
        if !self.trusted_proxies.contains(&client) {
            return client;
        }
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|a| a.trim().parse().ok()).collect();
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.trusted_proxies.contains(&hop) {
                break;
            }
        }
        client
    }

    /// Identity cookie attributes. Over HTTPS they work in third-party iframes
    /// (`SameSite=None; Secure`), partitioned by the embedding site (CHIPS: browsers that
    /// block third-party cookies still keep these, and one visitor is not followed from site to
    /// site); plain HTTP (local demos) gets `Lax`.
    pub fn cookie_attributes(&self, path: &str, max_age: u64) -> String {
        let same_site = if self.is_secure_context() { "SameSite=None; Secure; Partitioned" } else { "SameSite=Lax" };
        format!("Path={path}; Max-Age={max_age}; HttpOnly; {same_site}")
    }

    /// The widget document's Content-Security-Policy: its own scripts and wasm, its own API
    /// (HTTP and WebSocket), and framing only by allowed origins.
    pub fn widget_csp(&self) -> String {
        let ws = self.public_url.replacen("http", "ws", 1);
        let ancestors = self.allowed_origins.join(" ");
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             connect-src 'self' {ws}; img-src 'self' data: https:; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'self' {ancestors}"
        )
    }
}

/// The token endpoint's per-address limits.
pub struct TokenLimits {
    pub grants: AddressLimiter,
    pub new_customers: AddressLimiter,
    /// `POST /v2/tickets/new`.
    pub tickets: AddressLimiter,
}

pub struct AppStateInner {
    pub domain: Arc<Domain>,
    pub fanout: Arc<Fanout>,
    pub settings: Settings,
    pub shutdown: Shutdown,
    pub token_limits: TokenLimits,
    pub bus: Arc<BusStats>,
    /// Uploaded files on disk and the upload rate.
    pub uploads: customer::upload::Uploads,
    /// `get_url_info`'s guarded fetcher and its rate.
    pub url_info: url_info::UrlInfoFetcher,
    /// Greetings waiting for their delay.
    pub greeter: Arc<Greeter>,
    /// Sockets not logged in yet, per client address (`too_many_unauthorized_connections`).
    pub pending_sockets: Arc<PendingSockets>,
    /// Customers refused `too_many_connections` (`customer_temporarily_blocked`).
    pub connection_strikes: Strikes,
    /// Registered webhooks and the calls on their way.
    pub webhooks: Arc<webhooks::Webhooks>,
    /// Agent Chat Web API calls per agent (`AGENT_CALLS_PER_SECOND`).
    pub agent_calls: rate::UserLimiter,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// A WebSocket upgrade with this server's buffers and frame limit (`MAX_FRAME_BYTES`: a larger
/// frame is refused from its header, before buffering).
pub(crate) fn bounded_socket(ws: axum::extract::ws::WebSocketUpgrade) -> axum::extract::ws::WebSocketUpgrade {
    use crate::limits::{MAX_FRAME_BYTES, WS_READ_BUFFER_BYTES, WS_WRITE_BUFFER_BYTES};
    ws.read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
}

/// A request body, with a too-large or unreadable body reported in the API's error shape.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = Error;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Error> {
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        Ok(Body(bytes))
    }
}

impl From<axum::extract::rejection::BytesRejection> for Error {
    fn from(rejection: axum::extract::rejection::BytesRejection) -> Self {
        Error::new(
            confab_protocol::ErrorType::EntityTooLarge,
            format!("Request body is too large or unreadable: {}", rejection.body_text()),
        )
    }
}

/// The API and widget origin: customer tokens and socket, Agent Web API, loader, widget.
pub fn app(state: AppState) -> Router {
    let origins: Vec<HeaderValue> =
        state.settings.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    // Customer endpoints are called by pages on allowed origins, with cookies.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    let customer = Router::new()
        .route("/v2/customer/token", post(customer::token::grant))
        .route("/customer/token", post(customer::token::grant))
        .route("/v2/tickets/new", post(customer::tickets::new_ticket))
        .route("/v1/greets", get(customer::greets::greets))
        // Every version, so that one this server does not speak hears `unsupported_version`.
        .route("/{version}/customer/rtm/ws", get(customer::rtm::upgrade))
        .route("/v3.5/customer/action/upload_file", upload_route(customer::upload::customer_upload))
        .route("/v3.2/customer/action/upload_file", upload_route(customer::upload::customer_upload))
        .layer(cors);
    Router::new()
        .merge(customer)
        .route("/v3.6/agent/action/upload_file", upload_route(customer::upload::agent_upload))
        .route("/v3.6/agent/action/{action}", post(agent::action))
        .route("/v3.6/agent/rtm/ws", get(agent::rtm::upgrade))
        .route("/v3.6/configuration/action/{action}", post(configuration::action))
        .route("/files/{id}/{name}", get(customer::upload::serve))
        .route("/confab.js", assets::loader_route())
        .route("/healthz", get(|| async { "ok" }))
        .merge(assets::widget(&state))
        .fallback(|| async { Error::not_found("No such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_HTTP_BODY_BYTES))
        .with_state(state)
}

/// An upload endpoint: its body may hold a whole file (`MAX_UPLOAD_BYTES`), streamed.
fn upload_route<H, T>(handler: H) -> axum::routing::MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let limit = usize::try_from(MAX_UPLOAD_BYTES).unwrap_or(usize::MAX).saturating_add(MAX_UPLOAD_OVERHEAD_BYTES);
    post(handler).layer(DefaultBodyLimit::max(limit))
}

/// The fixed identity of the first agent.
pub fn first_agent() -> AgentSeed {
    AgentSeed {
        id: "alex@confab.example".into(),
        name: "Alex Morgan".into(),
        job_title: "Support Agent".into(),
        role: "administrator".into(),
        max_chats: limits::DEFAULT_MAX_CHATS_PER_AGENT,
    }
}

pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// A running server.
pub struct Server {
    pub api_addr: SocketAddr,
    pub site_addr: Option<SocketAddr>,
    pub state: AppState,
    /// The first agent's access token (as given, or generated).
    pub agent_token: String,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Binds, opens and migrates the store, seeds the first agent, and starts serving.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        Self::start_with_clock(config, Clock::system()).await
    }

    /// [`Server::start`] on a given clock (tests pass a manual one).
    pub async fn start_with_clock(config: Config, clock: Clock) -> Result<Server, StartError> {
        let api_listener = tokio::net::TcpListener::bind(config.listen).await?;
        let api_addr = api_listener.local_addr()?;
        let site_listener = match config.site_listen {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        let site_addr = site_listener.as_ref().map(|l| l.local_addr()).transpose()?;

        let public_url = config.public_url.clone().unwrap_or_else(|| url_of(api_addr)).trim_end_matches('/').to_owned();
        let site_url = site_addr.map(url_of);
        let mut allowed_origins = config.allowed_origins.clone();
        allowed_origins.push(public_url.clone());
        allowed_origins.extend(site_url.clone());
        allowed_origins.sort();
        allowed_origins.dedup();

        if config.database.is_none() {
            std::fs::create_dir_all(&config.data_dir)?;
        }
        let store = Store::open(&config.database_url()).await?;
        let token_ttl = std::time::Duration::from_secs(config.customer_token_ttl_secs);
        let files_url = format!("{public_url}{}", domain::uploads::FILES_PATH);
        let domain = Arc::new(Domain::new(store, clock.clone(), token_ttl).await?.with_files_url(files_url));
        let agent_token = config.agent_token.clone().unwrap_or_else(store::random_secret);
        domain.upsert_agent(&first_agent(), &agent_token).await?;
        if let Some(path) = &config.greetings_file {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let rules: Vec<domain::GreetingRule> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            domain
                .set_greeting_rules(&rules)
                .await
                .map_err(|e| format!("{}: {}", path.display(), e.to_api().message))?;
        }
        if let Some(path) = &config.agents_file {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let agents = domain::parse_agents_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            for (seed, token) in &agents {
                domain
                    .upsert_agent(seed, token)
                    .await
                    .map_err(|e| format!("{}: {}", path.display(), e.to_api().message))?;
            }
        }
        if let Some(path) = &config.groups_file {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let groups = domain::parse_groups_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            domain.apply_groups(&groups).await.map_err(|e| format!("{}: {}", path.display(), e.to_api().message))?;
        }
        if !config.widget_dir.join("index.html").exists() {
            tracing::warn!(dir = %config.widget_dir.display(), "the widget is not built here; /widget/ will 404 (run `make widget`)");
        }

        let settings = Settings {
            organization_id: config.organization_id.clone(),
            public_url,
            site_url,
            allowed_origins,
            widget_dir: config.widget_dir.clone(),
            login_timeout: crate::limits::LOGIN_TIMEOUT,
            trusted_proxies: config.trusted_proxies.clone(),
            max_unauthorized_connections_per_address: config.max_unauthorized_connections_per_address,
        };
        let shutdown = Shutdown::new();
        let fanout = Arc::new(Fanout::default());
        let timing = webhooks::WebhookTiming {
            timeout: std::time::Duration::from_millis(config.webhook_timeout_ms),
            retry_base: std::time::Duration::from_millis(config.webhook_retry_base_ms),
        };
        let webhooks = Arc::new(webhooks::Webhooks::new(config.organization_id.clone(), timing));
        webhooks.clone().start(domain.clone(), shutdown.clone());
        let _ = fanout.webhooks.set(webhooks.clone());
        let bus = Arc::new(BusStats::default());
        fanout::bus::start(domain.clone(), fanout.clone(), bus.clone(), shutdown.clone()).await?;
        let token_limits = TokenLimits {
            grants: AddressLimiter::new(config.token_grants_per_second, config.token_grant_burst),
            new_customers: AddressLimiter::new(config.new_customers_per_second, config.new_customer_burst),
            tickets: AddressLimiter::new(
                crate::limits::TICKETS_PER_ADDRESS_PER_SECOND,
                crate::limits::TICKET_BURST_PER_ADDRESS,
            ),
        };
        let greeter = Arc::new(Greeter::default());
        greeter.clone().start(domain.clone(), fanout.clone(), shutdown.clone());
        let state = AppState(Arc::new(AppStateInner {
            domain,
            fanout,
            settings,
            shutdown: shutdown.clone(),
            token_limits,
            bus,
            uploads: customer::upload::Uploads::new(&config.data_dir)?,
            url_info: url_info::UrlInfoFetcher::new(clock, config.url_info_allow_private.clone()),
            greeter,
            pending_sockets: Arc::default(),
            webhooks,
            agent_calls: rate::UserLimiter::new(crate::limits::AGENT_CALLS_PER_SECOND, crate::limits::AGENT_CALL_BURST),
            connection_strikes: Strikes::new(
                TOO_MANY_CONNECTIONS_STRIKES,
                TOO_MANY_CONNECTIONS_PERIOD,
                TEMPORARY_BLOCK,
            ),
        }));

        let mut tasks = Vec::new();
        let stop = shutdown.clone();
        let api = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tasks.push(tokio::spawn(
            axum::serve(api_listener, api).with_graceful_shutdown(async move { stop.signalled().await }).into_future(),
        ));
        if let Some(listener) = site_listener {
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(
                axum::serve(listener, assets::demo_site(state.clone()))
                    .with_graceful_shutdown(async move { stop.signalled().await })
                    .into_future(),
            ));
        }
        Ok(Server { api_addr, site_addr, state, agent_token, tasks })
    }

    /// The one line printed when ready.
    pub fn ready_line(&self) -> String {
        let settings = &self.state.settings;
        let site = settings.site_url.as_deref().map(|u| format!(" | demo site {u}/")).unwrap_or_default();
        format!(
            "confab-server ready: api {url} | widget {url}/widget/ | agent api {url}/v3.6/agent/action/{site} | agent token {token}",
            url = settings.public_url,
            token = self.agent_token
        )
    }

    /// Shuts down gracefully: stop accepting, say goodbye on every socket, wait for them (at
    /// most `SHUTDOWN_GRACE`), close the store.
    pub async fn shutdown(self) {
        self.state.shutdown.signal();
        if !self.state.shutdown.drain(SHUTDOWN_GRACE).await {
            tracing::warn!("some sockets did not close within {SHUTDOWN_GRACE:?}");
        }
        for task in self.tasks {
            let _ = task.await;
        }
        self.state.domain.store.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    fn settings(public_url: &str) -> Settings {
        Settings {
            organization_id: "org".into(),
            public_url: public_url.into(),
            site_url: None,
            allowed_origins: vec![],
            widget_dir: "dist/widget".into(),
            login_timeout: crate::limits::LOGIN_TIMEOUT,
            trusted_proxies: vec![],
            max_unauthorized_connections_per_address: 1,
        }
    }

    #[test]
    fn identity_cookies_are_partitioned_wherever_the_browser_allows_secure_cookies() {
        for secure in ["https://chat.example.com", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:80"]
        {
            let attributes = settings(secure).cookie_attributes("/v2/customer", 60);
            assert!(attributes.ends_with("SameSite=None; Secure; Partitioned"), "{secure}: {attributes}");
        }
        // Plain HTTP elsewhere cannot set Secure cookies; same-site pages still keep these.
        for plain in ["http://chat.lan:8080", "http://localhost.example.com", "http://127.0.0.1.nip.io"] {
            let attributes = settings(plain).cookie_attributes("/v2/customer", 60);
            assert!(attributes.ends_with("SameSite=Lax"), "{plain}: {attributes}");
        }
    }
}
