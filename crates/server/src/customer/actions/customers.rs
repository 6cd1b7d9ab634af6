//! The customer: `get_customer`, `update_customer`, `set_customer_session_fields`, `update_customer_page`.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::{
    GetCustomerRequest, SetCustomerSessionFieldsRequest, UpdateCustomerPageRequest, UpdateCustomerRequest,
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

pub async fn update_customer_page(_call: &Call, _req: UpdateCustomerPageRequest) -> Result<()> {
    Err(not_yet::<UpdateCustomerPageRequest>())
}
