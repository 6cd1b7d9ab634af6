//! The chat as the visitor sees it: plain data and the rules that change it. No Leptos and no
//! browser APIs here, so every rule is tested natively (`cargo test -p confab-widget --lib`).

mod chat;
mod form;
mod preview;
mod rows;
mod text;
mod time;
mod url;
mod window;

pub use chat::{
    AgentCard, Author, ButtonAction, ChatState, Choice, Connection, Content, Delivery, Ended, FileLink, Footer,
    GreetingCard, Message, Notice, RatingState, Rich, RichButton, RichElement, SendPlan,
};
pub use form::{Answer, Answers, Problem, shown as form_field_shown};
pub use preview::{PreviewCard, preview_card, previewed_link};
pub use rows::{GROUP_WINDOW_SECS, Row, RowKey, rows};
pub use text::{Segment, segments};
pub use time::{local_day, unix_seconds};
pub use url::safe_url;
pub use window::{Heights, Layout, redraw};
