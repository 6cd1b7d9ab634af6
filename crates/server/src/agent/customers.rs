//! Ending a customer's sessions: `ban_customer` (Agent Chat Web API v3.6) and
//! `logout_customer` (a Confab extension).
//!
//! `ban_customer` `{"id", "ban": {"days"}}` stores a ban until now + `days` (by the server's
//! clock, 1 to `MAX_BAN_DAYS`) and ends every socket of the customer, on every node, with
//! `customer_disconnected` `customer_banned` (the domain event travels the bus like any other).
//! Until the ban ends the customer's `login` is answered `customer_banned` and the token
//! endpoint refuses them (`{"identity_exception": "customer_banned"}`, 403), so the SDK
//! destroys itself instead of retrying.
//!
//! `logout_customer` `{"id"}` ends every socket of the customer with `logged_out_remotely`
//! (SDK v4 destroys itself; v2 reconnects): the trigger for when the site's own session behind
//! the visitor ended elsewhere. It revokes nothing: customer tokens are signed, not stored.
//!
//! Both answer `{}`; `not_found` for a customer who never logged in.

use super::parse;
use crate::AppState;
use crate::error::Result;
use confab_protocol::agent::{BanCustomerRequest, LogoutCustomerRequest};

pub async fn ban_customer(state: &AppState, body: &[u8]) -> Result<()> {
    let req: BanCustomerRequest = parse(body)?;
    let events = state.domain.ban_customer(&req.id, req.ban.days).await?;
    state.fanout.deliver(&events, None);
    Ok(())
}

pub async fn logout_customer(state: &AppState, body: &[u8]) -> Result<()> {
    let req: LogoutCustomerRequest = parse(body)?;
    let events = state.domain.logout_customer(&req.id).await?;
    state.fanout.deliver(&events, None);
    Ok(())
}
