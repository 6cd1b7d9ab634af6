//! The frames a real Customer SDK sent (and the frames it accepted) decode into our types and
//! encode back to the same JSON. Recordings: `tests/recorded/*.jsonl` (from shared/protocol/).

use confab_protocol::{RequestFrame, ServerFrame};
use serde_json::Value;

fn recorded(kind: &str) -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/recorded");
    let mut frames = Vec::new();
    for file in ["sdk2-basic.jsonl", "sdk4-basic.jsonl"] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        for line in text.lines() {
            let entry: Value = serde_json::from_str(line).unwrap();
            if entry["kind"] == kind {
                frames.push((format!("{file} seq {}", entry["seq"]), entry["frame"].clone()));
            }
        }
    }
    frames
}

#[test]
fn every_sent_frame_round_trips() {
    let frames = recorded("send");
    assert_eq!(frames.len(), 20, "both recordings together send 20 frames");
    for (at, frame) in frames {
        let decoded = RequestFrame::decode(&frame.to_string()).unwrap_or_else(|e| panic!("{at}: {e}"));
        let again: Value = serde_json::from_str(&decoded.encode()).unwrap();
        assert_eq!(again, frame, "{at}: re-encoded frame differs");
    }
}

#[test]
fn every_received_frame_round_trips() {
    let frames = recorded("recv");
    assert_eq!(frames.len(), 32, "both recordings together receive 32 frames");
    for (at, frame) in frames {
        let decoded = ServerFrame::decode(&frame.to_string()).unwrap_or_else(|e| panic!("{at}: {e}"));
        let again: Value = serde_json::from_str(&decoded.encode()).unwrap();
        assert_eq!(again, frame, "{at}: re-encoded frame differs");
    }
}

#[test]
fn login_carries_the_v35_version_and_the_bearer_token() {
    let frames = recorded("send");
    let (_, login) = frames.iter().find(|(at, f)| at.starts_with("sdk4") && f["action"] == "login").unwrap();
    let decoded = RequestFrame::decode(&login.to_string()).unwrap();
    assert_eq!(decoded.version.as_deref(), Some("3.5"));
    match decoded.request {
        confab_protocol::Request::Login(login) => {
            assert_eq!(login.token, "Bearer dal:oracle_token_1")
        }
        other => panic!("expected login, got {other:?}"),
    }
}

/// The widget's codec (`wire`) reads every recorded payload as serde does, and writes it back
/// as the same JSON.
#[test]
fn both_codecs_read_every_recorded_payload_alike() {
    use confab_protocol::push::Push;
    use confab_protocol::wire::Json;
    use confab_protocol::{Request, Response};
    use std::fmt::Debug;

    fn same<T: PartialEq + Debug, E: std::fmt::Display>(
        at: &str,
        payload: &Value,
        serde: Result<T, E>,
        wire: Result<T, E>,
        write: impl Fn(&T) -> Option<Json>,
    ) {
        let serde = serde.unwrap_or_else(|e| panic!("{at}: serde: {e}"));
        let wire = wire.unwrap_or_else(|e| panic!("{at}: wire: {e}"));
        assert_eq!(wire, serde, "{at}: the two codecs read different values");
        let written = write(&wire).map_or_else(|| "null".to_owned(), |p| p.to_text());
        assert_eq!(
            &serde_json::from_str::<Value>(&written).unwrap(),
            payload,
            "{at}: the wire codec writes other JSON"
        );
    }

    for (at, frame) in recorded("send").into_iter().chain(recorded("recv")) {
        let action = frame["action"].as_str().unwrap();
        let payload = frame.get("payload").cloned().unwrap_or(Value::Null);
        let raw = serde_json::value::to_raw_value(&payload).unwrap();
        let tree = Json::parse(&payload.to_string()).unwrap();
        match (frame.get("type").and_then(Value::as_str), frame.get("success")) {
            (Some("push"), _) => same(
                &at,
                &payload,
                Push::from_parts(action, Some(&raw)),
                Push::from_wire_parts(action, &tree),
                Push::wire_payload,
            ),
            (Some("response"), Some(Value::Bool(true))) => same(
                &at,
                &payload,
                Response::from_parts(action, Some(&raw)),
                Response::from_wire_parts(action, &tree),
                Response::wire_payload,
            ),
            // A failed response's payload is the error body, which the frame codec reads.
            (Some("response"), _) => {}
            _ => same(
                &at,
                &payload,
                Request::from_parts(action, Some(&raw)),
                Request::from_wire_parts(action, &tree),
                Request::wire_payload,
            ),
        }
    }
}
