//! One hook per file.

pub mod use_chat;
pub mod use_host;
