//! `POST /v2/customer/token` (and the v3.2 SDK's `/customer/token`): the cookie grant
//! (protocol.md §2).
//!
//! A visitor is identified by two cookies: `__lc_cid` (the customer id) and `__lc_cst` (a
//! secret: the server's MAC of the id, see `domain::customers`). When both match, the visitor keeps their customer id; otherwise a
//! new customer is created. Either way a fresh random access token is issued, valid for
//! `CUSTOMER_TOKEN_TTL`, and the cookies are renewed.
//!
//! Clients read the body, not the status: failures are `{"oauth_exception": …}` or
//! `{"identity_exception": …}` bodies (with a 4xx status for everyone else's sake). A banned
//! visitor (cookies naming a customer under a ban) gets `{"identity_exception":
//! "customer_banned"}` with 403.
//!
//! Browsers that block third-party cookies (Safari, Firefox, Chromium's phase-out) never send
//! the cookies to a widget framed by another site. So a client may ask for the same identity in
//! the body (`keep_identity`), keep it in its own storage (which those browsers partition by
//! top-level site, so it lasts across the pages of one site) and send it back (`identity`).
//! Only a client that asks gets it: the Customer SDK's identity stays in HttpOnly cookies.
//!
//! Like the socket, the endpoint refuses a browser page on a foreign origin: no token, no
//! cookie (else any website could mint tokens for, and renew the identity of, a visitor who
//! browses it). Grants are rate limited per client address, and new customers more tightly
//! (each is a database row): generous for many visitors behind one address, not for a loop.

use crate::domain::Grant;
use crate::error::{Error, Result};
use crate::limits::IDENTITY_COOKIE_MAX_AGE;
use crate::{AppState, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use confab_protocol::token::{KeptIdentity, TokenError, TokenRequest, TokenResponse};
use std::net::SocketAddr;

const CUSTOMER_ID_COOKIE: &str = "__lc_cid";
const CUSTOMER_SECRET_COOKIE: &str = "__lc_cst";

fn refuse(status: StatusCode, error: TokenError) -> Response {
    (status, axum::Json(error)).into_response()
}

fn oauth_exception(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, TokenError { oauth_exception: Some(message.into()), identity_exception: None })
}

fn identity_exception(message: &str) -> Response {
    refuse(StatusCode::UNAUTHORIZED, TokenError { identity_exception: Some(message.into()), oauth_exception: None })
}

fn too_many_requests() -> Response {
    let mut response = refuse(
        StatusCode::TOO_MANY_REQUESTS,
        TokenError { oauth_exception: Some("too_many_requests".into()), identity_exception: None },
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The value of cookie `name` in the request, if any.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub async fn grant(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response> {
    if let Err(error) = state.settings.check_origin(&headers) {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            TokenError { identity_exception: Some(error.to_api().message), oauth_exception: None },
        ));
    }
    // Browsers send this JSON as text/plain (no preflight), so the content type is not checked.
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body) else {
        return Ok(oauth_exception("invalid_request"));
    };
    if request.grant_type != "cookie" {
        return Ok(oauth_exception("unsupported_grant_type"));
    }
    match (&request.organization_id, request.license_id) {
        (Some(org), _) if *org == state.settings.organization_id => {}
        (None, Some(_)) => {}
        _ => return Ok(identity_exception("invalid organization_id")),
    }

    let domain = &state.domain;
    let now = domain.clock.now();
    let client = state.settings.client_address(peer, &headers);
    if !state.token_limits.grants.take(client, now) {
        return Ok(too_many_requests());
    }
    // The identity the client kept itself (third-party cookies blocked) wins over the cookies;
    // either names the visitor only with the server's secret for it.
    let kept = request.identity.as_ref().map(|kept| (kept.entity_id.as_str(), kept.secret.as_str()));
    let from_cookies = match (cookie(&headers, CUSTOMER_ID_COOKIE), cookie(&headers, CUSTOMER_SECRET_COOKIE)) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    let mut known = None;
    for (id, secret) in kept.into_iter().chain(from_cookies) {
        if let Some(id) = domain.known_customer(id, secret).await? {
            known = Some((id, secret.to_owned()));
            break;
        }
    }
    // A banned visitor gets no token: the SDK destroys itself with the exception's text as the
    // reason (protocol.md §6.2), instead of retrying.
    if let Some((id, _)) = &known
        && domain.ban_of(id).await?.is_some()
    {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            TokenError { identity_exception: Some("customer_banned".into()), oauth_exception: None },
        ));
    }
    if known.is_none() && !state.token_limits.new_customers.take(client, now) {
        return Ok(too_many_requests());
    }
    let Grant { customer_id, cookie_secret: secret, access_token, expires_in, .. } = domain.grant(known);

    let reply = TokenResponse {
        access_token,
        entity_id: customer_id.clone(),
        expires_in,
        token_type: "Bearer".into(),
        client_id: request.client_id,
        organization_id: request.organization_id,
        identity: request
            .keep_identity
            .then(|| KeptIdentity { entity_id: customer_id.clone(), secret: secret.clone() }),
    };
    let mut response = axum::Json(reply).into_response();
    // Renewed on every grant. They live under the endpoint's own path, as the protocol's do.
    let path = if uri.path().starts_with("/v2/") { "/v2/customer" } else { "/customer" };
    let attributes = state.settings.cookie_attributes(path, IDENTITY_COOKIE_MAX_AGE.as_secs());
    for (name, value) in [(CUSTOMER_ID_COOKIE, customer_id.as_str()), (CUSTOMER_SECRET_COOKIE, secret.as_str())] {
        // Both values are ours ([A-Za-z0-9_-]), so they are valid header text.
        let cookie = HeaderValue::from_str(&format!("{name}={value}; {attributes}"))
            .map_err(|_| Error::validation("Invalid identity cookie"))?;
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
