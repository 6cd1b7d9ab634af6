//! The Agent Chat API v3.6: the Web API, `POST /v3.6/agent/action/<action>` with
//! `Authorization: Bearer <token>` (reference: livechat-agent-chat-web-api-v3.6.txt), and its
//! RTM equivalent on a WebSocket ([`rtm`]). Both run the actions of [`actions`]; every
//! failure is `{"error": {"type", "message"}}` (with a matching status over HTTP).

pub mod actions;
pub mod rtm;

use crate::error::{Error, Result};
use crate::limits::AGENT_REQUEST_TIMEOUT;
use crate::{AppState, Body};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use confab_protocol::ErrorType;
use confab_protocol::entity::Agent;
use serde::de::DeserializeOwned;

/// The agent a request's bearer token belongs to.
pub struct AuthenticatedAgent(pub Agent);

impl FromRequestParts<AppState> for AuthenticatedAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Error::authentication("Missing `Authorization: Bearer <token>` header"))?;
        let agent = state
            .domain
            .agent_for_token(token.trim())
            .await?
            .ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        Ok(Self(agent))
    }
}

/// Reads a JSON body; an empty body is `{}`. Fields Confab does not use are ignored (real
/// integrations send them); a missing or wrongly typed field is a `validation` error that
/// names it (`event.text: invalid type: integer `5`, expected a string`).
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json says where in the text; the field's path says more to a caller.
        let what = inner.to_string();
        let what = match what.rsplit_once(" at line ") {
            Some((what, _)) if inner.line() > 0 => what.to_owned(),
            _ => what,
        };
        match path.as_str() {
            "." | "" => Error::validation(format!("Invalid request body: {what}")),
            field => Error::validation(format!("Invalid request body: `{field}`: {what}")),
        }
    })
}

/// `POST /v3.6/agent/action/<action>`: one action, its JSON body in, its JSON answer out.
pub async fn action(
    State(state): State<AppState>,
    Path(action): Path<String>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Body(body): Body,
) -> Result<Response> {
    let clock = &state.domain.clock;
    if !state.agent_calls.take(agent.id.clone(), clock.now()) {
        return Err(Error::new(ErrorType::TooManyRequests, "Too many requests; slow down"));
    }
    let call = actions::AgentCall::new(&state, &agent, None);
    let answer = within_time(&state, actions::dispatch(&call, &action, &body)).await?;
    call.push_caused();
    Ok(axum::Json(answer).into_response())
}

/// Runs an action, or answers `request_timeout` after `AGENT_REQUEST_TIMEOUT` (by the server's
/// clock); an unfinished transaction is then dropped, so rolled back.
pub(crate) async fn within_time<T>(state: &AppState, action: impl Future<Output = Result<T>>) -> Result<T> {
    let clock = &state.domain.clock;
    tokio::select! {
        done = action => done,
        _ = clock.sleep_until(clock.now().plus(AGENT_REQUEST_TIMEOUT)) => Err(Error::new(
            ErrorType::RequestTimeout,
            format!("Request timed out after {AGENT_REQUEST_TIMEOUT:?}"),
        )),
    }
}
