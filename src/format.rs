//! Times for people, in the visitor's language and time zone, by the browser (`Intl` through
//! `Date.toLocale…`): nothing about calendars is shipped in the widget.

use crate::i18n::Strings;
use crate::state::{local_day, unix_seconds};
use wasm_bindgen::JsValue;

/// The visitor's offset from UTC in minutes, east positive.
pub fn utc_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

fn date(unix_seconds: i64) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0))
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let options = js_sys::Object::new();
    for (key, value) in pairs {
        let _ = js_sys::Reflect::set(&options, &(*key).into(), &(*value).into());
    }
    options.into()
}

/// "14:05" / "2:05 PM" for an RFC 3339 time.
pub fn time_of_day(strings: &Strings, rfc3339: &str) -> Option<String> {
    let at = unix_seconds(rfc3339)?;
    let text = date(at)
        .to_locale_time_string_with_options(strings.tag, &options(&[("hour", "numeric"), ("minute", "2-digit")]));
    Some(text.into())
}

/// "Today", "Yesterday", or the date ("Monday, 23 November").
pub fn day_label(strings: &Strings, unix_seconds: i64) -> String {
    let offset = utc_offset_minutes();
    let today = local_day((js_sys::Date::now() / 1000.0) as i64, offset);
    match today - local_day(unix_seconds, offset) {
        0 => strings.today.into(),
        1 => strings.yesterday.into(),
        _ => date(unix_seconds)
            .to_locale_date_string(strings.tag, &options(&[("weekday", "long"), ("day", "numeric"), ("month", "long")]))
            .into(),
    }
}
