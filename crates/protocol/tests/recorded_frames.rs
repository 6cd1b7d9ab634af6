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
