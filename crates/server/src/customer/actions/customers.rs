//! The customer: `get_customer`, `update_customer`, `set_customer_session_fields`, `update_customer_page`.

use super::{Call, greetings, not_yet};
use crate::error::Result;
use confab_protocol::action::{
    Empty, GetCustomerRequest, SetCustomerSessionFieldsRequest, UpdateCustomerPageRequest, UpdateCustomerRequest,
};

pub async fn get_customer(_call: &Call, _req: GetCustomerRequest) -> Result<()> {
    Err(not_yet::<GetCustomerRequest>())
}

pub async fn update_customer(_call: &Call, _req: UpdateCustomerRequest) -> Result<()> {
    Err(not_yet::<UpdateCustomerRequest>())
}

pub async fn set_customer_session_fields(_call: &Call, _req: SetCustomerSessionFieldsRequest) -> Result<()> {
    Err(not_yet::<SetCustomerSessionFieldsRequest>())
}

/// So far only the greeting rules look at the page (`customer_page_updated` to agents is not
/// served yet); the answer comes first, then the greetings it shows.
pub async fn update_customer_page(call: &Call, req: UpdateCustomerPageRequest) -> Result<()> {
    greetings::greet_on_page(call, req.0.url.as_deref(), || call.respond::<UpdateCustomerPageRequest>(Empty {})).await
}
