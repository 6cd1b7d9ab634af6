//! The greeting card: an agent's invitation to chat, with their face, name and words, a
//! "Reply" that takes it up and a close button that declines it.
//!
//! While the window is closed the loader sizes the frame to this card alone (above the
//! bubble); in the open window it sits above the composer until answered. The words are
//! text nodes, never markup.

use crate::components::message::Avatar;
use crate::hooks::use_strings::use_strings;
use crate::state::GreetingCard;
use leptos::prelude::*;

#[component]
pub fn Greeting(greeting: GreetingCard, on_reply: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let strings = use_strings();
    let name = strings.name_or_agent(&greeting.agent.name).to_owned();
    let label = (strings.greeting_from)(&name);
    view! {
        <section class="greeting" aria-label=label>
            <Avatar agent=greeting.agent />
            <div class="greeting-body">
                <p class="greeting-name" dir="auto">{name}</p>
                <p class="greeting-text" dir="auto">{greeting.text}</p>
                <button type="button" class="greeting-reply" on:click=move |_| on_reply.run(())>
                    {strings.greeting_reply}
                </button>
            </div>
            <button
                type="button"
                class="greeting-close"
                aria-label=strings.greeting_close
                title=strings.greeting_close
                on:click=move |_| on_close.run(())
            >
                "×"
            </button>
        </section>
    }
}
