//! `get_url_info`: a link preview fetched by the server (`crate::url_info`: the SSRF guards,
//! limits and error types), rate limited per customer.

use super::Call;
use crate::error::{Error, Result};
use confab_protocol::ErrorType;
use confab_protocol::action::GetUrlInfoRequest;

pub async fn get_url_info(call: &Call, req: GetUrlInfoRequest) -> Result<()> {
    let fetcher = &call.state.url_info;
    if !fetcher.limiter.take(call.customer_id().to_owned(), call.domain().clock.now()) {
        return Err(Error::new(ErrorType::TooManyRequests, "Too many link previews; try again later"));
    }
    let info = fetcher.fetch(&req.url).await?;
    call.respond::<GetUrlInfoRequest>(info);
    Ok(())
}
