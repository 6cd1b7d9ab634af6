//! The conversation: earlier conversations above (fetched as the visitor scrolls up), day and
//! conversation separators, messages grouped by author, and who is typing.
//!
//! Windowed: only the rows near the visible part are in the page (`state::window` decides
//! which); above and below them is padding as tall as the rows it stands for. Each drawn row is
//! measured once it is laid out, so the padding and the scrollbar converge on the truth, and a
//! history of thousands of messages costs a few dozen rows of DOM.
//!
//! The list stays where the visitor is reading: the row at the top of the view, and how far into
//! it the view starts (the anchor), stays put when rows above are loaded, drawn, measured or
//! regrouped. It follows new messages only while the visitor is at the bottom (or just sent
//! one); otherwise "new messages ↓" appears. Browser scroll anchoring is off, so this is the one
//! place that moves the scroll position.

use crate::components::message::MessageRow;
use crate::format::{day_label, utc_offset_minutes};
use crate::hooks::use_strings::use_strings;
use crate::state::{Author, ChatState, Delivery, Heights, Layout, Message, Row, RowKey, redraw, rows};
use leptos::html;
use leptos::prelude::*;
use std::ops::Range;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Within this many pixels of the bottom counts as reading the newest message.
const AT_BOTTOM_PX: i32 = 48;
/// Nearer than this to the top fetches earlier conversations.
const LOAD_OLDER_PX: i32 = 120;
/// The live region keeps this many of the newest arrivals.
const MOST_ANNOUNCED: usize = 5;
/// Before anything is measured, the newest this many rows are drawn (more than fill the
/// tallest window).
const FIRST_DRAWN_ROWS: usize = 60;

/// Which rows are drawn, named by the first and the last. No last means up to the newest, so a
/// new message at the bottom is drawn at once; no first (or one that is gone) means the
/// `FIRST_DRAWN_ROWS` before the last.
#[derive(Debug, Clone, Default, PartialEq)]
struct Drawn {
    first: Option<RowKey>,
    last: Option<RowKey>,
}

impl Drawn {
    fn of(rows: &[Row], messages: &[Message], range: Range<usize>) -> Drawn {
        Drawn {
            first: rows.get(range.start).map(|row| row.key(messages)),
            last: (range.end < rows.len()).then(|| rows[range.end.saturating_sub(1)].key(messages)),
        }
    }

    fn range(&self, rows: &[Row], messages: &[Message]) -> Range<usize> {
        let end = match &self.last {
            Some(key) => rows.iter().rposition(|row| row.is(key, messages)).map_or(rows.len(), |i| i + 1),
            None => rows.len(),
        };
        // From the end: the drawn rows are most often the newest.
        let start = match &self.first {
            Some(key) => rows[..end].iter().rposition(|row| row.is(key, messages)),
            None => None,
        };
        start.unwrap_or(end.saturating_sub(FIRST_DRAWN_ROWS))..end
    }
}

/// Where the visitor reads: the message at (or else first below) the top of the view, and how
/// far the view starts from its top. A message, not a separator: a day's separator moves up
/// when earlier messages of that day load above it.
#[derive(Debug, Clone)]
struct Anchor {
    key: RowKey,
    offset: f64,
}

impl Anchor {
    fn at(rows: &[Row], messages: &[Message], layout: &Layout, top: f64) -> Option<Anchor> {
        let at = layout.row_at(top);
        let index = (at..rows.len()).find(|&i| matches!(rows[i], Row::Message { .. })).unwrap_or(at);
        let row = rows.get(index)?;
        Some(Anchor { key: row.key(messages), offset: top - layout.top(index) })
    }

    fn top(&self, rows: &[Row], messages: &[Message], layout: &Layout) -> Option<f64> {
        let index = rows.iter().rposition(|row| row.is(&self.key, messages))?;
        Some(layout.top(index) + self.offset)
    }
}

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
    let body = NodeRef::<html::Div>::new();
    let offset = utc_offset_minutes();
    let rows = Memo::new(move |_| state.with(|s| rows(&s.messages, offset)));
    let drawn = RwSignal::new(Drawn::default());
    let heights = StoredValue::new(Heights::default());
    let layout = StoredValue::new(Layout::default());
    // Which version of the rows `layout` is for: bumped whenever the rows change.
    let rows_generation = StoredValue::new(0u64);
    let laid_out_for = StoredValue::new(0u64);
    Effect::new(move |_| {
        rows.track();
        rows_generation.update_value(|g| *g += 1);
    });
    let anchor = StoredValue::new(None::<Anchor>);
    let at_bottom = StoredValue::new(true);
    let unseen_below = RwSignal::new(false);
    // The newest arrivals, for screen readers (numbered, so each is a new line in the log).
    let announced = RwSignal::new(Vec::<(u64, String)>::new());
    let announced_count = StoredValue::new(0u64);
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

    // After rows are drawn or change: measure the drawn ones, lay all out again, put the view
    // back on the anchor (or the bottom), and move the drawn rows if the view nears their edge.
    let sync = move || {
        let (Some(el), Some(body)) = (list.get_untracked(), body.get_untracked()) else { return };
        rows.with_untracked(|rows| {
            state.with_untracked(|s| {
                let messages = &s.messages;
                let range = drawn.with_untracked(|d| d.range(rows, messages));
                let children = body.children();
                // Until the drawn rows are in the page (a redraw is pending) they are not measured.
                let mut remeasured = false;
                if children.length() as usize == range.len() {
                    heights.update_value(|h| {
                        for (i, row) in rows[range.clone()].iter().enumerate() {
                            if let Some(child) = children.item(i as u32) {
                                remeasured |= h.record(row, messages, child.get_bounding_client_rect().height());
                            }
                        }
                    });
                }
                // Laid out again only when rows or heights changed: it visits every row.
                let generation = rows_generation.get_value();
                if remeasured || laid_out_for.get_value() != generation || layout.with_value(|l| l.len() != rows.len())
                {
                    layout.set_value(heights.with_value(|h| Layout::new(rows, messages, h)));
                    laid_out_for.set_value(generation);
                }
                layout.with_value(|laid_out| {
                    set_padding(&body, laid_out.top(range.start), laid_out.total() - laid_out.top(range.end));
                    let base = f64::from(body.offset_top());
                    let client = f64::from(el.client_height());
                    let target = if at_bottom.get_value() {
                        Some(f64::from(el.scroll_height()) - client)
                    } else {
                        anchor
                            .with_value(|a| a.as_ref().and_then(|a| a.top(rows, messages, laid_out)))
                            .map(|y| y + base)
                    };
                    if let Some(target) = target
                        && (target - f64::from(el.scroll_top())).abs() >= 1.0
                    {
                        el.set_scroll_top(target.round() as i32);
                    }
                    let top = f64::from(el.scroll_top()) - base;
                    anchor.set_value(Anchor::at(rows, messages, laid_out, top));
                    if let Some(next) = redraw(laid_out, range, top, top + client) {
                        drawn.set(Drawn::of(rows, messages, next));
                    }
                })
            })
        });
        // At the top (or a short history that does not fill the window): fetch more until the
        // view is filled or the history ends.
        maybe_load_older();
    };
    // Once the reactive updates of this turn have reached the page (tasks queued after theirs).
    let sync_pending = StoredValue::new(false);
    let sync_soon = move || {
        if !sync_pending.get_value() {
            sync_pending.set_value(true);
            leptos::task::spawn_local(async move {
                sync_pending.set_value(false);
                sync();
            });
        }
    };

    let on_scroll = move |_| {
        let (Some(el), Some(body)) = (list.get_untracked(), body.get_untracked()) else { return };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() < AT_BOTTOM_PX;
        at_bottom.set_value(bottom);
        if bottom {
            unseen_below.set(false);
        }
        let top = f64::from(el.scroll_top() - body.offset_top());
        let client = f64::from(el.client_height());
        rows.with_untracked(|rows| {
            state.with_untracked(|s| {
                layout.with_value(|laid_out| {
                    if laid_out.len() != rows.len() {
                        return sync_soon();
                    }
                    anchor.set_value(Anchor::at(rows, &s.messages, laid_out, top));
                    let range = drawn.with_untracked(|d| d.range(rows, &s.messages));
                    if let Some(next) = redraw(laid_out, range, top, top + client) {
                        drawn.set(Drawn::of(rows, &s.messages, next));
                    }
                })
            })
        });
        maybe_load_older();
    };

    // A new newest message: follow it if the visitor is at the bottom or wrote it, else offer
    // the jump. Any change (and any redraw) is measured and laid out again.
    Effect::new(move |previous: Option<Option<RowKey>>| {
        let (last, mine) = rows.with(|rows| {
            state.with(|s| {
                let last = rows.last();
                let mine = last.and_then(|row| row.message(&s.messages)).is_some_and(|m| m.author == Author::Visitor);
                (last.map(|row| row.key(&s.messages)), mine)
            })
        });
        drawn.track();
        // A page that could not be read is asked for again once the list knows it is over.
        if let Some(loading) = loading_older {
            loading.track();
        }
        if let Some(old) = previous
            && old != last
        {
            // Announced in the live region: who said it and what (rows drawn while scrolling
            // are not news, so the list itself is not live).
            let said = rows.with_untracked(|rows| {
                state.with_untracked(|s| {
                    let message = rows.last().and_then(|row| row.message(&s.messages))?;
                    let who = match &message.author {
                        Author::Visitor => strings.you,
                        Author::Agent(agent) => strings.name_or_agent(&agent.name),
                        Author::System => return None,
                    };
                    Some(format!("{} {}", (strings.said)(who), message.text()))
                })
            });
            if let Some(said) = said {
                announced.update(|list| {
                    list.push((announced_count.get_value(), said));
                    announced_count.update_value(|n| *n += 1);
                    let excess = list.len().saturating_sub(MOST_ANNOUNCED);
                    list.drain(..excess);
                });
            }
            if mine {
                at_bottom.set_value(true);
                unseen_below.set(false);
            } else if !at_bottom.get_value() {
                unseen_below.set(true);
            }
        }
        sync_soon();
        last
    });

    // Later changes of size (a picture loaded, the window resized, the typing line shown) are
    // laid out in the next frame: a change made inside the observer's own turn would be one
    // it must report again.
    let observer = StoredValue::new_local(None::<(web_sys::ResizeObserver, Closure<dyn FnMut()>)>);
    Effect::new(move |_| {
        let (Some(el), Some(body)) = (list.get(), body.get()) else { return };
        let frame_pending = StoredValue::new(false);
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            if !frame_pending.get_value() {
                frame_pending.set_value(true);
                request_animation_frame(move || {
                    frame_pending.set_value(false);
                    sync();
                });
            }
        });
        if let Ok(resize) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            resize.observe(&el);
            resize.observe(&body);
            observer.set_value(Some((resize, on_resize)));
        }
    });
    on_cleanup(move || {
        if let Some(Some((resize, _))) = observer.try_update_value(Option::take) {
            resize.disconnect();
        }
    });

    let jump_down = move |_| {
        at_bottom.set_value(true);
        unseen_below.set(false);
        sync();
    };
    let typing = move || state.with(|s| s.typing.as_ref().map(|a| (strings.typing)(strings.name_or_agent(&a.name))));

    view! {
        <div class="messages-wrap">
            <Show when=loading>
                <p class="loading-older" role="status">{strings.loading_older}</p>
            </Show>
            <div class="sr-only" role="log" aria-live="polite" aria-relevant="additions">
                <For each=move || announced.get() key=|(n, _)| *n children=|(_, said)| view! { <p>{said}</p> } />
            </div>
            <div class="messages" node_ref=list role="region" aria-label=strings.conversation tabindex="0" on:scroll=on_scroll>
                <Show when=move || state.with(|s| s.messages.is_empty())>
                    <p class="empty">{strings.welcome}</p>
                </Show>
                <div class="rows" node_ref=body>
                    <For
                        each=move || {
                            let drawn = drawn.get();
                            rows.with(|rows| {
                                state.with(|s| {
                                    let range = drawn.range(rows, &s.messages);
                                    rows[range].iter().map(|row| Shown::of(row, &s.messages)).collect::<Vec<_>>()
                                })
                            })
                        }
                        key=Shown::key
                        children=move |shown: Shown| {
                            let row = match shown {
                                Shown::Day { unix_seconds, .. } => view! {
                                    <div class="separator day" role="separator"><span>{day_label(strings, unix_seconds)}</span></div>
                                }
                                .into_any(),
                                Shown::NewConversation { .. } => view! {
                                    <div class="separator thread" role="separator"><span>{strings.new_conversation}</span></div>
                                }
                                .into_any(),
                                Shown::Message { message, first, last } => match on_cancel_upload {
                                    Some(on_cancel) => view! { <MessageRow message first last on_retry on_cancel /> }.into_any(),
                                    None => view! { <MessageRow message first last on_retry /> }.into_any(),
                                },
                            };
                            view! { <div class="row">{row}</div> }
                        }
                    />
                </div>
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

/// A drawn row with what it shows (a copy of its message: only drawn rows are copied).
#[derive(Clone)]
enum Shown {
    Day { day: i64, unix_seconds: i64 },
    NewConversation { thread_id: String },
    Message { message: Message, first: bool, last: bool },
}

impl Shown {
    fn of(row: &Row, messages: &[Message]) -> Shown {
        match row {
            Row::Day { day, unix_seconds } => Shown::Day { day: *day, unix_seconds: *unix_seconds },
            Row::NewConversation { thread_id } => Shown::NewConversation { thread_id: thread_id.clone() },
            Row::Message { index, first, last } => {
                Shown::Message { message: messages[*index].clone(), first: *first, last: *last }
            }
        }
    }

    /// Changes whenever what the row shows changes, so the row is drawn again.
    fn key(&self) -> String {
        match self {
            Shown::Day { day, .. } => format!("day-{day}"),
            Shown::NewConversation { thread_id } => format!("thread-{thread_id}"),
            Shown::Message { message, first, last } => {
                // Written out rather than with Debug, whose formatting the release widget leaves out.
                let delivery = match &message.delivery {
                    Delivery::Uploading(percent) => format!("uploading {percent}"),
                    Delivery::Sending => "sending".to_owned(),
                    Delivery::Sent => "sent".to_owned(),
                    Delivery::Seen => "seen".to_owned(),
                    Delivery::Failed(why) => format!("failed {why}"),
                };
                let seq = message.seq.map_or(-1, |seq| seq as i64);
                format!("{}|{first}|{last}|{delivery}|{seq}", message.key)
            }
        }
    }
}

/// The padding that stands for the rows not drawn above and below.
fn set_padding(body: &web_sys::HtmlDivElement, above: f64, below: f64) {
    let style = web_sys::HtmlElement::style(body);
    let _ = style.set_property("padding-top", &css_px(above));
    let _ = style.set_property("padding-bottom", &css_px(below));
}

/// `12.34px`: to the hundredth, written with integers (formatting a float would link the
/// float printer, kilobytes of wasm, for this one use).
fn css_px(value: f64) -> String {
    let hundredths = (value.max(0.0) * 100.0).round() as u64;
    format!("{}.{:02}px", hundredths / 100, hundredths % 100)
}
