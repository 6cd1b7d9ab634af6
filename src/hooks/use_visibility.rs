//! `use_visibility`: whether the widget's document is visible (the tab in front, not
//! minimised). A frame shares its page's visibility, so this is the host page's too.

use leptos::prelude::*;

pub fn use_visibility() -> ReadSignal<bool> {
    let visible = RwSignal::new(!document().hidden());
    let handle = window_event_listener_untyped("visibilitychange", move |_| visible.set(!document().hidden()));
    on_cleanup(move || handle.remove());
    visible.read_only()
}
