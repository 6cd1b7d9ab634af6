//! Uploaded files: recording one, reading one, and what a `file` event that names one carries.
//!
//! A `file` event whose `url` is one of this server's uploads (under [`Domain::files_url`])
//! gets the upload's name, sniffed content type, size and image dimensions: what the client
//! claims about it is not trusted. An unknown upload under that URL is refused; any other URL
//! is kept as sent.

use super::Domain;
use crate::error::{Error, Result};
use crate::store::UploadRow;
use confab_protocol::entity::{Event, EventBody};

/// The path under which uploads are served: `<public url>/files/<id>/<name>`.
pub const FILES_PATH: &str = "/files/";

impl Domain {
    /// Serves uploads at `<files_url><id>/<name>` (the server's public URL + [`FILES_PATH`]).
    pub fn with_files_url(mut self, files_url: impl Into<String>) -> Self {
        self.files_url = Some(files_url.into());
        self
    }

    /// Where upload `id` is served, under the name `name` (any; the id decides).
    pub fn upload_url(&self, id: &str, name: &str) -> String {
        format!("{}{id}/{}", self.files_url.as_deref().unwrap_or(FILES_PATH), url_segment(name))
    }

    /// Records an uploaded file (its bytes are already on disk).
    pub async fn add_upload(&self, upload: &UploadRow) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.insert_upload(upload).await?;
        tx.commit().await
    }

    pub async fn upload(&self, id: &str) -> Result<Option<UploadRow>> {
        self.store.read().await?.upload(id).await
    }

    /// A `file` event naming one of this server's uploads, with the upload's facts in place of
    /// the client's claims. Other events pass unchanged.
    pub(super) async fn with_upload_facts(&self, mut event: Event) -> Result<Event> {
        let EventBody::File(file) = &mut event.body else { return Ok(event) };
        let Some(rest) = self.files_url.as_deref().and_then(|prefix| file.url.strip_prefix(prefix)) else {
            return Ok(event);
        };
        let id = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let upload = self.upload(id).await?.ok_or_else(|| Error::validation("No such uploaded file"))?;
        file.name = Some(upload.name);
        file.content_type = Some(upload.content_type);
        file.size = Some(upload.size as u64);
        file.width = upload.width.and_then(|w| u32::try_from(w).ok());
        file.height = upload.height.and_then(|h| u32::try_from(h).ok());
        file.thumbnail_url = None;
        file.thumbnail2x_url = None;
        Ok(event)
    }
}

/// A file name as one URL path segment: unreserved characters kept, the rest percent-encoded.
pub fn url_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
