//! The frame codec: bad input yields a typed error that keeps what the envelope had; good input
//! round-trips (proptest).

use confab_protocol::action::{PingRequest, Request, SendEventRequest};
use confab_protocol::frame::{DecodeError, PushFrame, ResponseFrame};
use confab_protocol::push::{IncomingEvent, Push};
use confab_protocol::{ApiError, ErrorType, Event, EventBody, RequestFrame, Response, ServerFrame, User};
use proptest::prelude::*;

#[test]
fn v2_ping_without_payload_decodes_and_encodes_unchanged() {
    let frame = RequestFrame::decode(r#"{"action":"ping"}"#).unwrap();
    assert_eq!(frame.request, Request::Ping(PingRequest(None)));
    assert_eq!(frame.request_id, None);
    assert_eq!(frame.encode(), r#"{"action":"ping"}"#);
}

#[test]
fn documented_ping_with_empty_payload_decodes() {
    let frame = RequestFrame::decode(r#"{"request_id":"1","action":"ping","payload":{}}"#).unwrap();
    assert!(matches!(frame.request, Request::Ping(PingRequest(Some(_)))));
}

#[test]
fn unknown_action_keeps_request_id_and_action() {
    let err = RequestFrame::decode(r#"{"request_id":"r1","action":"fly_to_moon","payload":{}}"#).unwrap_err();
    assert_eq!(err, DecodeError::UnknownAction { request_id: Some("r1".into()), action: "fly_to_moon".into() });
}

#[test]
fn invalid_payload_names_the_missing_field() {
    let err = RequestFrame::decode(r#"{"request_id":"r2","action":"send_event","payload":{}}"#).unwrap_err();
    match err {
        DecodeError::InvalidPayload { request_id, action, message } => {
            assert_eq!(request_id.as_deref(), Some("r2"));
            assert_eq!(action, "send_event");
            assert!(message.contains("chat_id"), "{message}");
        }
        other => panic!("expected InvalidPayload, got {other:?}"),
    }
}

#[test]
fn not_json_and_not_an_object_are_malformed() {
    for text in ["", "{", "[1,2]", "42", r#"{"payload":{}}"#] {
        assert!(matches!(RequestFrame::decode(text), Err(DecodeError::Malformed(_))), "{text:?}");
    }
}

#[test]
fn unknown_event_type_decodes_as_unknown_and_keeps_its_json() {
    // Regression: a push whose event had a type this crate did not know failed to decode, so
    // the SDK dropped it, and the request it settled hung forever.
    let text = r#"{"action":"incoming_event","type":"push","request_id":"r3","payload":{"chat_id":"C","thread_id":"T","event":{"id":"T_1","type":"hologram","seq":7,"beam":{"lumens":3}}}}"#;
    let ServerFrame::Push(PushFrame { push: Push::IncomingEvent(incoming), .. }) = ServerFrame::decode(text).unwrap()
    else {
        panic!("expected incoming_event")
    };
    assert_eq!(incoming.event.seq, Some(7));
    assert_eq!(incoming.event.body.kind(), "hologram");
    let EventBody::Unknown(fields) = &incoming.event.body else { panic!("expected Unknown") };
    assert_eq!(fields["beam"]["lumens"], 3);
    assert_eq!(ServerFrame::decode(text).unwrap().encode().len(), text.len(), "re-encodes every field");
}

#[test]
fn unknown_user_type_decodes_as_unknown() {
    let user: User = serde_json::from_str(r#"{"type":"bot_v9","id":"b1","gears":2}"#).unwrap();
    assert_eq!(user.id(), "b1");
    assert!(matches!(&user, User::Unknown(fields) if fields["gears"] == 2));
    assert_eq!(serde_json::to_value(&user).unwrap()["type"], "bot_v9");
    let agent: User = serde_json::from_str(r#"{"type":"agent","id":"a@x","name":"Alex"}"#).unwrap();
    assert!(matches!(agent, User::Agent(a) if a.name.as_deref() == Some("Alex")));
}

#[test]
fn a_known_event_type_with_a_bad_field_is_still_an_error() {
    let text =
        r#"{"request_id":"r4","action":"send_event","payload":{"chat_id":"C","event":{"type":"message","text":42}}}"#;
    assert!(matches!(RequestFrame::decode(text), Err(DecodeError::InvalidPayload { .. })));
    let text = r#"{"request_id":"r5","action":"send_event","payload":{"chat_id":"C","event":{"text":"no type"}}}"#;
    assert!(matches!(RequestFrame::decode(text), Err(DecodeError::InvalidPayload { .. })));
}

#[test]
fn error_response_has_the_documented_shape() {
    let frame: ServerFrame = ResponseFrame::error(
        Some("r4".into()),
        "start_chat",
        ApiError::new(ErrorType::ChatLimitReached, "Chat limit reached"),
    )
    .into();
    let json: serde_json::Value = serde_json::from_str(&frame.encode()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"request_id":"r4","action":"start_chat","type":"response","success":false,
            "payload":{"error":{"type":"chat_limit_reached","message":"Chat limit reached"}}})
    );
    assert_eq!(ServerFrame::decode(&frame.encode()).unwrap(), frame);
}

#[test]
fn unknown_error_types_are_kept_verbatim() {
    let text = r#"{"request_id":"x","action":"login","type":"response","success":false,"payload":{"error":{"type":"brand_new_error","message":"Something new"}}}"#;
    let ServerFrame::Response(r) = ServerFrame::decode(text).unwrap() else { panic!() };
    assert_eq!(r.result.unwrap_err().kind, ErrorType::Other("brand_new_error".into()));
}

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including quotes, backslashes, markup and control characters.
    proptest::string::string_regex("(?s).{0,64}").unwrap()
}

proptest! {
    #[test]
    fn send_event_requests_round_trip(chat_id in "[A-Z0-9]{1,12}", body in text(), custom_id in proptest::option::of(text()), rid in "[a-z0-9]{1,12}") {
        let mut event = Event::message(body);
        event.custom_id = custom_id;
        let frame = RequestFrame::new(rid, Request::SendEvent(SendEventRequest { chat_id, event, attach_to_last_thread: None }));
        prop_assert_eq!(RequestFrame::decode(&frame.encode()).unwrap(), frame);
    }

    #[test]
    fn incoming_event_pushes_round_trip(body in text(), rid in proptest::option::of("[a-z0-9]{1,12}")) {
        let mut event = Event::message(body);
        event.id = Some("T_1".into());
        event.author_id = Some("agent@example.com".into());
        event.created_at = Some("2026-11-22T02:00:00.000000Z".into());
        let frame = ServerFrame::Push(PushFrame { request_id: rid, push: Push::IncomingEvent(IncomingEvent { chat_id: "C".into(), thread_id: "T".into(), event }) });
        prop_assert_eq!(ServerFrame::decode(&frame.encode()).unwrap(), frame);
    }

    #[test]
    fn arbitrary_text_never_panics_the_decoders(input in text()) {
        let _ = RequestFrame::decode(&input);
        let _ = ServerFrame::decode(&input);
    }
}

#[test]
fn ping_response_round_trips() {
    let frame: ServerFrame = ResponseFrame::ok(Some("p".into()), Response::Ping(Default::default())).into();
    assert_eq!(ServerFrame::decode(&frame.encode()).unwrap(), frame);
}
