//! `POST /v3.5/customer/action/upload_file?organization_id=…` (v3.2: `…?license_id=…`), and
//! the Agent Chat Web API's `POST /v3.6/agent/action/upload_file`: a multipart body with one
//! field `file`, answered `{"url": …}` (protocol.md §10, §15). `GET /files/<id>/<name>` serves
//! it back.
//!
//! - Who: a customer's access token (`Authorization: Bearer`, checked as RTM `login` checks
//!   it), or an agent's. A browser page on a foreign origin is refused, as at the token
//!   endpoint. Uploads are rate limited per uploader (`UPLOADS_PER_SECOND`).
//! - Size: counted while the file streams to a temporary file: `MAX_UPLOAD_BYTES` pass, one
//!   byte more is `413 entity_too_large` and the temporary file is deleted at once. The body as
//!   a whole is cut off a little above (`MAX_UPLOAD_OVERHEAD_BYTES`), so nothing is buffered
//!   whole and nothing is read without bound.
//! - Storage: `<data dir>/uploads/<id>`, with a random id; the client's file name is kept only
//!   (sanitized) in the database, never used as a path. The content type is sniffed from the
//!   bytes; image dimensions are read from the file's header.
//! - Serving: `X-Content-Type-Options: nosniff` always; PNG, JPEG, GIF and WebP inline; every
//!   other type (SVG and HTML included) as an `attachment` of type `application/octet-stream`
//!   with `Content-Security-Policy: sandbox; default-src 'none'`.
//! - Every failure is `{"error": {"type", "message"}}` with a non-2xx status.

use crate::AppState;
use crate::agent::AuthenticatedAgent;
use crate::error::{Error, Result};
use crate::limits::{MAX_UPLOAD_BYTES, MAX_UPLOAD_NAME_BYTES};
use crate::store::{UploadRow, random_id};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_protocol::{ApiError, ErrorType};
use serde::Deserialize;
use std::path::{Path as FsPath, PathBuf};
use tokio::io::AsyncWriteExt;

/// Image types shown inline; everything else is a download.
const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Bytes kept from the start of a file to sniff its type.
const SNIFF_BYTES: usize = 8 * 1024;

/// Length of an upload id ([A-Z0-9]: 165 bits; the URL is the only key to the file).
const ID_LEN: usize = 32;

/// Where uploads live on disk, and the per-uploader rate.
pub struct Uploads {
    /// `<data dir>/uploads`: files by id; `tmp/` beneath it while they arrive.
    pub dir: PathBuf,
    pub limiter: crate::rate::UserLimiter,
}

impl Uploads {
    pub fn new(data_dir: &FsPath) -> std::io::Result<Self> {
        let dir = data_dir.join("uploads");
        std::fs::create_dir_all(dir.join("tmp"))?;
        // Files a crash left half-received.
        for entry in std::fs::read_dir(dir.join("tmp"))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        let limiter = crate::rate::UserLimiter::new(crate::limits::UPLOADS_PER_SECOND, crate::limits::UPLOAD_BURST);
        Ok(Self { dir, limiter })
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }
}

/// Who uploads.
enum Owner {
    Customer(String),
    Agent(String),
}

impl Owner {
    fn id(&self) -> &str {
        match self {
            Owner::Customer(id) | Owner::Agent(id) => id,
        }
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    organization_id: Option<String>,
    license_id: Option<u64>,
}

fn internal(what: &str, error: std::io::Error) -> Error {
    tracing::error!(%error, "upload: {what}");
    Error::Api(ApiError::internal())
}

fn too_large() -> Error {
    Error::new(ErrorType::EntityTooLarge, format!("Upload limit exceeded ({MAX_UPLOAD_BYTES} bytes)."))
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> Error {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Error::validation(format!("Invalid multipart body: {}", error.body_text()))
    }
}

/// The customer upload endpoint.
pub async fn customer_upload(State(state): State<AppState>, headers: HeaderMap, request: Request) -> Result<Response> {
    state.settings.check_origin(&headers)?;
    let query = Query::<UploadQuery>::try_from_uri(request.uri())
        .map_err(|e| Error::validation(format!("Invalid query: {}", e.body_text())))?;
    match (&query.organization_id, query.license_id) {
        (Some(org), _) if *org == state.settings.organization_id => {}
        (None, Some(_)) => {}
        _ => return Err(Error::validation("Unknown or missing organization_id")),
    }
    let token = bearer(&headers)?;
    let claims = state
        .domain
        .customer_for_token(token)
        .ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
    receive(&state, Owner::Customer(claims.customer_id), request).await
}

/// The agent upload endpoint (Agent Chat Web API v3.6 `upload_file`).
pub async fn agent_upload(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    request: Request,
) -> Result<Response> {
    receive(&state, Owner::Agent(agent.id), request).await
}

fn bearer(headers: &HeaderMap) -> Result<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| Error::authentication("Missing `Authorization: Bearer <token>` header"))
}

/// A file being written; deleted when dropped unless kept.
struct TempFile {
    path: PathBuf,
    file: tokio::fs::File,
    kept: bool,
}

impl TempFile {
    async fn create(dir: &FsPath) -> Result<Self> {
        let path = dir.join(format!("{}.part", random_id(ID_LEN)));
        let file = tokio::fs::File::create_new(&path).await.map_err(|e| internal("create a temporary file", e))?;
        Ok(Self { path, file, kept: false })
    }

    /// Moves the finished file to `to`.
    async fn keep(mut self, to: &FsPath) -> Result<()> {
        self.file.flush().await.map_err(|e| internal("write", e))?;
        tokio::fs::rename(&self.path, to).await.map_err(|e| internal("move into place", e))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file received whole, not yet recorded.
struct Received {
    temp: TempFile,
    name: String,
    size: u64,
    head: Vec<u8>,
}

async fn receive(state: &AppState, owner: Owner, request: Request) -> Result<Response> {
    if !state.uploads.limiter.take(owner.id().to_owned(), state.domain.clock.now()) {
        return Err(Error::new(ErrorType::TooManyRequests, "Too many uploads; try again later"));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| Error::validation(format!("Expected a multipart/form-data body: {}", e.body_text())))?;
    let mut received: Option<Received> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") || received.is_some() {
            // Other fields (and a second file) are read past, bounded by the body limit.
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
            continue;
        }
        let name = sanitize_name(field.file_name().unwrap_or_default());
        let mut temp = TempFile::create(&state.uploads.tmp_dir()).await?;
        let mut size = 0u64;
        let mut head = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            size += chunk.len() as u64;
            if size > MAX_UPLOAD_BYTES {
                drop(temp);
                // Read on to the end of the body (itself capped just above the limit), so that
                // the client, still sending, reads this answer rather than a reset connection.
                while let Ok(Some(_)) = field.chunk().await {}
                drop(field);
                while let Ok(Some(mut field)) = multipart.next_field().await {
                    while let Ok(Some(_)) = field.chunk().await {}
                }
                return Err(too_large());
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            temp.file.write_all(&chunk).await.map_err(|e| internal("write", e))?;
        }
        received = Some(Received { temp, name, size, head });
    }
    let Received { temp, name, size, head } =
        received.ok_or_else(|| Error::validation("The multipart body has no `file` field"))?;

    let id = random_id(ID_LEN);
    let path = state.uploads.path_of(&id);
    temp.keep(&path).await?;
    let content_type = sniff(&head);
    let (width, height) = if INLINE_TYPES.contains(&content_type) {
        let path = path.clone();
        match tokio::task::spawn_blocking(move || imagesize::size(path)).await {
            Ok(Ok(size)) => (i64::try_from(size.width).ok(), i64::try_from(size.height).ok()),
            _ => (None, None),
        }
    } else {
        (None, None)
    };
    let (customer_id, agent_id) = match owner {
        Owner::Customer(id) => (Some(id), None),
        Owner::Agent(id) => (None, Some(id)),
    };
    let row = UploadRow {
        id: id.clone(),
        customer_id,
        agent_id,
        name,
        content_type: content_type.to_owned(),
        size: size as i64,
        width,
        height,
        created_at: state.domain.clock.now().0,
    };
    if let Err(error) = state.domain.add_upload(&row).await {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(error);
    }
    let url = state.domain.upload_url(&id, &row.name);
    let mut response = axum::Json(serde_json::json!({ "url": url })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The type of a file by its first bytes; `text/plain` for UTF-8 text without NULs, else
/// `application/octet-stream`.
fn sniff(head: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    // The head may end inside a multi-byte character.
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if !head.is_empty() && text && !head.contains(&0) { "text/plain" } else { "application/octet-stream" }
}

/// The client's file name, fit to show and to put in a header: its last path component, no
/// control characters, quotes or separators, at most `MAX_UPLOAD_NAME_BYTES`, never empty.
pub fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut out = String::new();
    for c in base.chars() {
        let c = if c.is_control() || matches!(c, '"' | '\'' | ';' | ':' | '<' | '>' | '|' | '*' | '?' | '%') {
            '_'
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_UPLOAD_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    let out = out.trim().trim_start_matches('.').to_owned();
    if out.is_empty() { "file".to_owned() } else { out }
}

/// `GET /files/<id>/<name>`: the file, with headers that keep it from running as a page.
pub async fn serve(State(state): State<AppState>, Path((id, _name)): Path<(String, String)>) -> Result<Response> {
    let not_found = || Error::not_found("No such file");
    if id.len() != ID_LEN || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(not_found());
    }
    let upload = state.domain.upload(&id).await?.ok_or_else(not_found)?;
    let file = match tokio::fs::File::open(state.uploads.path_of(&id)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(internal("open", e)),
    };
    let inline = INLINE_TYPES.contains(&upload.content_type.as_str());
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let content_type = if inline { upload.content_type.as_str() } else { "application/octet-stream" };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|_| not_found())?);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(upload.size));
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(inline, &upload.name));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    if !inline {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    }
    Ok(response)
}

/// `inline` or `attachment`, with the name as ASCII (`filename`) and as UTF-8 (`filename*`).
fn content_disposition(inline: bool, name: &str) -> HeaderValue {
    let ascii: String = name.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '_' }).collect();
    let utf8 = crate::domain::uploads::url_segment(name);
    let kind = if inline { "inline" } else { "attachment" };
    // `sanitize_name` left no quote, control character or backslash-escape to break out with.
    HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_header_breakers() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\me\\photo.png"), "photo.png");
        assert_eq!(sanitize_name("a\"b;c\r\nd.txt"), "a_b_c__d.txt");
        assert_eq!(sanitize_name(""), "file");
        assert_eq!(sanitize_name(".."), "file");
        assert_eq!(sanitize_name(".hidden"), "hidden");
        assert_eq!(sanitize_name("żółw.jpg"), "żółw.jpg");
        assert!(sanitize_name(&"é".repeat(300)).len() <= MAX_UPLOAD_NAME_BYTES);
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"<!DOCTYPE html><html><script>alert(1)</script>"), "text/html");
        assert_eq!(sniff("hello, wörld".as_bytes()), "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 3, 255]), "application/octet-stream");
        assert_eq!(sniff(b""), "application/octet-stream");
    }

    #[test]
    fn disposition_names_the_file_both_ways() {
        let value = content_disposition(false, "żółw 1.txt");
        assert_eq!(value, "attachment; filename=\"___w 1.txt\"; filename*=UTF-8''%C5%BC%C3%B3%C5%82w%201.txt");
        assert_eq!(content_disposition(true, "a.png"), "inline; filename=\"a.png\"; filename*=UTF-8''a.png");
    }
}
