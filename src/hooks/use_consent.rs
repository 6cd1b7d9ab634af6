//! The optional consent step (`data-consent` on the script tag): until the visitor accepts,
//! the widget neither connects nor stores anything. An acceptance is kept in the widget's
//! storage (`confab:consent:{org}`), so the site's other pages connect at once; declining
//! stores nothing, and the visitor may change their mind.

use crate::config::WidgetConfig;
use crate::hooks::stored::Stored;
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// The window asks.
    Asking,
    /// The visitor said no: the chat stays off.
    Declined,
    /// Not asked by the site, or accepted (now or on an earlier page).
    Given,
}

#[derive(Clone, Copy)]
pub struct UseConsent {
    pub consent: RwSignal<Consent>,
    pub accept: Callback<()>,
    pub decline: Callback<()>,
    /// Back to the question after declining.
    pub reconsider: Callback<()>,
}

pub fn use_consent(config: &WidgetConfig) -> UseConsent {
    let kept = Stored::<bool>::new(format!("confab:consent:{}", config.organization_id));
    let initial = match &config.consent {
        None => Consent::Given,
        // Read only: a site that asks for consent gets nothing written before it.
        Some(_) if kept.load() == Some(true) => Consent::Given,
        Some(_) => Consent::Asking,
    };
    let consent = RwSignal::new(initial);
    let kept = StoredValue::new(kept);
    UseConsent {
        consent,
        accept: Callback::new(move |()| {
            kept.with_value(|k| k.save(&true));
            consent.set(Consent::Given);
        }),
        decline: Callback::new(move |()| consent.set(Consent::Declined)),
        reconsider: Callback::new(move |()| consent.set(Consent::Asking)),
    }
}
