//! One component per file.

// Needs `use_chat`: wasm32 only.
#[cfg(target_arch = "wasm32")]
pub mod app;
pub mod composer;
pub mod consent;
pub mod ended;
pub mod form;
pub mod greeting;
pub mod header;
pub mod message;
pub mod message_list;
pub mod rich;
