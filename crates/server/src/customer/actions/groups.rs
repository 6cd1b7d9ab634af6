//! Groups: `list_group_statuses`, `get_predicted_agent`, `get_form`.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::{GetFormRequest, GetPredictedAgentRequest, ListGroupStatusesRequest};

pub async fn list_group_statuses(_call: &Call, _req: ListGroupStatusesRequest) -> Result<()> {
    Err(not_yet::<ListGroupStatusesRequest>())
}

pub async fn get_predicted_agent(_call: &Call, _req: GetPredictedAgentRequest) -> Result<()> {
    Err(not_yet::<GetPredictedAgentRequest>())
}

pub async fn get_form(_call: &Call, _req: GetFormRequest) -> Result<()> {
    Err(not_yet::<GetFormRequest>())
}
