//! The top bar: who you are talking to, the connection's state, and minimize.

use crate::state::Connection;
use leptos::prelude::*;

#[component]
pub fn Header(connection: RwSignal<Connection>, on_close: Callback<()>, can_close: bool) -> impl IntoView {
    let notice = move || connection.with(Connection::notice);
    view! {
        <header class="header">
            <div class="title">
                <h1>"Chat with us"</h1>
                <p class="subtitle">"We usually reply in a few minutes"</p>
            </div>
            <Show when=move || can_close>
                <button type="button" class="minimize" aria-label="Minimize chat" on:click=move |_| on_close.run(())>
                    "–"
                </button>
            </Show>
        </header>
        <Show when=move || notice().is_some()>
            <div class="notice" role="status">{move || notice().unwrap_or_default()}</div>
        </Show>
    }
}
