//! `POST /v2/tickets/new`: the ticket form (protocol.md §7.2, SDK v2 `sendTicketForm`).
//!
//! JSON, no authentication, so guarded like the token endpoint: a browser page on a foreign
//! origin is refused, and tickets are rate limited per client address (each is a row).
//! Answers `{id}`; a bad request `400` (unreadable) or `422` (missing requester email, …) with
//! `{"errors": [{"<what is wrong>": ["<why>"]}]}`, which SDK v2 reports as `VALIDATION`.

use crate::domain::{TicketError, TicketInput};
use crate::error::Result;
use crate::{AppState, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_protocol::ticket::{TicketErrors, TicketResponse};
use std::net::SocketAddr;

fn refuse(status: StatusCode, what: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(TicketErrors::one(what, message))).into_response()
}

pub async fn new_ticket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response> {
    if let Err(error) = state.settings.check_origin(&headers) {
        return Ok(refuse(StatusCode::FORBIDDEN, "origin", error.to_api().message));
    }
    let client = state.settings.client_address(peer, &headers);
    if !state.token_limits.tickets.take(client, state.domain.clock.now()) {
        let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, "too many requests", "Slow down");
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    }
    // Browsers may send this JSON as text/plain (no preflight): the content type is not checked.
    let request: TicketInput = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, "incorrect request structure", e.to_string())),
    };
    match state.domain.create_ticket(&request).await {
        Ok(id) => Ok(axum::Json(TicketResponse { id }).into_response()),
        Err(TicketError::Invalid { what, message }) => Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, what, message)),
        Err(TicketError::Other(error)) => Err(error),
    }
}
