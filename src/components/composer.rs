//! Where the visitor writes. Enter sends, Shift+Enter starts a new line. What is typed is
//! never lost: while connecting or reconnecting a message is taken
//! (`Connection::accepts_messages`) and waits in the outbox; while paused or over, sending is
//! refused and the text stays here. Files need the server (`Connection::accepts_files`).

use crate::hooks::use_strings::use_strings;
use crate::state::Connection;
use leptos::callback::UnsyncCallback;
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
    /// Files the visitor picks or pastes; no attach button without it.
    #[prop(optional)]
    on_attach: Option<UnsyncCallback<web_sys::File>>,
) -> impl IntoView {
    let strings = use_strings();
    let picker = NodeRef::<html::Input>::new();
    let attach_all = move |files: Option<web_sys::FileList>| {
        let (Some(files), Some(attach)) = (files, on_attach) else { return false };
        // Pasted or picked alike: an upload needs the server.
        if !connection.with_untracked(Connection::accepts_files) {
            return false;
        }
        let any = files.length() > 0;
        for file in (0..files.length()).filter_map(|i| files.get(i)) {
            attach.run(file);
        }
        any
    };
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
            {on_attach.map(|_| view! {
                <input
                    type="file"
                    multiple
                    class="sr-only"
                    tabindex="-1"
                    aria-hidden="true"
                    node_ref=picker
                    on:change=move |_| {
                        if let Some(input) = picker.get_untracked() {
                            attach_all(input.files());
                            input.set_value("");
                        }
                    }
                />
                <button
                    type="button"
                    class="attach"
                    aria-label=strings.attach
                    disabled=move || !connection.with(Connection::accepts_files)
                    on:click=move |_| if let Some(input) = picker.get_untracked() { input.click() }
                >
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
                    </svg>
                </button>
            })}
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
                on:paste=move |ev: leptos::ev::ClipboardEvent| {
                    // Pasted files (a screenshot) are attached; pasted text is typed as usual.
                    if attach_all(ev.clipboard_data().and_then(|d| d.files())) {
                        ev.prevent_default();
                    }
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
