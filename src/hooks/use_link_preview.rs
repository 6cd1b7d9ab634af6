//! Link previews: a message's first web link gets a card (title, description, picture) from
//! the server's `get_url_info`. One lookup per address per page, shared by every message that
//! has it and kept while rows of the windowed list come and go; a bounded number of addresses
//! and of lookups at once. A failed lookup, or a page without a title, shows no card.

use confab_protocol::action::UrlInfo;
use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;
use std::rc::Rc;

/// Addresses looked up per page; later ones show as plain links.
pub const MAX_PREVIEWED_LINKS: usize = 100;
/// Lookups waiting for the server at once; a link met meanwhile shows plain (the server's own
/// rate per customer is low, and a history of links must not spend it all).
pub const MAX_PREVIEW_LOOKUPS: usize = 4;

/// What a message's card shows.
pub type Preview = Option<UrlInfo>;

/// Asks the server about an address (`Client::get_url_info`; `None` on any failure).
pub type Lookup = Rc<dyn Fn(String) -> LocalBoxFuture<'static, Option<UrlInfo>>>;

/// The previews of this page, by address. Provided by the chat (`use_chat`), read by messages.
#[derive(Clone, Copy)]
pub struct LinkPreviews {
    lookup: StoredValue<Option<Lookup>, LocalStorage>,
    /// `None` while its lookup is under way. Reference-counted signals: a row that asked may be
    /// gone (scrolled away) when the answer comes; the next one to show the link reads it here.
    known: StoredValue<HashMap<String, ArcRwSignal<Option<Preview>>>>,
    in_flight: StoredValue<usize>,
}

impl LinkPreviews {
    pub fn new(lookup: Lookup) -> Self {
        Self {
            lookup: StoredValue::new_local(Some(lookup)),
            known: StoredValue::new(HashMap::new()),
            in_flight: StoredValue::new(0),
        }
    }

    /// The preview of `url`: `None` until known (and for good when it cannot be had).
    pub fn of(self, url: &str) -> Signal<Option<UrlInfo>> {
        if let Some(known) = self.known.with_value(|k| k.get(url).cloned()) {
            return Signal::derive(move || known.get().flatten());
        }
        let full = self.known.with_value(HashMap::len) >= MAX_PREVIEWED_LINKS;
        if full || self.in_flight.get_value() >= MAX_PREVIEW_LOOKUPS {
            return Signal::derive(|| None);
        }
        let Some(lookup) = self.lookup.with_value(Clone::clone) else { return Signal::derive(|| None) };
        let result = ArcRwSignal::new(None::<Preview>);
        self.known.update_value(|k| {
            k.insert(url.to_owned(), result.clone());
        });
        self.in_flight.update_value(|n| *n += 1);
        let (url, in_flight, answer) = (url.to_owned(), self.in_flight, result.clone());
        spawn_local(async move {
            let info = lookup(url).await.filter(|i| i.title.as_deref().is_some_and(|t| !t.trim().is_empty()));
            in_flight.update_value(|n| *n = n.saturating_sub(1));
            answer.set(Some(info));
        });
        Signal::derive(move || result.get().flatten())
    }
}

/// The page's previews, if the chat provides them (components shown alone in tests do not).
pub fn use_link_previews() -> Option<LinkPreviews> {
    use_context::<LinkPreviews>()
}
