//! The customer RTM socket driven by raw frames: login, chats, events, pushes, and bad input.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::{CUSTOMER_TOKEN_TTL, INACTIVITY_TIMEOUT, LOGIN_TIMEOUT};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn login_answers_what_official_clients_require() {
    let server = TestServer::start().await;
    let (_rtm, _, customer_id) = Rtm::logged_in(&server).await;
    // Online: an agent of the customer's group accepts chats (customer_routing.rs: offline).
    let (status, _) = server.agent("set_routing_status", json!({"status": "accepting_chats"})).await;
    assert_eq!(status, 200);
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let token = server.visitor().token().await;
    let login = rtm
        .request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap()), "customer": {"name": "Ada"}}))
        .await;
    let payload = &login["payload"];
    assert_eq!(payload["customer"]["type"], "customer");
    assert_eq!(payload["customer"]["name"], "Ada");
    for counter in [
        "chats_count",
        "threads_count",
        "visits_count",
        "page_views_count",
        "greetings_shown_count",
        "greetings_accepted_count",
    ] {
        assert!(payload["customer"]["statistics"][counter].is_u64(), "{counter}: {payload}");
    }
    assert_eq!(payload["chats"], json!([]));
    let config = &payload["__priv_dynamic_config"];
    assert!(config["online_groups_ids"].as_array().unwrap().contains(&config["customer_groups"]["monitoring"]["id"]));
    assert_ne!(payload["customer"]["id"], customer_id.as_str());
}

#[tokio::test]
async fn a_bad_token_is_refused_and_the_socket_may_try_again() {
    let server = TestServer::start().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    for token in ["Bearer not-a-token", "no-bearer-prefix"] {
        let reply = rtm.request("login", json!({"token": token})).await;
        assert_eq!(reply["success"], false);
        assert_eq!(reply["payload"]["error"]["type"], "authentication", "{reply}");
    }
    let token = server.visitor().token().await;
    let reply =
        rtm.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;
    assert_eq!(reply["success"], true);
}

#[tokio::test]
async fn requests_before_login_are_refused_but_ping_is_answered() {
    let server = TestServer::start().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let reply = rtm.request("list_chats", json!({})).await;
    assert_eq!(reply["payload"]["error"]["type"], "authentication");
    let pong = rtm.request("ping", json!({})).await;
    assert_eq!(pong["success"], true);
}

#[tokio::test]
async fn bad_frames_get_the_error_shape_and_the_socket_stays_up() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;

    let unknown = rtm.request("fly_to_the_moon", json!({})).await;
    assert_eq!(unknown["success"], false);
    assert_eq!(unknown["payload"]["error"]["type"], "validation");
    assert!(unknown["payload"]["error"]["message"].as_str().unwrap().contains("fly_to_the_moon"));

    let invalid = rtm.request("send_event", json!({"chat_id": 42})).await;
    assert_eq!(invalid["payload"]["error"]["type"], "validation", "{invalid}");

    rtm.send_text("{not json").await;
    let malformed = rtm.recv().await;
    assert_eq!(malformed["type"], "response");
    assert_eq!(malformed["success"], false);
    assert_eq!(malformed["payload"]["error"]["type"], "validation");

    let still_up = rtm.request("ping", json!({})).await;
    assert_eq!(still_up["success"], true);
}

#[tokio::test]
async fn an_oversized_frame_closes_only_that_socket_with_1009() {
    let server = TestServer::start().await;
    let (mut other, _, _) = Rtm::logged_in(&server).await;
    for size in [confab_server::limits::MAX_FRAME_BYTES + 1, 2 * 1024 * 1024] {
        let (mut rtm, _, _) = Rtm::logged_in(&server).await;
        rtm.send_text(&"x".repeat(size)).await;
        let (_, close) = rtm.closed().await;
        let expected = (1009, confab_server::limits::OVERSIZED_FRAME_CLOSE_TEXT.to_owned());
        assert_eq!(close, Some(expected), "a {size}-byte frame is refused with 1009 (message too big)");
        assert_eq!(other.request("ping", json!({})).await["success"], true);
    }
}

#[tokio::test]
async fn start_chat_answers_then_pushes_incoming_chat_with_the_request_id() {
    let server = TestServer::start().await;
    let (mut rtm, _, customer_id) = Rtm::logged_in(&server).await;
    let request_id = rtm
        .send("start_chat", json!({"active": true, "chat": {"thread": {"events": [{"type":"message","text":"hello","custom_id":"c1"}]}}}))
        .await;
    let response = rtm.recv().await;
    assert_eq!(response["request_id"], request_id.as_str());
    assert_eq!(response["success"], true);
    let chat_id = response["payload"]["chat_id"].as_str().unwrap().to_owned();
    let thread_id = response["payload"]["thread_id"].as_str().unwrap().to_owned();
    assert_eq!(response["payload"]["event_ids"], json!([format!("{thread_id}_1")]));

    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_chat");
    assert_eq!(push["type"], "push");
    assert_eq!(push["request_id"], request_id.as_str());
    let chat = &push["payload"]["chat"];
    assert_eq!(chat["id"], chat_id.as_str());
    assert_eq!(chat["users"][0]["id"], customer_id.as_str());
    assert_eq!(chat["thread"]["active"], true);
    let event = &chat["thread"]["events"][0];
    assert_eq!(
        (event["text"].as_str(), event["custom_id"].as_str(), event["author_id"].as_str()),
        (Some("hello"), Some("c1"), Some(customer_id.as_str()))
    );

    // One chat per customer.
    let again = rtm.request("start_chat", json!({})).await;
    assert_eq!(again["payload"]["error"]["type"], "chat_limit_reached");
}

#[tokio::test]
async fn send_event_reaches_the_customers_other_sockets_without_the_request_id() {
    let server = TestServer::start().await;
    let (mut first, visitor, customer_id) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut first).await;

    // Same visitor, second tab.
    let token = visitor.token().await;
    assert_eq!(token["entity_id"], customer_id.as_str());
    let mut second = Rtm::open(&server.ws_url()).await;
    second.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;

    let request_id = first
        .send("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"<b>hi</b> & \"bye\""}}))
        .await;
    let response = first.recv().await;
    assert_eq!(response["payload"]["event_id"].as_str().unwrap().split('_').count(), 2);
    let mine = first.recv().await;
    assert_eq!(
        (mine["action"].as_str(), mine["request_id"].as_str()),
        (Some("incoming_event"), Some(request_id.as_str()))
    );
    let theirs = second.recv().await;
    assert_eq!(theirs["action"], "incoming_event");
    assert!(theirs.get("request_id").is_none(), "{theirs}");
    assert_eq!(theirs["payload"]["event"]["text"], "<b>hi</b> & \"bye\"");
    assert_eq!(theirs["payload"]["event"]["id"], response["payload"]["event_id"]);
}

#[tokio::test]
async fn a_send_retried_with_the_same_custom_id_is_stored_and_pushed_once() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut rtm).await;
    let event = json!({"type": "message", "text": "sent from the outbox", "custom_id": "w1-outbox"});

    // The first try: stored, answered and pushed.
    rtm.send("send_event", json!({"chat_id": chat_id, "event": event})).await;
    let first = rtm.recv().await;
    assert_eq!(first["success"], true, "{first}");
    assert_eq!(rtm.recv().await["action"], "incoming_event");

    // Its answer was lost (say the page reloaded); the retry gets the same event, and no push.
    let retry = rtm.request("send_event", json!({"chat_id": chat_id, "event": event})).await;
    assert_eq!(retry["success"], true, "{retry}");
    assert_eq!(retry["payload"]["event_id"], first["payload"]["event_id"]);
    rtm.silent(Duration::from_millis(200)).await;
    let history = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
    let texts: Vec<&str> =
        history["payload"]["thread"]["events"].as_array().unwrap().iter().filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(texts, ["hello", "sent from the outbox"], "stored once");

    // Another id is another message.
    let other = send_message(&mut rtm, &chat_id, "sent from the outbox").await;
    assert_ne!(other["payload"]["event_id"], first["payload"]["event_id"]);
}

/// A send retried after the chat closed goes through `resume_chat` (the widget's outbox does):
/// the chat resumes, and the message it already has is not stored again.
#[tokio::test]
async fn a_resume_retrying_a_stored_message_does_not_store_it_again() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut rtm).await;
    let event = json!({"type": "message", "text": "sent before the close", "custom_id": "w1-kept"});
    assert_eq!(rtm.request("send_event", json!({"chat_id": chat_id, "event": event})).await["success"], true);
    rtm.recv().await; // incoming_event
    assert_eq!(rtm.request("deactivate_chat", json!({"id": chat_id})).await["success"], true);
    rtm.recv().await; // chat_deactivated

    let fresh = json!({"type": "message", "text": "and a new one", "custom_id": "w1-new"});
    let resumed = rtm.request("resume_chat", json!({"chat": {"id": chat_id, "thread": {"events": [event, fresh]}}})).await;
    assert_eq!(resumed["success"], true, "{resumed}");
    let incoming = rtm.recv().await;
    let texts: Vec<&str> = incoming["payload"]["chat"]["thread"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(texts, ["and a new one"], "{incoming}");
}

#[tokio::test]
async fn a_closed_chat_is_resumed_as_a_new_thread() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut rtm).await;

    let request_id = rtm.send("deactivate_chat", json!({"id": chat_id})).await;
    assert_eq!(rtm.recv().await["success"], true);
    let push = rtm.recv().await;
    assert_eq!(
        (push["action"].as_str(), push["request_id"].as_str()),
        (Some("chat_deactivated"), Some(request_id.as_str()))
    );
    let inactive = rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"x"}})).await;
    assert_eq!(inactive["payload"]["error"]["type"], "chat_inactive");
    let again = rtm.request("deactivate_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(again["payload"]["error"]["type"], "chat_inactive", "v3.2 field name accepted");

    rtm.send(
        "resume_chat",
        json!({"chat": {"id": chat_id, "thread": {"events": [{"type":"message","text":"back again"}]}}}),
    )
    .await;
    let resumed = rtm.recv().await;
    assert_eq!(resumed["success"], true, "{resumed}");
    let incoming = rtm.recv().await;
    let thread = &incoming["payload"]["chat"]["thread"];
    assert_eq!(thread["active"], true);
    assert_eq!(thread["events"][0]["text"], "back again");
    assert!(thread["previous_thread_id"].is_string());
    let active = rtm.request("resume_chat", json!({"chat": {"id": chat_id}})).await;
    assert_eq!(active["payload"]["error"]["type"], "chat_already_active");

    let threads = rtm.request("list_threads", json!({"chat_id": chat_id, "limit": 1})).await;
    assert_eq!(threads["payload"]["found_threads"], 2);
    assert_eq!(threads["payload"]["threads"][0]["events"][0]["text"], "back again", "newest first");
    let older =
        rtm.request("list_threads", json!({"chat_id": chat_id, "page_id": threads["payload"]["next_page_id"]})).await;
    assert_eq!(older["payload"]["threads"][0]["events"][0]["text"], "hello");
    assert!(older["payload"].get("next_page_id").is_none());
}

#[tokio::test]
async fn customers_cannot_see_or_write_other_customers_chats() {
    let server = TestServer::start().await;
    let (mut alice, _, _) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut alice).await;
    let (mut mallory, _, _) = Rtm::logged_in(&server).await;
    let read = mallory.request("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(read["payload"]["error"]["type"], "not_found");
    let write =
        mallory.request("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"x"}})).await;
    assert_eq!(write["payload"]["error"]["type"], "not_found");
    let list = mallory.request("list_chats", json!({})).await;
    assert_eq!(list["payload"]["total_chats"], 0);
}

#[tokio::test]
async fn empty_and_oversized_messages_are_validation_errors() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut rtm).await;
    for text in ["   ".to_owned(), "y".repeat(confab_server::limits::MAX_MESSAGE_TEXT_BYTES + 1)] {
        let reply =
            rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text": text}})).await;
        assert_eq!(reply["payload"]["error"]["type"], "validation");
    }
    let system =
        rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type":"system_message","text":"fake"}})).await;
    assert_eq!(system["payload"]["error"]["type"], "validation");
}

#[tokio::test]
async fn get_chat_list_chats_and_list_threads_page_through_history() {
    let server = TestServer::start().await;
    let (mut rtm, _, customer_id) = Rtm::logged_in(&server).await;
    let chat_id = start_chat(&mut rtm).await;
    for i in 0..3 {
        send_message(&mut rtm, &chat_id, &format!("m{i}")).await;
    }
    let chat = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
    let texts: Vec<&str> =
        chat["payload"]["thread"]["events"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello", "m0", "m1", "m2"]);

    let list = rtm.request("list_chats", json!({"limit": 25})).await;
    assert_eq!(list["payload"]["total_chats"], 1);
    let summary = &list["payload"]["chats_summary"][0];
    assert_eq!(summary["id"], chat_id.as_str());
    assert_eq!(summary["last_event_per_type"]["message"]["event"]["text"], "m2");
    assert_eq!(summary["users"][0]["id"], customer_id.as_str());
    let too_many = rtm.request("list_chats", json!({"limit": 26})).await;
    assert_eq!(too_many["payload"]["error"]["type"], "validation");

    let threads = rtm.request("list_threads", json!({"chat_id": chat_id, "min_events_count": 25})).await;
    assert_eq!(threads["payload"]["found_threads"], 1);
    assert!(threads["payload"].get("next_page_id").is_none());
    assert_eq!(threads["payload"]["threads"][0]["events"].as_array().unwrap().len(), 4);

    let bad_page = rtm.request("list_threads", json!({"chat_id": chat_id, "page_id": "garbage"})).await;
    assert_eq!(bad_page["payload"]["error"]["type"], "validation");
    let both = rtm.request("list_threads", json!({"chat_id": chat_id, "limit": 3, "min_events_count": 3})).await;
    assert_eq!(both["payload"]["error"]["type"], "validation");
}

#[tokio::test]
async fn a_flooding_socket_is_told_to_slow_down_and_nothing_is_lost_after() {
    use confab_server::limits::RTM_FRAME_BURST;
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let mut refused = 0;
    for _ in 0..RTM_FRAME_BURST + 5 {
        let reply = rtm.request("ping", json!({})).await;
        if reply["success"] == false {
            assert_eq!(reply["payload"]["error"]["type"], "too_many_requests");
            refused += 1;
        }
    }
    assert!(refused >= 4, "the login took one token; {refused} refused");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "the bucket refills");
}

/// A server on a manual clock, and that clock. Timeouts are tested by moving it, not sleeping.
async fn server_on_manual_clock() -> (TestServer, Clock) {
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    (TestServer::start_on_clock(&[], clock.clone()).await, clock)
}

#[tokio::test]
async fn a_socket_that_never_logs_in_is_told_why_and_closed() {
    let (server, clock) = server_on_manual_clock().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    clock.advance(LOGIN_TIMEOUT - Duration::from_secs(1));
    rtm.silent(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(1));
    rtm.expect_goodbye("connection_timeout", 1008, "login timeout").await;
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    // Active all along (a request every half of the inactivity timeout), so only the token ends it.
    let step = INACTIVITY_TIMEOUT / 2;
    let mut elapsed = Duration::ZERO;
    while elapsed + step < CUSTOMER_TOKEN_TTL {
        clock.advance(step);
        elapsed += step;
        assert_eq!(rtm.request("list_chats", json!({})).await["success"], true);
    }
    clock.advance(CUSTOMER_TOKEN_TTL - elapsed - Duration::from_secs(1));
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "still valid a second before");
    clock.advance(Duration::from_secs(1));
    rtm.expect_goodbye("access_token_expired", 1008, "access token expired").await;
}

#[tokio::test]
async fn a_logged_in_socket_outlives_the_login_timeout() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    clock.advance(LOGIN_TIMEOUT * 2);
    rtm.silent(Duration::from_millis(100)).await;
    assert_eq!(rtm.request("ping", json!({})).await["success"], true);
}

#[tokio::test]
async fn foreign_origins_and_unknown_organizations_cannot_open_a_socket() {
    let server = TestServer::start().await;
    assert_eq!(Rtm::open_with_origin(&server.ws_url(), "https://evil.example").await.err(), Some(403));
    assert!(Rtm::open_with_origin(&server.ws_url(), &server.url).await.is_ok(), "own origin");
    // An unknown organization is told so over the socket (customer_disconnections.rs).
    let wrong_org = server.ws_url().replace(ORG, "00000000-0000-4000-8000-000000000000");
    let mut refused = Rtm::open_with_origin(&wrong_org, &server.url).await.expect("upgraded");
    refused.expect_goodbye("license_not_found", 1008, "license not found").await;
    let foreign = Rtm::open_with_origin(&wrong_org, "https://evil.example").await.err();
    assert_eq!(foreign, Some(403), "the origin is checked first");
}

#[tokio::test]
async fn shutdown_says_goodbye_on_every_socket() {
    let mut server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let stop = async { server.stop().await };
    tokio::join!(rtm.expect_goodbye("service_temporarily_unavailable", 1001, "server shutting down"), stop);
}

pub async fn start_chat(rtm: &mut Rtm) -> String {
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let response = rtm.recv().await;
    let _push = rtm.recv().await;
    response["payload"]["chat_id"].as_str().unwrap().to_owned()
}

async fn send_message(rtm: &mut Rtm, chat_id: &str, text: &str) -> Value {
    rtm.send("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text": text}})).await;
    let response = rtm.recv().await;
    let _push = rtm.recv().await;
    response
}

#[tokio::test]
async fn a_slow_database_delays_answers_but_never_the_socket_and_bounds_what_waits() {
    // Regression: requests ran inside the socket's read loop, so one slow query stopped the
    // socket from reading (pings went unanswered), and nothing bounded what queued up.
    use confab_server::limits::MAX_PENDING_REQUESTS;
    use sqlx::Connection;
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hi"}]}}})).await;
    let chat_id = rtm.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned();
    let _incoming_chat = rtm.recv().await;

    // Another process holds the database's write lock.
    let db_url = format!("sqlite://{}", server.dir.path().join("confab.db").display());
    let mut other = sqlx::SqliteConnection::connect(&db_url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();

    let send = |n: usize| json!({"chat_id": chat_id, "event": {"type":"message","text": format!("m{n}")}});
    let first = rtm.send("send_event", send(0)).await;
    let ping = rtm.request("ping", json!({})).await;
    assert_eq!(ping["success"], true, "the socket still reads and answers while a request waits");
    let mut queued = vec![first];
    for n in 1..=MAX_PENDING_REQUESTS {
        queued.push(rtm.send("send_event", send(n)).await);
    }
    let refused = rtm.request("send_event", send(99)).await;
    assert_eq!(refused["payload"]["error"]["type"], "too_many_requests", "{refused}");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let mut answered = Vec::new();
    while answered.len() < queued.len() {
        let frame = rtm.recv().await;
        if frame["type"] == "response" {
            assert_eq!(frame["success"], true, "{frame}");
            answered.push(frame["request_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(answered, queued, "every waiting request answered, in order");
}
