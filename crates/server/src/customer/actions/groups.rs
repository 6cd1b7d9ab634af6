//! Groups: `list_group_statuses`, `get_predicted_agent`, `get_form`.

use super::Call;
use crate::error::{Error, Result};
use confab_protocol::action::{
    GetFormRequest, GetPredictedAgentRequest, ListGroupStatusesRequest, ListGroupStatusesResponse,
};

/// `{all: true}`: every group's status; `{group_ids}`: those (`group_not_found` for an unknown
/// one).
pub async fn list_group_statuses(call: &Call, req: ListGroupStatusesRequest) -> Result<()> {
    let ids = match (req.all, req.group_ids) {
        (Some(true), None) => None,
        (None | Some(false), Some(ids)) => Some(ids),
        (Some(true), Some(_)) => return Err(Error::validation("`all` and `group_ids` cannot be used together")),
        _ => return Err(Error::validation("`all: true` or `group_ids` is required")),
    };
    let groups_status = call.domain().group_statuses(ids.as_deref()).await?;
    call.respond::<ListGroupStatusesRequest>(ListGroupStatusesResponse { groups_status });
    Ok(())
}

/// The agent a chat started now would get (in `group_id`, else the customer's group), and
/// whether it would wait in the queue; `group_offline` when no agent accepts chats.
pub async fn get_predicted_agent(call: &Call, req: GetPredictedAgentRequest) -> Result<()> {
    let predicted = call.domain().predicted_agent(req.group_id.unwrap_or(call.group_id)).await?;
    call.respond::<GetPredictedAgentRequest>(predicted);
    Ok(())
}

/// The group's form of a type: `{enabled: false}` or `{enabled: true, form}`.
pub async fn get_form(call: &Call, req: GetFormRequest) -> Result<()> {
    let form = call.domain().get_form(req.group_id, req.kind).await?;
    call.respond::<GetFormRequest>(form);
    Ok(())
}
