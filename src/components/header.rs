//! The top bar: who you are talking to (the agent who has the chat, or the site's title),
//! whether the chat has ended, the connection's state (with "continue chatting" after a pause),
//! the place in the queue, and minimize.

use crate::components::message::Avatar;
use crate::hooks::use_strings::use_strings;
use crate::state::{ChatState, Connection};
use leptos::prelude::*;

#[component]
pub fn Header(
    connection: RwSignal<Connection>,
    on_close: Callback<()>,
    can_close: bool,
    #[prop(optional)] state: Option<RwSignal<ChatState>>,
    #[prop(optional)] on_reconnect: Option<Callback<()>>,
) -> impl IntoView {
    let strings = use_strings();
    let state = state.unwrap_or_else(|| RwSignal::new(ChatState::default()));
    let notice = move || connection.with(|c| strings.connection_notice(c));
    let paused = move || connection.with(|c| matches!(c, Connection::Paused { .. }));
    let agent = move || state.with(|s| s.agent.clone());
    let ended = move || state.with(|s| s.ended.is_some());
    let title = move || agent().map_or(strings.title.to_owned(), |a| strings.name_or_agent(&a.name).to_owned());
    let subtitle = move || {
        if ended() {
            strings.header_ended.to_owned()
        } else if state.with(|s| s.offline && !s.active) {
            strings.away.to_owned()
        } else {
            agent().and_then(|a| a.job_title).unwrap_or_else(|| strings.subtitle.to_owned())
        }
    };
    let queue = move || state.with(|s| s.queue.as_ref().map(|q| (strings.queue)(q.position, q.wait_time.div_ceil(60))));

    view! {
        <header class="header" class:ended=ended>
            {move || agent().map(|agent| view! { <Avatar agent /> })}
            <div class="title">
                <h1>{title}</h1>
                <p class="subtitle">{subtitle}</p>
            </div>
            <Show when=move || can_close>
                <button type="button" class="minimize" aria-label=strings.minimize on:click=move |_| on_close.run(())>
                    <span aria-hidden="true">"–"</span>
                </button>
            </Show>
        </header>
        <Show when=move || notice().is_some()>
            <div class="notice" role="status">
                {move || notice().unwrap_or_default()}
                <Show when=paused>
                    " "
                    <button type="button" class="continue" on:click=move |_| if let Some(go) = on_reconnect { go.run(()) }>
                        {strings.continue_chatting}
                    </button>
                </Show>
            </div>
        </Show>
        <Show when=move || queue().is_some()>
            <div class="queue" role="status">{move || queue().unwrap_or_default()}</div>
        </Show>
    }
}
