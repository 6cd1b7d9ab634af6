//! What browsers load: the loader script, the built widget, and the demo website.
//!
//! The loader is compiled into the binary (it is small and must always match the server): the
//! minified `loader/confab.min.js`, which `scripts/build-loader.sh` makes from the readable
//! `loader/confab.js` (`scripts/check-loader.sh` fails when it is stale). The widget is served
//! from `--widget-dir` with its own strict Content-Security-Policy. The demo website (two pages,
//! so that a visitor can move between them) is a separate router, served on the second origin
//! (`--site-listen`), so embedding is truly cross-origin.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const LOADER: &str = include_str!("../../../loader/confab.min.js");
const DEMO_HOME: &str = include_str!("../demo-site/index.html");
const DEMO_MENU: &str = include_str!("../demo-site/menu.html");

pub async fn loader() -> Response {
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

/// The widget's files, under its CSP. Only the listed origins may frame it.
pub fn widget(state: &AppState) -> Router<AppState> {
    let csp = HeaderValue::from_str(&state.settings.widget_csp()).expect("CSP is ASCII");
    Router::new()
        .route("/widget", get(|| async { Redirect::permanent("/widget/") }))
        .nest_service("/widget/", ServeDir::new(&state.settings.widget_dir))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// The demo website: a made-up shop that embeds the widget with one script tag on each page.
pub fn demo_site(state: AppState) -> Router {
    Router::new()
        .route("/", get(|state| demo_page(state, DEMO_HOME)))
        .route("/menu.html", get(|state| demo_page(state, DEMO_MENU)))
        .with_state(state)
}

async fn demo_page(State(state): State<AppState>, page: &'static str) -> Html<String> {
    Html(
        page.replace("{{CONFAB_URL}}", &state.settings.public_url)
            .replace("{{ORGANIZATION_ID}}", &state.settings.organization_id),
    )
}
