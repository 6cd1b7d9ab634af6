//! Every request payload of protocol.md §7 and every push payload of §12, written as the
//! document gives them, decodes into our types and encodes back to the same JSON. And every
//! action and push name the table declares has an example here, so a new one cannot be added
//! without its fixture.

use confab_protocol::push::Push;
use confab_protocol::{Request, RequestFrame, ServerFrame};
use serde_json::{Value, json};

/// One documented request payload per action (protocol.md §7, §13 for v3.5 names).
fn requests() -> Vec<(&'static str, Value)> {
    vec![
        (
            "login",
            json!({"token": "Bearer t", "customer": {"name": "Ann"}, "group_id": 0, "customer_page": {"url": "https://shop.example/", "title": "Shop"}, "pushes": {"3.5": ["incoming_event"]}}),
        ),
        (
            "start_chat",
            json!({"chat": {"access": {"group_ids": [0]}, "properties": {"source": {"page": "home"}}, "thread": {"events": [{"type": "message", "text": "hi", "custom_id": "c1"}]}}, "continuous": false, "active": true}),
        ),
        ("resume_chat", json!({"chat": {"id": "CHAT1", "thread": {"events": []}}, "active": true})),
        (
            "activate_chat",
            json!({"chat": {"id": "CHAT1", "access": {"group_ids": [1]}, "properties": {}, "thread": {"properties": {}}}, "continuous": true}),
        ),
        ("deactivate_chat", json!({"id": "CHAT1"})),
        (
            "send_event",
            json!({"chat_id": "CHAT1", "event": {"type": "message", "text": "hi", "custom_id": "c2", "properties": {"ns": {"k": 1}}}, "attach_to_last_thread": true}),
        ),
        ("get_chat", json!({"chat_id": "CHAT1", "thread_id": "T1"})),
        ("list_chats", json!({"limit": 10, "page_id": "p"})),
        ("list_threads", json!({"chat_id": "CHAT1", "sort_order": "desc", "limit": 3, "min_events_count": 25})),
        ("update_chat_properties", json!({"id": "CHAT1", "properties": {"ns": {"a": "b"}}})),
        ("delete_chat_properties", json!({"id": "CHAT1", "properties": {"ns": ["a"]}})),
        (
            "update_thread_properties",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "properties": {"rating": {"score": 1, "comment": "Great help"}}}),
        ),
        (
            "delete_thread_properties",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "properties": {"rating": ["score", "comment"]}}),
        ),
        (
            "update_event_properties",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "properties": {"ns": {"a": true}}}),
        ),
        (
            "delete_event_properties",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "properties": {"ns": ["a"]}}),
        ),
        ("mark_events_as_seen", json!({"chat_id": "CHAT1", "seen_up_to": "2020-06-24T12:00:42.000000Z"})),
        (
            "send_rich_message_postback",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "postback": {"id": "yes", "toggled": true}}),
        ),
        ("send_sneak_peek", json!({"chat_id": "CHAT1", "sneak_peek_text": "I would like"})),
        ("get_customer", json!({})),
        (
            "update_customer",
            json!({"name": "Ann", "email": "ann@example.com", "avatar": "https://example.com/a.png", "session_fields": [{"plan": "pro"}]}),
        ),
        ("set_customer_session_fields", json!({"session_fields": [{"plan": "pro"}, {"cart": "3"}]})),
        ("update_customer_page", json!({"url": "https://shop.example/cart", "title": "Cart"})),
        ("accept_greeting", json!({"greeting_id": 7, "unique_id": "Q10X0W041P"})),
        ("cancel_greeting", json!({"unique_id": "Q10X0W041P"})),
        ("get_form", json!({"group_id": 0, "type": "prechat"})),
        ("get_predicted_agent", json!({"group_id": 0})),
        ("get_url_info", json!({"url": "https://example.com/"})),
        ("list_group_statuses", json!({"group_ids": [0, 1]})),
        ("ping", json!({})),
    ]
}

/// One documented push payload per push (protocol.md §12, v3.5 shapes).
fn pushes() -> Vec<(&'static str, Value)> {
    let event = json!({"id": "E1", "created_at": "2020-06-24T12:00:00.000000Z", "author_id": "a1", "type": "message", "text": "hi"});
    let chat = json!({"id": "CHAT1", "users": [{"id": "c1", "type": "customer", "present": true}, {"id": "a1", "type": "agent", "name": "Jane", "avatar": "https://x/a.png", "job_title": "Support", "present": true}], "properties": {}, "access": {"group_ids": [0]}, "thread": {"id": "T1", "created_at": "2020-06-24T12:00:00.000000Z", "active": true, "user_ids": ["c1", "a1"], "events": [event.clone()], "properties": {}, "queue": {"position": 2, "wait_time": 60, "queued_at": "2020-06-24T12:00:00.000000Z"}}});
    vec![
        ("incoming_chat", json!({"chat": chat, "requester_id": "c1"})),
        ("chat_deactivated", json!({"chat_id": "CHAT1", "thread_id": "T1", "user_id": "a1"})),
        (
            "chat_transferred",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "requester_id": "a1", "reason": "manual", "transferred_to": {"group_ids": [1], "agent_ids": ["a2"]}, "queue": {"position": 1, "wait_time": 30, "queued_at": "2020-06-24T12:00:00.000000Z"}}),
        ),
        (
            "user_added_to_chat",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "user": {"id": "a1", "type": "agent", "name": "Jane", "present": true}, "reason": "manual", "requester_id": "a1"}),
        ),
        (
            "user_removed_from_chat",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "user_id": "a1", "reason": "manual", "requester_id": "a1"}),
        ),
        ("incoming_event", json!({"chat_id": "CHAT1", "thread_id": "T1", "event": event.clone()})),
        ("event_updated", json!({"chat_id": "CHAT1", "thread_id": "T1", "event": event})),
        (
            "incoming_rich_message_postback",
            json!({"user_id": "c1", "chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "postback": {"id": "yes", "toggled": true}}),
        ),
        ("chat_properties_updated", json!({"chat_id": "CHAT1", "properties": {"ns": {"a": 1}}})),
        ("chat_properties_deleted", json!({"chat_id": "CHAT1", "properties": {"ns": ["a"]}})),
        (
            "thread_properties_updated",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "properties": {"lc2": {"queue_pos": 2, "queue_waiting_time": 60}}}),
        ),
        (
            "thread_properties_deleted",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "properties": {"rating": ["score"]}}),
        ),
        (
            "event_properties_updated",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "properties": {"ns": {"a": 1}}}),
        ),
        (
            "event_properties_deleted",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "event_id": "E1", "properties": {"ns": ["a"]}}),
        ),
        (
            "events_marked_as_seen",
            json!({"user_id": "a1", "chat_id": "CHAT1", "seen_up_to": "2020-06-24T12:00:42.000000Z"}),
        ),
        (
            "incoming_typing_indicator",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "typing_indicator": {"author_id": "a1", "is_typing": true, "recipients": "all", "timestamp": 1593000000}}),
        ),
        (
            "incoming_sneak_peek",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "sneak_peek": {"author_id": "c1", "text": "I would", "timestamp": 1593000000}}),
        ),
        (
            "customer_updated",
            json!({"id": "c1", "name": "Ann", "email": "ann@example.com", "session_fields": [{"plan": "pro"}]}),
        ),
        (
            "customer_page_updated",
            json!({"customer_id": "c1", "url": "https://shop.example/cart", "title": "Cart", "opened_at": "2020-06-24T12:00:00.000000Z"}),
        ),
        ("customer_side_storage_updated", json!({"customer_side_storage": {"k": "v"}})),
        (
            "incoming_multicast",
            json!({"author_id": "a1", "type": "lc2", "content": {"name": "groups_update", "groups": [{"id": 0, "status": "offline"}]}}),
        ),
        (
            "incoming_greeting",
            json!({"id": 7, "unique_id": "Q10X0W041P", "displayed_first_time": true, "accepted": false, "subtype": "greeting", "event": {"id": "G1", "created_at": "2020-06-24T12:00:00.000000Z", "type": "message", "text": "Need help?"}, "agent": {"id": "a1", "name": "Jane", "avatar": "https://x/a.png", "job_title": "Support", "is_bot": false}}),
        ),
        ("greeting_accepted", json!({"unique_id": "Q10X0W041P"})),
        ("greeting_canceled", json!({"unique_id": "Q10X0W041P"})),
        (
            "queue_position_updated",
            json!({"chat_id": "CHAT1", "thread_id": "T1", "queue": {"position": 1, "wait_time": 30}}),
        ),
        ("groups_status_updated", json!({"groups": [{"id": 0, "status": "online_for_queue"}]})),
        ("customer_disconnected", json!({"reason": "misdirected_connection", "data": {"region": "fra"}})),
    ]
}

#[test]
fn every_action_has_a_documented_example_that_round_trips() {
    let examples = requests();
    let names: Vec<&str> = examples.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, Request::NAMES, "one example per action, in the table's order");
    for (action, payload) in examples {
        let frame = json!({"request_id": "r1", "action": action, "payload": payload});
        let decoded = RequestFrame::decode(&frame.to_string()).unwrap_or_else(|e| panic!("{action}: {e}"));
        assert_eq!(decoded.request.name(), action);
        let again: Value = serde_json::from_str(&decoded.encode()).unwrap();
        assert_eq!(again, frame, "{action} re-encodes to the same JSON");
    }
}

#[test]
fn every_push_has_a_documented_example_that_round_trips() {
    let examples = pushes();
    let names: Vec<&str> = examples.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, Push::NAMES, "one example per push, in the table's order");
    for (push, payload) in examples {
        let frame = json!({"action": push, "type": "push", "payload": payload});
        let decoded = ServerFrame::decode(&frame.to_string()).unwrap_or_else(|e| panic!("{push}: {e}"));
        let again: Value = serde_json::from_str(&decoded.encode()).unwrap();
        assert_eq!(again, frame, "{push} re-encodes to the same JSON");
    }
}

#[test]
fn the_event_kinds_a_client_sends_round_trip() {
    let events = [
        json!({"type": "message", "text": "hi", "postback": {"id": "p", "thread_id": "T1", "event_id": "E1", "type": "message", "value": "yes"}}),
        json!({"type": "file", "url": "https://example.com/a.png", "alternative_text": "a cat"}),
        json!({"type": "filled_form", "form_id": "prechat", "custom_id": "f1", "fields": [
            {"id": "0", "type": "name", "label": "Your name", "answer": "Ann"},
            {"id": "1", "type": "group_chooser", "label": "Topic", "answer": {"group_id": 1, "label": "Sales"}},
            {"id": "2", "type": "checkbox", "label": "Pick", "answers": [{"id": "a", "label": "A"}]}]}),
        json!({"type": "rich_message", "template_id": "cards", "elements": [{"title": "Shoes", "subtitle": "Red", "image": {"url": "https://example.com/s.png", "name": "s.png"}, "buttons": [{"type": "message", "text": "Buy", "postback_id": "buy", "user_ids": [], "value": "buy", "role": "primary"}, {"type": "url", "text": "More", "value": "https://example.com", "target": "new"}]}]}),
        json!({"type": "system_message", "text": "Ann rated the chat", "system_message_type": "rating.chat_rated", "text_vars": {"score": "good"}}),
        json!({"type": "custom", "content": {"anything": [1, 2]}}),
    ];
    for event in events {
        let decoded: confab_protocol::Event = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), event);
    }
}

/// The widget's codec (`wire`) against serde on every documented payload: both read the same
/// value, and the wire codec writes it back as the same JSON.
#[test]
fn both_codecs_read_and_write_every_documented_payload_alike() {
    use confab_protocol::frame::PayloadError;
    use confab_protocol::wire::Json;
    use serde_json::value::RawValue;
    use std::fmt::Debug;

    fn alike<T: PartialEq + Debug>(
        examples: Vec<(&str, Value)>,
        serde: fn(&str, Option<&RawValue>) -> Result<T, PayloadError>,
        wire: fn(&str, &Json) -> Result<T, PayloadError>,
        write: fn(&T) -> Option<Json>,
    ) {
        for (name, payload) in examples {
            let raw = serde_json::value::to_raw_value(&payload).unwrap();
            let by_serde = serde(name, Some(&raw)).unwrap();
            let by_wire = wire(name, &Json::parse(&payload.to_string()).unwrap()).unwrap();
            assert_eq!(by_wire, by_serde, "{name}: the two codecs read different values");
            let written = write(&by_wire).map_or_else(|| "null".to_owned(), |p| p.to_text());
            assert_eq!(
                serde_json::from_str::<Value>(&written).unwrap(),
                payload,
                "{name}: the wire codec writes other JSON"
            );
        }
    }
    alike(requests(), Request::from_parts, Request::from_wire_parts, Request::wire_payload);
    alike(pushes(), Push::from_parts, Push::from_wire_parts, Push::wire_payload);
}
