//! The chat as the visitor sees it: plain data and the rules that change it. No Leptos and no
//! browser APIs here, so every rule is tested natively (`cargo test -p confab-widget --lib`).

mod chat;
mod url;

pub use chat::{Author, ChatState, Connection, Delivery, Message, SendPlan};
pub use url::safe_url;
