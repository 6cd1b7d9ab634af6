//! The consent step: the site's words (or ours), "Accept" and "No thanks"; after a no, what
//! that means and a way back. Shown instead of the chat, which is not started before a yes.

use crate::hooks::use_strings::use_strings;
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn ConsentView(
    /// The site's words; empty for the widget's own.
    text: String,
    declined: Signal<bool>,
    on_accept: Callback<()>,
    on_decline: Callback<()>,
    on_reconsider: Callback<()>,
    /// Puts the keyboard focus on the first choice (the window was opened).
    focus: Trigger,
) -> impl IntoView {
    let strings = use_strings();
    let text = if text.is_empty() { strings.consent_default.to_owned() } else { text };
    let accept = NodeRef::<html::Button>::new();
    let reconsider = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        focus.track();
        declined.track();
        let button = if declined.get_untracked() { reconsider.get() } else { accept.get() };
        if let Some(button) = button {
            let _ = button.focus();
        }
    });
    view! {
        <section class="consent" aria-labelledby="consent-text">
            <Show
                when=move || declined.get()
                fallback=move || {
                    view! {
                        <p id="consent-text" dir="auto">{text.clone()}</p>
                        <div class="actions">
                            <button type="button" class="link" on:click=move |_| on_decline.run(())>{strings.consent_decline}</button>
                            <button type="button" class="primary" node_ref=accept on:click=move |_| on_accept.run(())>
                                {strings.consent_accept}
                            </button>
                        </div>
                    }
                }
            >
                <p id="consent-text" role="status">{strings.consent_declined}</p>
                <button type="button" class="primary" node_ref=reconsider on:click=move |_| on_reconsider.run(())>
                    {strings.consent_reconsider}
                </button>
            </Show>
        </section>
    }
}
