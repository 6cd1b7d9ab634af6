//! `GET /v1/greets?url=…`: whether a greeting rule would greet a visitor on this page.
//!
//! The loader asks this (only on sites that opt in with `data-greetings="on"`) before it loads
//! anything else: a greeting to show counts as the visitor's intent, so the widget loads and
//! logs in only where a rule may greet. No identity and no cookies: the answer is the same for
//! every visitor of the page (`{"greets": bool}`), and says nothing about any customer. Guarded
//! like the other customer endpoints: a browser request whose `Origin` is not allowed is
//! refused (the `url` itself is only matched against the rules, never fetched).

use crate::AppState;
use crate::error::{Error, Result};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct GreetsQuery {
    url: String,
}

#[derive(Serialize)]
pub struct GreetsAnswer {
    greets: bool,
}

pub async fn greets(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: std::result::Result<Query<GreetsQuery>, QueryRejection>,
) -> Result<axum::Json<GreetsAnswer>> {
    state.settings.check_origin(&headers)?;
    let Query(query) = query.map_err(|e| Error::validation(format!("Expected `?url=<the page's address>`: {e}")))?;
    Ok(axum::Json(GreetsAnswer { greets: state.domain.greets_page(&query.url).await? }))
}
