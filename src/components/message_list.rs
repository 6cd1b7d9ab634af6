//! The conversation: earlier conversations above (fetched as the visitor scrolls up), day and
//! conversation separators, messages grouped by author, and who is typing.
//!
//! The list stays where the visitor is reading: it follows new messages only while they are
//! at the bottom (or just sent one); otherwise "new messages ↓" appears. Older messages
//! loaded above keep the visible ones in place (browser scroll anchoring is off, so this is
//! the one place that moves the scroll position).

use crate::components::message::MessageRow;
use crate::format::{day_label, utc_offset_minutes};
use crate::hooks::use_strings::use_strings;
use crate::state::{Author, ChatState, Row, rows};
use leptos::html;
use leptos::prelude::*;

/// Within this many pixels of the bottom counts as reading the newest message.
const AT_BOTTOM_PX: i32 = 48;
/// Nearer than this to the top fetches earlier conversations.
const LOAD_OLDER_PX: i32 = 120;

#[component]
pub fn MessageList(
    state: RwSignal<ChatState>,
    on_retry: Callback<String>,
    #[prop(optional)] on_load_older: Option<Callback<()>>,
    #[prop(optional)] loading_older: Option<RwSignal<bool>>,
    #[prop(optional)] on_cancel_upload: Option<Callback<String>>,
) -> impl IntoView {
    let strings = use_strings();
    let list = NodeRef::<html::Div>::new();
    let offset = utc_offset_minutes();
    let rows = Memo::new(move |_| state.with(|s| rows(&s.messages, offset)));
    let at_bottom = StoredValue::new(true);
    let unseen_below = RwSignal::new(false);
    let loading = move || loading_older.is_some_and(|l| l.get());

    let maybe_load_older = move || {
        let Some(list) = list.get_untracked() else { return };
        let complete = state.with_untracked(|s| s.history_complete || s.chat_id.is_none());
        if list.scroll_top() < LOAD_OLDER_PX
            && !complete
            && !loading_older.is_some_and(|l| l.get_untracked())
            && let Some(load) = on_load_older
        {
            load.run(());
        }
    };
    let on_scroll = move |_| {
        if let Some(list) = list.get_untracked() {
            let bottom = list.scroll_height() - list.scroll_top() - list.client_height() < AT_BOTTOM_PX;
            at_bottom.set_value(bottom);
            if bottom {
                unseen_below.set(false);
            }
        }
        maybe_load_older();
    };

    // After each change: keep the reader's place (older rows above), follow the newest
    // message at the bottom, or offer the jump.
    Effect::new(move |previous: Option<(i32, Option<String>, Option<String>)>| {
        let (first, last, last_is_mine) = rows.with(|rows| {
            let key = |row: Option<&Row>| row.map(Row::key);
            let mine = matches!(rows.last(), Some(Row::Message { message, .. }) if message.author == Author::Visitor);
            (key(rows.first()), key(rows.last()), mine)
        });
        state.with(|s| s.typing.is_some());
        let Some(el) = list.get() else { return (0, first, last) };
        let height = el.scroll_height();
        if let Some((old_height, old_first, old_last)) = previous {
            let grew_above = old_first.is_some() && old_first != first && old_last == last;
            if grew_above && !at_bottom.get_value() {
                el.set_scroll_top(el.scroll_top() + height - old_height);
            } else if at_bottom.get_value() || (last_is_mine && old_last != last) {
                el.set_scroll_top(height);
                unseen_below.set(false);
            } else if old_last != last {
                unseen_below.set(true);
            }
        } else {
            el.set_scroll_top(height);
        }
        // A short history does not fill the window: fetch more until it does or ends.
        if el.scroll_height() <= el.client_height() {
            maybe_load_older();
        }
        (height, first, last)
    });

    let jump_down = move |_| {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        at_bottom.set_value(true);
        unseen_below.set(false);
    };
    let typing = move || state.with(|s| s.typing.as_ref().map(|a| (strings.typing)(strings.name_or_agent(&a.name))));

    view! {
        <div class="messages-wrap">
            <div class="messages" node_ref=list role="log" aria-live="polite" aria-relevant="additions" on:scroll=on_scroll>
                <Show when=loading>
                    <p class="loading-older" role="status">{strings.loading_older}</p>
                </Show>
                <Show when=move || state.with(|s| s.messages.is_empty())>
                    <p class="empty">{strings.welcome}</p>
                </Show>
                <For
                    each=move || rows.get()
                    key=|row: &Row| match row {
                        Row::Message { message, first, last } => {
                            format!("{}|{first}|{last}|{:?}|{:?}", message.key, message.delivery, message.seq)
                        }
                        other => other.key(),
                    }
                    children=move |row: Row| match row {
                        Row::Day { unix_seconds, .. } => view! {
                            <div class="separator day" role="separator"><span>{day_label(strings, unix_seconds)}</span></div>
                        }
                        .into_any(),
                        Row::NewConversation { .. } => view! {
                            <div class="separator thread" role="separator"><span>{strings.new_conversation}</span></div>
                        }
                        .into_any(),
                        Row::Message { message, first, last } => match on_cancel_upload {
                            Some(on_cancel) => view! { <MessageRow message first last on_retry on_cancel /> }.into_any(),
                            None => view! { <MessageRow message first last on_retry /> }.into_any(),
                        },
                    }
                />
            </div>
            <Show when=move || typing().is_some()>
                <p class="typing" aria-live="off"><span class="dots" aria-hidden="true"></span>{typing}</p>
            </Show>
            <Show when=move || unseen_below.get()>
                <button type="button" class="jump" on:click=jump_down>{strings.new_messages}</button>
            </Show>
        </div>
    }
}
