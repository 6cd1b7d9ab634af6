//! The small JSON codec (`wire::Json`) against serde_json: every value serde_json writes, the
//! tree reads as the same value, and what the tree writes serde_json reads back unchanged.

use confab_protocol::wire::Json;
use proptest::prelude::*;
use serde_json::Value;

/// The tree as serde_json's value, to compare the two.
fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Int(n) => Value::from(*n),
        Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Json::Str(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Json::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        // The characters JSON escapes, and text beyond the BMP (surrogate pairs when escaped).
        "[\"\\\\/\u{0}-\u{1f}a-z😀é\u{2028}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_\u{e9}\"]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn reads_what_serde_json_writes_and_writes_what_it_reads(value in any_value()) {
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            let tree = Json::parse(&text).unwrap();
            prop_assert_eq!(to_value(&tree), value.clone());
            let written = tree.to_text();
            prop_assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), value.clone());
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses(text in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,16}") {
        prop_assert_eq!(Json::parse(&text).is_ok(), serde_json::from_str::<Value>(&text).is_ok(), "{:?}", text);
    }
}

#[test]
fn escaped_text_reads_as_serde_json_reads_it() {
    for text in [r#""\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\""#, r#""\u0000""#, r#"{"a":1,"a":2}"#] {
        let ours = to_value(&Json::parse(text).unwrap());
        let theirs: Value = serde_json::from_str(text).unwrap();
        if text.starts_with('{') {
            // serde_json keeps the last of repeated keys in a map; the tree keeps both, and
            // finds the first. Frames never repeat a key.
            assert_eq!(Json::parse(text).unwrap().get("a"), Some(&Json::Int(1)));
        } else {
            assert_eq!(ours, theirs, "{text}");
        }
    }
}

/// serde's rules, as the widget's codec follows them on the wire types: unknown members are
/// ignored, missing options and defaults are filled, a missing required member or a wrong type
/// is an error that names where.
#[test]
fn the_wire_types_read_by_serde_rules_with_errors_that_say_where() {
    use confab_protocol::entity::{Chat, Thread};
    use confab_protocol::wire::FromWire;
    let read = |text: &str| Chat::from_wire(&Json::parse(text).unwrap());

    let chat = read(r#"{"id":"C1","novel":{"x":1}}"#).unwrap();
    assert_eq!((chat.id.as_str(), chat.users.len(), chat.thread.is_none()), ("C1", 0, true));
    assert_eq!(read(r#"{"users":[]}"#).unwrap_err().0, "Chat: missing field `id`");
    assert_eq!(
        read(r#"{"id":"C1","thread":{"id":"T1","created_at":"t","active":"yes"}}"#).unwrap_err().0,
        "Chat.thread: Thread.active: bool: expected a boolean, found a string"
    );
    assert_eq!(read(r#"{"id":"C1","users":null}"#).unwrap_err().0, "Chat.users: list: expected an array, found null");
    let thread = Thread::from_wire(&Json::parse(r#"{"id":"T1","created_at":"t","active":true,"events":[]}"#).unwrap());
    assert_eq!(thread.unwrap().user_ids, Vec::<String>::new());
}
