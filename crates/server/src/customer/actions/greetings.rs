//! Greetings: `accept_greeting`, `cancel_greeting` (and, from `customers`, the greeting rules
//! of a new page).
//!
//! Greeting pushes (`greeting_accepted`, `greeting_canceled`, `incoming_greeting`, and the chat
//! an accepted greeting starts) reach every socket of the customer without the request's id,
//! the requester's included: the response settles the request, and the SDK emits pushes that
//! carry a request id only as that request's result, never as events (protocol.md §3.4).

use super::Call;
use crate::error::Result;
use confab_protocol::action::{AcceptGreetingRequest, CancelGreetingRequest, Empty};

pub async fn accept_greeting(call: &Call, req: AcceptGreetingRequest) -> Result<()> {
    let events = call.domain().accept_greeting(call.customer_id(), req.greeting_id, &req.unique_id).await?;
    call.respond::<AcceptGreetingRequest>(Empty {});
    call.state.fanout.deliver(&events, None);
    Ok(())
}

pub async fn cancel_greeting(call: &Call, req: CancelGreetingRequest) -> Result<()> {
    let events = call.domain().cancel_greeting(call.customer_id(), &req.unique_id).await?;
    call.respond::<CancelGreetingRequest>(Empty {});
    call.state.fanout.deliver(&events, None);
    Ok(())
}

/// The customer is on a new page: the greeting rules that match it greet them (now, or when
/// their delay has passed). `respond` answers the request once the change is committed, before
/// the pushes.
pub async fn greet_on_page(call: &Call, url: Option<&str>, respond: impl FnOnce()) -> Result<()> {
    let greetings = call.domain().greet_on_page(call.customer_id(), url).await?;
    respond();
    call.state.fanout.deliver(&greetings.events, None);
    if let Some(at) = greetings.next_due {
        call.state.greeter.schedule(call.customer_id(), at);
    }
    Ok(())
}
