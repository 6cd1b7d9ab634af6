//! What browsers load: the loader script, the built widget, and the demo website.
//!
//! The loader is compiled into the binary (it is small and must always match the server): the
//! minified `loader/confab.min.js`, which `scripts/build-loader.sh` makes from the readable
//! `loader/confab.js` (`scripts/check-loader.sh` fails when it is stale). The widget is served
//! from `--widget-dir` with its own strict Content-Security-Policy. The demo website is a
//! separate router, served on the second origin (`--site-listen`), so embedding is truly
//! cross-origin: two pages a visitor moves between, and a checkout page under the strictest
//! policy a site may have (nonces only, Trusted Types required, no policy allowed).

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const LOADER: &str = include_str!("../../../loader/confab.min.js");
const DEMO_HOME: &str = include_str!("../demo-site/index.html");
const DEMO_MENU: &str = include_str!("../demo-site/menu.html");
const DEMO_CHECKOUT: &str = include_str!("../demo-site/checkout.html");

/// `GET /confab.js`, compressed for browsers that accept it (gzip or brotli, at the best
/// level: it is small, and every page view of every site downloads it).
pub fn loader_route() -> axum::routing::MethodRouter<AppState> {
    get(loader).layer(CompressionLayer::new().quality(CompressionLevel::Best))
}

async fn loader() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Short: a new server version reaches sites within minutes.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        LOADER,
    )
        .into_response()
}

/// The widget's files, under its CSP. Only the listed origins may frame it. Each is sent as
/// the brotli or gzip file `scripts/build-widget.sh` made beside it, when the browser takes it.
pub fn widget(state: &AppState) -> Router<AppState> {
    let csp = HeaderValue::from_str(&state.settings.widget_csp()).expect("CSP is ASCII");
    Router::new()
        .route("/widget", get(|| async { Redirect::permanent("/widget/") }))
        .nest_service("/widget/", ServeDir::new(&state.settings.widget_dir).precompressed_br().precompressed_gzip())
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// The demo website: a made-up shop that embeds the widget with one script tag on each page.
pub fn demo_site(state: AppState) -> Router {
    Router::new()
        .route("/", get(|state| demo_page(state, DEMO_HOME)))
        .route("/menu.html", get(|state| demo_page(state, DEMO_MENU)))
        .route("/checkout.html", get(strict_demo_page))
        .with_state(state)
}

/// The checkout page, under a policy with a fresh nonce for each response: scripts by nonce or
/// from Confab, styles by nonce only, Trusted Types required for every script sink and no
/// policy may be made, frames and fetches only to Confab.
async fn strict_demo_page(State(state): State<AppState>) -> Response {
    let nonce = format!("{:032x}", rand::random::<u128>());
    let confab = &state.settings.public_url;
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' {confab}; style-src 'nonce-{nonce}'; img-src 'self' data:; \
         connect-src {confab}; frame-src {confab}; object-src 'none'; base-uri 'none'; \
         require-trusted-types-for 'script'; trusted-types 'none'"
    );
    let page = demo_html(&state, DEMO_CHECKOUT).replace("{{NONCE}}", &nonce);
    match HeaderValue::from_str(&csp) {
        Ok(csp) => ([(header::CONTENT_SECURITY_POLICY, csp)], Html(page)).into_response(),
        Err(_) => Html(page).into_response(),
    }
}

async fn demo_page(State(state): State<AppState>, page: &'static str) -> Html<String> {
    Html(demo_html(&state, page))
}

/// A demo page with this server's address and organization filled in.
fn demo_html(state: &AppState, page: &str) -> String {
    page.replace("{{CONFAB_URL}}", &state.settings.public_url)
        .replace("{{ORGANIZATION_ID}}", &state.settings.organization_id)
}
