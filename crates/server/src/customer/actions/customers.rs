//! The customer: `get_customer`, `update_customer`, `set_customer_session_fields`, `update_customer_page`.

use super::{Call, greetings};
use crate::error::Result;
use confab_protocol::action::{
    GetCustomerRequest, SetCustomerSessionFieldsRequest, UpdateCustomerPageRequest, UpdateCustomerRequest,
};
use confab_protocol::entity::TaggedCustomer;

pub async fn get_customer(call: &Call, _req: GetCustomerRequest) -> Result<()> {
    let customer = call.domain().customer(call.customer_id()).await?;
    call.respond::<GetCustomerRequest>(TaggedCustomer(customer));
    Ok(())
}

pub async fn update_customer(call: &Call, req: UpdateCustomerRequest) -> Result<()> {
    let events = call.domain().update_customer(call.customer_id(), &req.0).await?;
    call.respond::<UpdateCustomerRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn set_customer_session_fields(call: &Call, req: SetCustomerSessionFieldsRequest) -> Result<()> {
    let events = call.domain().set_customer_session_fields(call.customer_id(), req.session_fields).await?;
    call.respond::<SetCustomerSessionFieldsRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

/// Counts the page view; the answer comes first, then the greetings the page's rules show,
/// then `customer_page_updated` to the chat's agents and the customer's sockets.
pub async fn update_customer_page(call: &Call, req: UpdateCustomerPageRequest) -> Result<()> {
    let events = call.domain().update_customer_page(call.customer_id(), &req.0).await?;
    let greeted = greetings::greet_on_page(call, req.0.url.as_deref(), || {
        call.respond::<UpdateCustomerPageRequest>(Default::default())
    })
    .await;
    // The page view is committed: its push goes out even if the greetings failed.
    call.fan_out(&events);
    greeted
}
