//! One component per file.

pub mod app;
pub mod composer;
pub mod header;
pub mod message_list;
