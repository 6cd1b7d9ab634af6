//! `use_attention`: an agent's reply the visitor has not seen gets the page's attention. The
//! host page's title alternates with "(N) New messages" every [`TITLE_FLASH_EVERY`], in the
//! widget's language, and with `data-sound="on"` a short tone plays, until the visitor opens
//! the chat or comes back to the tab.
//!
//! The loader only sets the title it is given (and gives the page its exact title back when
//! given none); when and what is decided here, where the chat's state is. The tone plays in
//! this frame: the loader delegates autoplay to it (`allow="autoplay"`), so once the visitor
//! has touched the page it is heard; before that the browser keeps it silent.

use crate::hooks::use_strings::use_strings;
use crate::hooks::use_visibility::use_visibility;
use leptos::prelude::*;
use std::time::Duration;

/// How long the page's title and the reminder each stay, in turn.
pub const TITLE_FLASH_EVERY: Duration = Duration::from_secs(1);
/// The tone: a short A5, quiet.
const TONE_HZ: f32 = 880.0;
const TONE_GAIN: f32 = 0.1;
const TONE_SECONDS: f64 = 0.2;

/// Returns what to call when an agent's message arrives. `set_title(Some(text))` shows `text`
/// as the page's title, `set_title(None)` restores the page's own.
pub fn use_attention(
    is_open: RwSignal<bool>,
    sound: bool,
    set_title: impl Fn(Option<String>) + Clone + Send + Sync + 'static,
) -> Callback<()> {
    let strings = use_strings();
    let visible = use_visibility();
    let missed = StoredValue::new(0u32);
    let flashing = StoredValue::new_local(None::<IntervalHandle>);
    let audio = StoredValue::new_local(None::<web_sys::AudioContext>);

    let stop = {
        let set_title = set_title.clone();
        move || {
            if let Some(handle) = flashing.try_update_value(Option::take).flatten() {
                handle.clear();
                set_title(None);
            }
            missed.set_value(0);
        }
    };
    let stop_on_open = stop.clone();
    Effect::new(move |_| {
        if is_open.get() {
            stop_on_open();
        }
    });
    // Coming back to the tab counts as seeing the badge; the reminder has done its work.
    let stop_on_return = stop.clone();
    Effect::new(move |was_visible: Option<bool>| {
        let now_visible = visible.get();
        if now_visible && was_visible == Some(false) {
            stop_on_return();
        }
        now_visible
    });
    on_cleanup(stop);

    Callback::new(move |()| {
        if is_open.get_untracked() && visible.get_untracked() {
            return;
        }
        missed.update_value(|n| *n += 1);
        if sound {
            audio.update_value(beep);
        }
        if flashing.with_value(Option::is_some) {
            return;
        }
        let reminder = move || (strings.unseen_replies)(missed.get_value());
        set_title(Some(reminder()));
        let showing = StoredValue::new(true);
        let set_title = set_title.clone();
        let flip = move || {
            let show = !showing.get_value();
            showing.set_value(show);
            set_title(show.then(reminder));
        };
        if let Ok(handle) = set_interval_with_handle(flip, TITLE_FLASH_EVERY) {
            flashing.set_value(Some(handle));
        }
    })
}

/// Plays the tone, making the audio context the first time. Nothing happens where there is no
/// audio or the browser refuses it.
fn beep(audio: &mut Option<web_sys::AudioContext>) {
    if audio.is_none() {
        *audio = web_sys::AudioContext::new().ok();
    }
    let Some(context) = audio.as_ref() else { return };
    let _ = context.resume(); // suspended when made before the visitor touched the page
    let tone = web_sys::OscillatorOptions::new();
    tone.set_frequency(TONE_HZ);
    let volume = web_sys::GainOptions::new();
    volume.set_gain(TONE_GAIN);
    let (Ok(tone), Ok(volume)) = (
        web_sys::OscillatorNode::new_with_options(context, &tone),
        web_sys::GainNode::new_with_options(context, &volume),
    ) else {
        return;
    };
    let played = tone
        .connect_with_audio_node(&volume)
        .and_then(|_| volume.connect_with_audio_node(&context.destination()))
        .and_then(|_| tone.start())
        .and_then(|_| tone.stop_with_when(context.current_time() + TONE_SECONDS));
    let _ = played;
}
