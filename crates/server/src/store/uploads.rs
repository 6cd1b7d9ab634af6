//! Statements about uploaded files' metadata (the bytes are on disk, see `customer::upload`).

use super::Conn;
use crate::error::Result;

/// What is known about one uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
    /// The client's file name, sanitized.
    pub name: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
}

impl Conn {
    pub async fn insert_upload(&mut self, upload: &UploadRow) -> Result<()> {
        exec!(
            self,
            "INSERT INTO uploads (id, customer_id, agent_id, name, content_type, size, width, height, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &upload.id,
            &upload.customer_id,
            &upload.agent_id,
            &upload.name,
            &upload.content_type,
            upload.size,
            upload.width,
            upload.height,
            upload.created_at
        );
        Ok(())
    }

    pub async fn upload(&mut self, id: &str) -> Result<Option<UploadRow>> {
        Ok(fetch!(
            self,
            fetch_optional UploadRow,
            "SELECT id, customer_id, agent_id, name, content_type, size, width, height, created_at
             FROM uploads WHERE id = $1",
            id
        ))
    }
}
