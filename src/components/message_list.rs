//! The conversation. Every text is a text node: markup in a message shows as typed.

use crate::state::{Author, ChatState, Delivery, Message};
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn MessageList(state: RwSignal<ChatState>, on_retry: Callback<String>) -> impl IntoView {
    let list = NodeRef::<html::Div>::new();
    let messages = move || state.with(|s| s.messages.clone());
    // Keep the newest message in view.
    Effect::new(move |_| {
        state.with(|s| s.messages.len());
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });

    view! {
        <div class="messages" node_ref=list role="log" aria-live="polite">
            <Show when=move || state.with(|s| s.messages.is_empty())>
                <p class="empty">"Hi there! Ask us anything — we're happy to help."</p>
            </Show>
            <For
                each=messages
                key=|m: &Message| (m.key.clone(), m.id.clone(), m.delivery.clone())
                children=move |m: Message| view! { <MessageRow message=m on_retry /> }
            />
        </div>
    }
}

#[component]
fn MessageRow(message: Message, on_retry: Callback<String>) -> impl IntoView {
    let (class, who) = match &message.author {
        Author::Visitor => ("message mine", None),
        Author::Agent { name } => ("message theirs", Some(name.clone())),
        Author::System => ("message system", None),
    };
    let status = match &message.delivery {
        Delivery::Sending => Some(view! { <span class="status">"Sending…"</span> }.into_any()),
        Delivery::Sent => None,
        Delivery::Failed(reason) => {
            let key = message.key.clone();
            Some(
                view! {
                    <span class="status failed">
                        {reason.clone()} " "
                        <button type="button" class="retry" on:click=move |_| on_retry.run(key.clone())>"Retry"</button>
                    </span>
                }
                .into_any(),
            )
        }
    };
    view! {
        <div class=class>
            {who.map(|name| view! { <span class="author">{name}</span> })}
            <p class="text">{message.text}</p>
            {status}
        </div>
    }
}
