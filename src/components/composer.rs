//! Where the visitor writes. Enter sends, Shift+Enter starts a new line. What is typed is
//! never lost: sending is refused while disconnected, not discarded. While connecting for the
//! first time it is taken (`Connection::accepts_messages`) and waits in the send queue.

use crate::hooks::use_strings::use_strings;
use crate::state::Connection;
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Composer(
    on_send: Callback<String>,
    connection: RwSignal<Connection>,
    focus: Trigger,
    /// What is typed, as it changes (for the agents' sneak peek).
    #[prop(optional)]
    on_typing: Option<Callback<String>>,
) -> impl IntoView {
    let strings = use_strings();
    let text = RwSignal::new(String::new());
    let input = NodeRef::<html::Textarea>::new();
    let accepts = move || connection.with(Connection::accepts_messages);
    let submit = move || {
        if !accepts.get_untracked_value() || text.with_untracked(|t| t.trim().is_empty()) {
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
                aria-label=strings.message_label
                dir="auto"
                placeholder=move || if accepts() { strings.placeholder } else { strings.connecting }
                prop:value=move || text.get()
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(typing) = on_typing {
                        typing.run(value.clone());
                    }
                    text.set(value);
                }
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button type="submit" class="send" aria-label=strings.send disabled=move || !accepts()>
                {strings.send}
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
