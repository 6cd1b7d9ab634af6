//! The widget: header, messages, composer.

use crate::components::{composer::Composer, header::Header, message_list::MessageList};
use crate::config::WidgetConfig;
use crate::hooks::{use_chat::use_chat, use_host::use_host};
use leptos::prelude::*;

#[component]
pub fn App(config: WidgetConfig) -> impl IntoView {
    let host = use_host(&config);
    let unread = RwSignal::new(0u32);
    let on_new_message = Callback::new(move |()| {
        if !host.is_open.get_untracked() {
            unread.update(|n| *n += 1);
            host.set_unread.run(unread.get_untracked());
        }
    });
    let chat = use_chat(&config, on_new_message);
    let focus = Trigger::new();
    // Opening clears the badge and puts the cursor in the composer.
    Effect::new(move |_| {
        if host.is_open.get() {
            if unread.get_untracked() > 0 {
                unread.set(0);
                host.set_unread.run(0);
            }
            focus.notify();
        }
    });
    let can_close = config.host_origin.is_some();

    view! {
        <main class="confab">
            <Header connection=chat.connection on_close=host.close can_close />
            <MessageList state=chat.state on_retry=chat.retry />
            <Composer on_send=chat.send connection=chat.connection focus />
        </main>
    }
}
