//! Greetings: `accept_greeting`, `cancel_greeting`.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::{AcceptGreetingRequest, CancelGreetingRequest};

pub async fn accept_greeting(_call: &Call, _req: AcceptGreetingRequest) -> Result<()> {
    Err(not_yet::<AcceptGreetingRequest>())
}

pub async fn cancel_greeting(_call: &Call, _req: CancelGreetingRequest) -> Result<()> {
    Err(not_yet::<CancelGreetingRequest>())
}
