//! The widget: header, conversation, and at the bottom the composer, or, once a conversation
//! has ended, the rating and "start a new chat". While the window is closed and an agent's
//! greeting waits, only the greeting card shows (the loader frames it above the bubble).
//!
//! The app picks the language (the site's `lang`, else the browser's) and sets the document's
//! `lang` and `dir`, applies the site's colour, and closes the window on Escape. When the site
//! asks for consent (`data-consent`), it shows the question first and starts the chat only
//! after a yes.

use crate::components::{
    composer::Composer, consent::ConsentView, ended::Ended, form::FormView, greeting::Greeting, header::Header,
    message_list::MessageList, rich::RichChoices,
};
use crate::config::WidgetConfig;
use crate::hooks::use_chat::use_chat;
use crate::hooks::use_consent::{Consent, use_consent};
use crate::hooks::use_host::{HostCommand, UseHost, use_host};
use crate::hooks::use_strings::{provide_strings, use_strings};
use crate::i18n::{Lang, Strings};
use crate::state::{ChatState, Connection, Footer, RatingState};
use futures::channel::mpsc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn App(config: WidgetConfig) -> impl IntoView {
    let strings = language(&config);
    provide_strings(strings);
    if let Some(color) = &config.color {
        set_root_style("--brand", color);
    }

    let (host, commands) = use_host(&config);
    let can_close = config.host_origin.is_some();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && can_close && host.is_open.get_untracked() {
            ev.prevent_default();
            host.close.run(());
        }
    });
    on_cleanup(move || handle.remove());

    // With `data-consent`, nothing connects or is stored until the visitor accepts.
    let consent = use_consent(&config);
    let commands = StoredValue::new_local(Some(commands));
    let focus = Trigger::new();
    Effect::new(move |_| {
        if host.is_open.get() {
            focus.notify();
        }
    });
    let consent_text = config.consent.clone().unwrap_or_default();
    let chat = move || {
        let commands = commands.try_update_value(Option::take).flatten()?;
        Some(view! { <Chat config=config.clone() host commands /> })
    };
    view! {
        <Show
            when=move || consent.consent.get() == Consent::Given
            fallback=move || {
                view! {
                    <main class="confab">
                        <header class="header">
                            <div class="title">
                                <h1>{strings.title}</h1>
                                <p class="subtitle">{strings.subtitle}</p>
                            </div>
                            <Show when=move || can_close>
                                <button type="button" class="minimize" aria-label=strings.minimize on:click=move |_| host.close.run(())>
                                    <span aria-hidden="true">"–"</span>
                                </button>
                            </Show>
                        </header>
                        <ConsentView
                            text=consent_text.clone()
                            declined=Signal::derive(move || consent.consent.get() == Consent::Declined)
                            on_accept=consent.accept
                            on_decline=consent.decline
                            on_reconsider=consent.reconsider
                            focus
                        />
                    </main>
                }
            }
        >
            {chat.clone()}
        </Show>
    }
}

/// The chat itself: started only once the visitor may chat (see `use_consent`).
#[component]
fn Chat(config: WidgetConfig, host: UseHost, commands: mpsc::UnboundedReceiver<HostCommand>) -> impl IntoView {
    let strings = use_strings();
    let unread = RwSignal::new(0u32);
    let on_new_message = Callback::new(move |()| {
        if !host.is_open.get_untracked() {
            unread.update(|n| *n += 1);
            host.set_unread.run(unread.get_untracked());
        }
    });
    let chat = use_chat(&config, host, commands, strings, on_new_message);
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

    let state = chat.state;
    provide_context(RichChoices { state, choose: chat.choose });
    provide_context(chat.previews);
    // Recomputed on every change, but the footer is rebuilt only when what it shows changes.
    let footer = Memo::new(move |_| state.with(ChatState::footer));
    let start_new = Callback::new(move |()| {
        state.update(|s| s.start_new());
        focus.notify();
    });
    // Files dragged over the window: it shows where they would go.
    let dropping = RwSignal::new(false);
    let change_rating = Callback::new(move |()| state.update(|s| s.rated(RatingState::Asking)));

    // A greeting: the loader shows the card while the window is closed.
    let greeting = Memo::new(move |_| state.with(|s| s.greeting.clone()));
    let greeting_shown = Memo::new(move |_| greeting.with(Option::is_some));
    Effect::new(move |_| host.show_greeting.run(greeting_shown.get()));
    let card_only = move || greeting_shown.get() && !host.is_open.get();
    let reply = Callback::new(move |()| {
        host.open.run(());
        chat.accept_greeting.run(());
        focus.notify();
    });
    let greeting_view = move || {
        greeting.get().map(|greeting| view! { <Greeting greeting on_reply=reply on_close=chat.cancel_greeting /> })
    };

    view! {
        {move || card_only().then(|| view! { <div class="greeting-only">{greeting_view}</div> })}
        <main
            class="confab"
            hidden=card_only
            class:dropping=move || dropping.get()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                if carries_files(&ev) {
                    ev.prevent_default();
                    dropping.set(true);
                }
            }
            on:dragleave=move |_| dropping.set(false)
            on:drop=move |ev: leptos::ev::DragEvent| {
                dropping.set(false);
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    ev.prevent_default();
                    if chat.connection.with_untracked(Connection::accepts_files) {
                        for file in (0..files.length()).filter_map(|i| files.get(i)) {
                            chat.attach.run(file);
                        }
                    }
                }
            }
        >
            <Header connection=chat.connection on_close=host.close can_close state on_reconnect=chat.reconnect />
            <MessageList
                state
                on_retry=chat.retry
                on_load_older=chat.load_older
                loading_older=chat.loading_older
                on_cancel_upload=chat.cancel_upload
            />
            {move || (host.is_open.get() && state.with(|s| !s.active)).then(greeting_view)}
            {move || match footer.get() {
                Footer::Composer => view! {
                    <Composer on_send=chat.send connection=chat.connection focus on_typing=chat.typing on_attach=chat.attach />
                }
                .into_any(),
                Footer::Prechat(form) => view! {
                    <FormView form intro=strings.prechat_intro submit_label=strings.prechat_submit on_submit=chat.send_prechat />
                }
                .into_any(),
                Footer::Ticket(form) => view! {
                    <FormView
                        form
                        intro=strings.ticket_intro
                        submit_label=strings.ticket_submit
                        on_submit=chat.send_ticket
                        error=chat.ticket_error
                    />
                }
                .into_any(),
                Footer::TicketSent => view! { <p class="ticket-sent" role="status">{strings.ticket_sent}</p> }.into_any(),
                Footer::Ended => view! {
                    <Ended
                        state
                        on_rate=chat.rate
                        on_decline=chat.decline_rating
                        on_change=change_rating
                        on_start_new=start_new
                        on_survey=chat.send_survey
                        on_skip_survey=chat.skip_survey
                        survey_error=chat.survey_error
                    />
                }
                .into_any(),
            }}
        </main>
    }
}

/// The site's language if we speak it, else the browser's, else English; the document says
/// which (`lang`, `dir`), so screen readers and the bidi algorithm know.
fn language(config: &WidgetConfig) -> &'static Strings {
    let navigator = window().navigator();
    let browser: Vec<String> = navigator.languages().iter().filter_map(|l| l.as_string()).collect();
    // The first we speak: the site's choice, else the browser's list.
    let lang = Lang::pick(config.lang.iter().map(String::as_str).chain(browser.iter().map(String::as_str)));
    let strings = lang.strings().with_site_texts(&config.texts);
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", strings.tag);
        let _ = root.set_attribute("dir", if strings.rtl { "rtl" } else { "ltr" });
    }
    document().set_title(strings.title);
    strings
}

/// Sets a custom property on the document (CSSOM, which the widget's CSP allows).
fn set_root_style(property: &str, value: &str) {
    if let Some(root) = document().document_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = root.style().set_property(property, value);
    }
}

/// Whether a drag carries files (not text or a link from the page).
fn carries_files(ev: &leptos::ev::DragEvent) -> bool {
    ev.data_transfer().is_some_and(|d| d.types().iter().any(|t| t.as_string().as_deref() == Some("Files")))
}
