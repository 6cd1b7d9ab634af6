//! Where the visitor writes. Enter sends, Shift+Enter starts a new line. What is typed is
//! never lost: sending is refused while disconnected, not discarded.

use crate::state::Connection;
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Composer(on_send: Callback<String>, connection: RwSignal<Connection>, focus: Trigger) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let input = NodeRef::<html::Textarea>::new();
    let connected = move || connection.with(|c| *c == Connection::Connected);
    let submit = move || {
        if !connected.get_untracked_value() || text.with_untracked(|t| t.trim().is_empty()) {
            return;
        }
        on_send.run(text.get_untracked());
        text.set(String::new());
    };
    Effect::new(move |_| {
        focus.track();
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });

    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <textarea
                node_ref=input
                rows="1"
                aria-label="Message"
                placeholder=move || if connected() { "Write a message…" } else { "Connecting…" }
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button type="submit" class="send" aria-label="Send" disabled=move || !connected()>
                "Send"
            </button>
        </form>
    }
}

trait UntrackedValue {
    fn get_untracked_value(&self) -> bool;
}

impl<F: Fn() -> bool> UntrackedValue for F {
    fn get_untracked_value(&self) -> bool {
        leptos::prelude::untrack(self)
    }
}
