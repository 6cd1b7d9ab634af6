//! Greetings over real sockets: an agent's greeting (`send_greeting`), greeting rules (from
//! `--greetings-file`, on a manual clock), `accept_greeting` and `cancel_greeting`, and bad
//! input answered in the protocol's error shape.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::{GREETING_RULE_PERIOD, GREETING_RULES_CACHE_TTL};
use serde_json::{Value, json};
use std::time::Duration;

fn bearer(token: &Value) -> String {
    format!("Bearer {}", token["access_token"].as_str().expect("a token"))
}

/// Logs a socket in with `token`; returns it and the login response's payload.
async fn login_with(server: &TestServer, token: &Value, extra: Value) -> (Rtm, Value) {
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let mut payload = json!({"token": bearer(token)});
    payload.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let login = rtm.request("login", payload).await;
    assert_eq!(login["success"], true, "{login}");
    (rtm, login["payload"].clone())
}

async fn send_greeting(server: &TestServer, customer_id: &str, text: &str) -> Value {
    let (status, body) = server.agent("send_greeting", json!({"customer_id": customer_id, "text": text})).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn statistics(login: &Value) -> (u64, u64) {
    let stats = &login["customer"]["statistics"];
    (stats["greetings_shown_count"].as_u64().unwrap(), stats["greetings_accepted_count"].as_u64().unwrap())
}

#[tokio::test]
async fn an_agents_greeting_reaches_every_socket_and_later_logins() {
    let server = TestServer::start().await;
    let (mut rtm, visitor, customer_id) = Rtm::logged_in(&server).await;
    let token = visitor.token().await;
    let (mut second, _) = login_with(&server, &token, json!({})).await;

    let sent = send_greeting(&server, &customer_id, "Need a hand with your order?").await;
    let unique_id = sent["unique_id"].as_str().unwrap().to_owned();
    assert_eq!(sent["greeting_id"], 0, "an agent's greeting has template id 0");
    for socket in [&mut rtm, &mut second] {
        let push = socket.recv().await;
        assert_eq!(push["action"], "incoming_greeting", "{push}");
        assert!(push.get("request_id").is_none());
        let greeting = &push["payload"];
        assert_eq!(greeting["id"], 0);
        assert_eq!(greeting["unique_id"], unique_id.as_str());
        assert_eq!(greeting["displayed_first_time"], true);
        assert_eq!(greeting["accepted"], false);
        assert_eq!(greeting["subtype"], "greeting");
        assert_eq!(greeting["event"]["type"], "message");
        assert_eq!(greeting["event"]["text"], "Need a hand with your order?");
        assert_eq!(greeting["agent"]["id"], "alex@confab.example");
        assert_eq!(greeting["agent"]["name"], "Alex Morgan");
    }

    // A socket that logs in later finds it in `login`, shown before.
    let (_third, login) = login_with(&server, &token, json!({})).await;
    assert_eq!(login["greeting"]["unique_id"], unique_id.as_str(), "{login}");
    assert_eq!(login["greeting"]["displayed_first_time"], false);
    assert_eq!(statistics(&login), (1, 0));
}

#[tokio::test]
async fn accepting_a_greeting_starts_the_chat_with_its_agent() {
    let server = TestServer::start().await;
    let (mut rtm, visitor, customer_id) = Rtm::logged_in(&server).await;
    let sent = send_greeting(&server, &customer_id, "Hi! Questions about pricing?").await;
    let unique_id = sent["unique_id"].as_str().unwrap().to_owned();
    assert_eq!(rtm.recv().await["action"], "incoming_greeting");

    let accept = json!({"greeting_id": 0, "unique_id": unique_id});
    let reply = rtm.request("accept_greeting", accept.clone()).await;
    assert_eq!(reply["success"], true, "{reply}");
    let accepted = rtm.recv().await;
    assert_eq!(accepted["action"], "greeting_accepted");
    assert_eq!(accepted["payload"], json!({"unique_id": unique_id}));
    assert!(accepted.get("request_id").is_none(), "emitted by the SDK as an event");
    let chat = rtm.recv().await;
    assert_eq!(chat["action"], "incoming_chat", "{chat}");
    assert!(chat.get("request_id").is_none());
    let users: Vec<&str> =
        chat["payload"]["chat"]["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(users.contains(&customer_id.as_str()) && users.contains(&"alex@confab.example"), "{users:?}");
    let first = &chat["payload"]["chat"]["thread"]["events"][0];
    assert_eq!(first["text"], "Hi! Questions about pricing?");
    assert_eq!(first["author_id"], "alex@confab.example");
    assert_eq!(first["seq"], 1);

    // Accepting twice is an error; the socket keeps serving.
    let again = rtm.request("accept_greeting", accept).await;
    assert_eq!(again["success"], false);
    assert_eq!(again["payload"]["error"]["type"], "validation", "{again}");
    let (_, login) = login_with(&server, &visitor.token().await, json!({})).await;
    assert_eq!(statistics(&login), (1, 1));
    assert!(login["greeting"].is_null(), "an answered greeting is not shown again");
    assert_eq!(login["chats"][0]["has_active_thread"], true);
}

#[tokio::test]
async fn a_greeting_accepted_during_a_chat_joins_its_agent_to_it() {
    let server = TestServer::start().await;
    let (mut rtm, _, customer_id) = Rtm::logged_in(&server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "hi"}]}}})).await;
    assert_eq!(rtm.recv().await["type"], "response");
    assert_eq!(rtm.recv().await["action"], "incoming_chat");
    let sent = send_greeting(&server, &customer_id, "I can help with that").await;
    assert_eq!(rtm.recv().await["action"], "incoming_greeting");
    let reply = rtm.request("accept_greeting", json!({"greeting_id": 0, "unique_id": sent["unique_id"]})).await;
    assert_eq!(reply["success"], true);
    assert_eq!(rtm.recv().await["action"], "greeting_accepted");
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    let event = rtm.recv().await;
    assert_eq!(event["action"], "incoming_event");
    assert_eq!(event["payload"]["event"]["text"], "I can help with that");
    assert_eq!(event["payload"]["event"]["seq"], 2);
}

#[tokio::test]
async fn canceling_a_greeting_and_a_newer_greeting_replacing_one() {
    let server = TestServer::start().await;
    let (mut rtm, visitor, customer_id) = Rtm::logged_in(&server).await;
    let first = send_greeting(&server, &customer_id, "first").await;
    assert_eq!(rtm.recv().await["action"], "incoming_greeting");
    let second = send_greeting(&server, &customer_id, "second").await;
    let canceled = rtm.recv().await;
    assert_eq!(canceled["action"], "greeting_canceled", "the newer one replaces it");
    assert_eq!(canceled["payload"]["unique_id"], first["unique_id"]);
    assert_eq!(rtm.recv().await["payload"]["unique_id"], second["unique_id"]);

    let reply = rtm.request("cancel_greeting", json!({"unique_id": second["unique_id"]})).await;
    assert_eq!(reply["success"], true, "{reply}");
    let pushed = rtm.recv().await;
    assert_eq!(
        (pushed["action"].as_str(), &pushed["payload"]["unique_id"]),
        (Some("greeting_canceled"), &second["unique_id"])
    );
    let again = rtm.request("cancel_greeting", json!({"unique_id": second["unique_id"]})).await;
    assert_eq!(again["payload"]["error"]["type"], "validation", "{again}");
    let accept = rtm.request("accept_greeting", json!({"greeting_id": 0, "unique_id": first["unique_id"]})).await;
    assert_eq!(accept["payload"]["error"]["type"], "validation", "a canceled greeting cannot be accepted");
    let (_, login) = login_with(&server, &visitor.token().await, json!({})).await;
    assert_eq!(statistics(&login), (2, 0));
}

#[tokio::test]
async fn unknown_or_someone_elses_greetings_are_not_found_and_bad_input_is_refused() {
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let (mut other, _, other_id) = Rtm::logged_in(&server).await;
    let theirs = send_greeting(&server, &other_id, "for someone else").await;
    assert_eq!(other.recv().await["action"], "incoming_greeting");
    let mine = theirs["unique_id"].clone();
    for (action, payload, kind) in [
        ("accept_greeting", json!({"greeting_id": 0, "unique_id": "NOPE"}), "greeting_not_found"),
        ("cancel_greeting", json!({"unique_id": "NOPE"}), "greeting_not_found"),
        ("accept_greeting", json!({"greeting_id": 0, "unique_id": mine}), "greeting_not_found"),
        ("cancel_greeting", json!({"unique_id": mine}), "greeting_not_found"),
        ("accept_greeting", json!({"unique_id": "NOPE"}), "validation"),
        ("accept_greeting", json!({"greeting_id": "0", "unique_id": "NOPE"}), "validation"),
        ("cancel_greeting", json!({}), "validation"),
        ("cancel_greeting", json!({"unique_id": 7}), "validation"),
    ] {
        let reply = rtm.request(action, payload.clone()).await;
        assert_eq!(reply["success"], false, "{payload}");
        assert_eq!(reply["payload"]["error"]["type"], kind, "{action} {payload} → {reply}");
    }
    // The wrong template id names no greeting of theirs either.
    let wrong = other.request("accept_greeting", json!({"greeting_id": 9, "unique_id": theirs["unique_id"]})).await;
    assert_eq!(wrong["payload"]["error"]["type"], "greeting_not_found");
    assert_eq!(rtm.request("ping", json!({})).await["success"], true);
    other.silent(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn send_greeting_refuses_bad_input() {
    let server = TestServer::start().await;
    let (_rtm, _, customer_id) = Rtm::logged_in(&server).await;
    for (body, status, kind) in [
        (json!({"customer_id": "no-such-customer", "text": "hi"}), 404, "not_found"),
        (json!({"customer_id": customer_id, "text": "  "}), 400, "validation"),
        (json!({"customer_id": customer_id, "text": "x".repeat(20_000)}), 400, "validation"),
        (json!({"customer_id": customer_id, "text": "hi", "subtype": "popup"}), 400, "validation"),
        (json!({"customer_id": customer_id}), 400, "validation"),
        (json!({"customer_id": customer_id, "text": 5}), 400, "validation"),
    ] {
        let (got, reply) = server.agent("send_greeting", body.clone()).await;
        assert_eq!((got, reply["error"]["type"].as_str()), (status, Some(kind)), "{reply}");
    }
    let (status, sent) = server
        .agent("send_greeting", json!({"customer_id": customer_id, "text": "News!", "subtype": "announcement"}))
        .await;
    assert_eq!(status, 200, "{sent}");
}

/// A server on a manual clock with greeting rules.
async fn server_with_rules(rules: Value) -> (TestServer, Clock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("greetings.json");
    std::fs::write(&file, rules.to_string()).unwrap();
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    let server = TestServer::start_on_clock(&["--greetings-file", file.to_str().unwrap()], clock.clone()).await;
    (server, clock, dir)
}

#[tokio::test]
async fn a_rule_greets_after_its_delay_on_a_matching_page() {
    let rules = json!([
        {"text": "Comparing plans?", "agent_id": "alex@confab.example", "url_contains": "/pricing", "delay_secs": 10},
    ]);
    let (server, clock, _dir) = server_with_rules(rules).await;
    let token = server.visitor().token().await;
    let page = json!({"customer_page": {"url": "https://shop.example/pricing", "title": "Pricing"}});
    let (mut rtm, login) = login_with(&server, &token, page).await;
    assert!(login["greeting"].is_null(), "not before its delay: {login}");
    clock.advance(Duration::from_secs(9));
    rtm.silent(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(1));
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_greeting", "{push}");
    assert_eq!(push["payload"]["id"], 1, "the rule's template id");
    assert_eq!(push["payload"]["event"]["text"], "Comparing plans?");
    assert_eq!(push["payload"]["displayed_first_time"], true);
    let reply =
        rtm.request("accept_greeting", json!({"greeting_id": 1, "unique_id": push["payload"]["unique_id"]})).await;
    assert_eq!(reply["success"], true, "{reply}");
}

#[tokio::test]
async fn a_rule_greets_on_a_page_change_once_per_period() {
    let rules = json!([
        {"text": "Free shipping today", "agent_id": "alex@confab.example", "url_contains": "/cart", "subtype": "announcement"},
    ]);
    let (server, clock, _dir) = server_with_rules(rules).await;
    let (mut rtm, visitor, _) = Rtm::logged_in(&server).await;
    let other_page = rtm.request("update_customer_page", json!({"url": "https://shop.example/about"})).await;
    assert_eq!(other_page["success"], true);
    assert_eq!(rtm.recv().await["action"], "customer_page_updated", "no greeting on this page");
    rtm.silent(Duration::from_millis(100)).await;

    let cart = json!({"url": "https://shop.example/cart", "title": "Cart"});
    let reply = rtm.request("update_customer_page", cart.clone()).await;
    assert_eq!(reply["success"], true);
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_greeting");
    assert_eq!(push["payload"]["subtype"], "announcement");
    assert_eq!(rtm.recv().await["action"], "customer_page_updated");
    let unique_id = push["payload"]["unique_id"].clone();
    assert_eq!(rtm.request("cancel_greeting", json!({"unique_id": unique_id})).await["success"], true);
    assert_eq!(rtm.recv().await["action"], "greeting_canceled");

    // Once per period, however often the page is visited.
    assert_eq!(rtm.request("update_customer_page", cart.clone()).await["success"], true);
    assert_eq!(rtm.recv().await["action"], "customer_page_updated", "no greeting again");
    rtm.silent(Duration::from_millis(100)).await;
    clock.advance(GREETING_RULE_PERIOD);
    let (mut fresh, login) = login_with(&server, &visitor.token().await, json!({"customer_page": cart})).await;
    assert_eq!(login["greeting"]["displayed_first_time"], true, "a new period: {login}");
    assert_ne!(login["greeting"]["unique_id"], unique_id);

    let bad = fresh.request("update_customer_page", json!({"url": 5})).await;
    assert_eq!(bad["payload"]["error"]["type"], "validation");
}

#[tokio::test]
async fn the_loader_learns_which_pages_a_rule_may_greet_without_any_identity() {
    let rules = json!([{"text": "Comparing plans?", "agent_id": "alex@confab.example", "url_contains": "/pricing"}]);
    let (server, _clock, _dir) = server_with_rules(rules).await;
    let http = reqwest::Client::new();
    let ask = |url: &str| http.get(format!("{}/v1/greets", server.url)).query(&[("url", url)]).send();
    let answer: Value = ask("https://shop.example/pricing?plan=pro").await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"greets": true}));
    let answer: Value = ask("https://shop.example/about").await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"greets": false}));

    // No URL: the protocol's error shape, not a bare 400 text.
    let response = http.get(format!("{}/v1/greets", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "validation", "{error}");

    // A page on a foreign origin is refused.
    let response = ask("https://shop.example/pricing").await.unwrap();
    assert_eq!(response.status(), 200, "no Origin (not a browser page): answered");
    let foreign = http
        .get(format!("{}/v1/greets", server.url))
        .query(&[("url", "https://evil.example/pricing")])
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403, "{:?}", foreign.text().await);
}

/// Asked on every page of a site: answered from rules read at most
/// `GREETING_RULES_CACHE_TTL` ago; this node's own change of rules counts at once.
#[tokio::test]
async fn the_loader_s_question_is_answered_from_recently_read_rules() {
    let rules = json!([{"text": "Comparing plans?", "agent_id": "alex@confab.example", "url_contains": "/pricing"}]);
    let (server, clock, _dir) = server_with_rules(rules).await;
    let domain = &server.server.as_ref().unwrap().state.domain;
    assert!(domain.greets_page("https://shop.example/pricing").await.unwrap());

    // Another node's change (here: the table rewritten behind this node's back).
    let mut tx = domain.store.write().await.unwrap();
    tx.replace_greeting_rules(&[]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(domain.greets_page("https://shop.example/pricing").await.unwrap(), "answered from the rules read");
    clock.advance(GREETING_RULES_CACHE_TTL);
    assert!(!domain.greets_page("https://shop.example/pricing").await.unwrap(), "read again once stale");

    let about: Vec<confab_server::domain::GreetingRule> = serde_json::from_value(
        json!([{"text": "Hello!", "agent_id": "alex@confab.example", "url_contains": "/about"}]),
    )
    .unwrap();
    domain.set_greeting_rules(&about).await.unwrap();
    assert!(domain.greets_page("https://shop.example/about").await.unwrap(), "this node's own change, at once");
}
