//! Customers (Agent Chat Web API v3.6 "Customers"): `get_customer`, `create_customer`,
//! `update_customer`, `ban_customer`, `follow_customer`, `unfollow_customer`; and Confab's
//! extensions `logout_customer` and `send_greeting`.
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
//! `send_greeting` `{"customer_id", "text", "subtype"?}` shows the customer a greeting from the
//! calling agent at once: every socket they have open, on any node, gets `incoming_greeting`
//! (and `greeting_canceled` for the one it replaces); a socket that logs in later finds it in
//! `login`'s `greeting` until it is accepted or canceled. Answers `{"greeting_id",
//! "unique_id"}`.
//!
//! A customer who never logged in (and was not created) is `not_found` throughout.

use super::{AgentCall, answer, done};
use crate::error::{Error, Result};
use confab_protocol::agent::{
    AgentCustomer, BanCustomerRequest, CreateCustomerRequest, CreateCustomerResponse, IdRequest, LogoutCustomerRequest,
    SendGreetingRequest, SendGreetingResponse, UpdateCustomerRequest,
};
use serde_json::Value;

/// `{id}` → the customer with `type`, statistics and `chat_ids`.
pub async fn get_customer(call: &AgentCall<'_>, req: IdRequest) -> Result<Value> {
    let (customer, chat_ids) = call.domain().customer_with_chats(&req.id).await?;
    answer(AgentCustomer { customer, kind: "customer".into(), chat_ids })
}

/// `{name?, email?, avatar?, session_fields?}` → `{customer_id}`; `incoming_customer` for
/// the agents.
pub async fn create_customer(call: &AgentCall<'_>, req: CreateCustomerRequest) -> Result<Value> {
    let (customer_id, events) = call.domain().create_customer(&req.0).await?;
    call.fan_out(&events);
    answer(CreateCustomerResponse { customer_id })
}

/// `{id, name?, email?, avatar?, session_fields?}`: at least one field besides `id`.
/// `customer_updated` for the customer's sockets, their chat's agents and their followers.
pub async fn update_customer(call: &AgentCall<'_>, req: UpdateCustomerRequest) -> Result<Value> {
    let update = &req.update;
    if update.name.is_none() && update.email.is_none() && update.avatar.is_none() && update.session_fields.is_none() {
        return Err(Error::validation("Give at least one of `name`, `email`, `avatar`, `session_fields`"));
    }
    let events = call.domain().update_customer(&req.id, update).await?;
    call.fan_out(&events);
    done()
}

pub async fn ban_customer(call: &AgentCall<'_>, req: BanCustomerRequest) -> Result<Value> {
    let events = call.domain().ban_customer(&req.id, req.ban.days).await?;
    call.fan_out(&events);
    done()
}

pub async fn follow_customer(call: &AgentCall<'_>, req: IdRequest) -> Result<Value> {
    call.domain().follow_customer(&call.agent.id, &req.id).await?;
    done()
}

pub async fn unfollow_customer(call: &AgentCall<'_>, req: IdRequest) -> Result<Value> {
    call.domain().unfollow_customer(&call.agent.id, &req.id).await?;
    done()
}

pub async fn logout_customer(call: &AgentCall<'_>, req: LogoutCustomerRequest) -> Result<Value> {
    let events = call.domain().logout_customer(&req.id).await?;
    call.fan_out(&events);
    done()
}

pub async fn send_greeting(call: &AgentCall<'_>, req: SendGreetingRequest) -> Result<Value> {
    let (greeting, events) =
        call.domain().send_greeting(&call.agent.id, &req.customer_id, &req.text, req.subtype.as_deref()).await?;
    call.fan_out(&events);
    answer(SendGreetingResponse { greeting_id: greeting.id, unique_id: greeting.unique_id })
}
