//! `use_strings`: the visitor's language, provided once by the app (`provide_strings`).
//! Components mounted alone (in tests) speak English.

use crate::i18n::{Lang, Strings};
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct Language(&'static Strings);

/// Makes `strings` the language of every component below.
pub fn provide_strings(strings: &'static Strings) {
    provide_context(Language(strings));
}

pub fn use_strings() -> &'static Strings {
    use_context::<Language>().map_or(Lang::En.strings(), |Language(strings)| strings)
}
