//! `get_url_info`: a link preview fetched by the server.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::GetUrlInfoRequest;

pub async fn get_url_info(_call: &Call, _req: GetUrlInfoRequest) -> Result<()> {
    Err(not_yet::<GetUrlInfoRequest>())
}
