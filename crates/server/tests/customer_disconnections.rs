//! Every `customer_disconnected` reason the server sends, over a real socket: the client gets
//! the push with that reason, then the close frame with its code (protocol.md §6.3; the table
//! in `customer/rtm.rs`). Timeouts run on a manual clock.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::{
    CUSTOMER_TOKEN_TTL, INACTIVITY_TIMEOUT, LOGIN_TIMEOUT, MAX_CONNECTIONS_PER_CUSTOMER,
    MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS, TEMPORARY_BLOCK, TOO_MANY_CONNECTIONS_STRIKES,
};
use serde_json::{Value, json};
use std::time::Duration;

async fn server_on_manual_clock() -> (TestServer, Clock) {
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    (TestServer::start_on_clock(&[], clock.clone()).await, clock)
}

fn bearer(token: &Value) -> String {
    format!("Bearer {}", token["access_token"].as_str().expect("a token"))
}

/// A socket of the visitor whose token this is, logged in.
async fn login_with(server: &TestServer, token: &Value) -> Rtm {
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login = rtm.request("login", json!({"token": bearer(token)})).await;
    assert_eq!(login["success"], true, "{login}");
    rtm
}

/// Sends `login` with the token and expects the socket's goodbye instead of an answer.
async fn login_refused(server: &TestServer, token: &Value, reason: &str, code: u16, text: &str) {
    let mut rtm = Rtm::open(&server.ws_url()).await;
    rtm.send("login", json!({"token": bearer(token)})).await;
    rtm.expect_goodbye(reason, code, text).await;
}

/// The RTM URL at another path version.
fn ws_url_at(server: &TestServer, version: &str) -> String {
    server.ws_url().replace("/v3.5/", &format!("/{version}/"))
}

#[tokio::test]
async fn customer_banned_ends_every_socket_and_refuses_logins_and_tokens_until_the_ban_ends() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut first, visitor, customer_id) = Rtm::logged_in(&server).await;
    let token = visitor.token().await;
    let mut second = login_with(&server, &token).await;
    let (mut bystander, _, _) = Rtm::logged_in(&server).await;

    let (status, body) = server.agent("ban_customer", json!({"id": customer_id, "ban": {"days": 2}})).await;
    assert_eq!((status, &body), (200, &json!({})));
    first.expect_goodbye("customer_banned", 1008, "customer banned").await;
    second.expect_goodbye("customer_banned", 1008, "customer banned").await;
    assert_eq!(bystander.request("ping", json!({})).await["success"], true, "another customer stays");

    // A token from before the ban cannot log in; the token endpoint refuses the visitor.
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login = rtm.request("login", json!({"token": bearer(&token)})).await;
    assert_eq!(login["success"], false);
    assert_eq!(login["payload"]["error"]["type"], "customer_banned", "{login}");
    let refused = visitor.token().await;
    assert_eq!(refused, json!({"identity_exception": "customer_banned"}));

    // The ban ends by the server's clock.
    clock.advance(Duration::from_secs(2 * 24 * 60 * 60));
    let token = visitor.token().await;
    assert_eq!(token["entity_id"], customer_id.as_str(), "{token}");
    login_with(&server, &token).await;
}

#[tokio::test]
async fn ban_customer_refuses_bad_input() {
    let server = TestServer::start().await;
    let (_rtm, _, customer_id) = Rtm::logged_in(&server).await;
    for (body, status, kind) in [
        (json!({"id": "no-such-customer", "ban": {"days": 1}}), 404, "not_found"),
        (json!({"id": customer_id, "ban": {"days": 0}}), 400, "validation"),
        (json!({"id": customer_id, "ban": {"days": -1}}), 400, "validation"),
        (json!({"id": customer_id, "ban": {"days": "3"}}), 400, "validation"),
        (json!({"id": customer_id}), 400, "validation"),
        (json!({"ban": {"days": 1}}), 400, "validation"),
    ] {
        let (got, reply) = server.agent("ban_customer", body.clone()).await;
        assert_eq!((got, reply["error"]["type"].as_str()), (status, Some(kind)), "{body} → {reply}");
    }
    let (status, _) =
        server.agent_with_token("ban_customer", json!({"id": customer_id, "ban": {"days": 1}}), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn logged_out_remotely_ends_every_socket_of_the_customer() {
    let server = TestServer::start().await;
    let (mut rtm, visitor, customer_id) = Rtm::logged_in(&server).await;
    let (status, body) = server.agent("logout_customer", json!({"id": customer_id})).await;
    assert_eq!((status, &body), (200, &json!({})));
    rtm.expect_goodbye("logged_out_remotely", 1000, "logged out remotely").await;
    // Not a ban: the visitor may come back.
    login_with(&server, &visitor.token().await).await;
    let (status, body) = server.agent("logout_customer", json!({"id": "no-such-customer"})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn too_many_connections_closes_the_newest_socket() {
    let server = TestServer::start().await;
    let token = server.visitor().token().await;
    let mut sockets = Vec::new();
    for _ in 0..MAX_CONNECTIONS_PER_CUSTOMER {
        sockets.push(login_with(&server, &token).await);
    }
    login_refused(&server, &token, "too_many_connections", 1008, "too many connections").await;
    for rtm in &mut sockets {
        assert_eq!(rtm.request("ping", json!({})).await["success"], true, "the older sockets stay");
    }
}

#[tokio::test]
async fn customer_temporarily_blocked_after_reconnecting_into_the_limit() {
    let (server, clock) = server_on_manual_clock().await;
    let token = server.visitor().token().await;
    let mut sockets = Vec::new();
    for _ in 0..MAX_CONNECTIONS_PER_CUSTOMER {
        sockets.push(login_with(&server, &token).await);
    }
    for _ in 0..TOO_MANY_CONNECTIONS_STRIKES {
        login_refused(&server, &token, "too_many_connections", 1008, "too many connections").await;
    }
    // Blocked, even with room again.
    sockets.clear();
    login_refused(&server, &token, "customer_temporarily_blocked", 1013, "customer temporarily blocked").await;
    let (_other, _, _) = Rtm::logged_in(&server).await;

    clock.advance(TEMPORARY_BLOCK);
    login_with(&server, &token).await;
}

#[tokio::test]
async fn too_many_unauthorized_connections_from_one_address() {
    let server = TestServer::start().await;
    let mut waiting = Vec::new();
    for _ in 0..MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS {
        let mut rtm = Rtm::open(&server.ws_url()).await;
        assert_eq!(rtm.request("ping", json!({})).await["success"], true);
        waiting.push(rtm);
    }
    let mut refused = Rtm::open(&server.ws_url()).await;
    refused.expect_goodbye("too_many_unauthorized_connections", 1013, "too many unauthorized connections").await;

    // A socket that logs in gives its place back.
    let token = server.visitor().token().await;
    let login = waiting[0].request("login", json!({"token": bearer(&token)})).await;
    assert_eq!(login["success"], true);
    login_with(&server, &server.visitor().token().await).await;
}

#[tokio::test]
async fn inactivity_timeout_after_thirty_minutes_without_activity() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    clock.advance(INACTIVITY_TIMEOUT - Duration::from_secs(1));
    // A page change is activity; pings are not.
    let page = rtm.request("update_customer_page", json!({"url": "https://shop.example/cart"})).await;
    assert_eq!(page["success"], true, "{page}");
    assert_eq!(rtm.recv().await["action"], "customer_page_updated");
    clock.advance(INACTIVITY_TIMEOUT - Duration::from_secs(1));
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "still up");
    clock.advance(Duration::from_secs(1));
    rtm.expect_goodbye("inactivity_timeout", 1000, "inactivity timeout").await;
}

#[tokio::test]
async fn an_agents_message_is_chat_activity() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "hi"}]}}})).await;
    let started = rtm.recv().await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap().to_owned();
    assert_eq!(rtm.recv().await["action"], "incoming_chat");
    clock.advance(INACTIVITY_TIMEOUT - Duration::from_secs(60));
    let (status, _) =
        server.agent("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "hello"}})).await;
    assert_eq!(status, 200);
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    assert_eq!(rtm.recv().await["action"], "incoming_event");
    clock.advance(Duration::from_secs(120));
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "the push counted");
    clock.advance(INACTIVITY_TIMEOUT);
    rtm.expect_goodbye("inactivity_timeout", 1000, "inactivity timeout").await;
}

#[tokio::test]
async fn unsupported_version_in_the_path_or_in_login() {
    let server = TestServer::start().await;
    for version in ["v3.1", "v4.0", "latest"] {
        let mut rtm = Rtm::open(&ws_url_at(&server, version)).await;
        rtm.expect_goodbye("unsupported_version", 1008, "unsupported version").await;
    }
    // v3.2 and v3.5 are served.
    let token = server.visitor().token().await;
    let mut old = Rtm::open(&ws_url_at(&server, "v3.2")).await;
    assert_eq!(old.request("login", json!({"token": bearer(&token)})).await["success"], true);

    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login = json!({"request_id": "l1", "action": "login", "version": "3.6", "payload": {"token": bearer(&token)}});
    rtm.send_text(&login.to_string()).await;
    rtm.expect_goodbye("unsupported_version", 1008, "unsupported version").await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login = json!({"request_id": "l1", "action": "login", "version": "3.5", "payload": {"token": bearer(&token)}});
    rtm.send_text(&login.to_string()).await;
    assert_eq!(rtm.recv().await["success"], true);
}

#[tokio::test]
async fn license_not_found_for_an_unknown_organization() {
    let server = TestServer::start().await;
    let wrong_org = server.ws_url().replace(ORG, "00000000-0000-4000-8000-000000000000");
    let no_org = server.ws_url().split('?').next().unwrap().to_owned();
    for url in [wrong_org, no_org] {
        let mut rtm = Rtm::open(&url).await;
        rtm.expect_goodbye("license_not_found", 1008, "license not found").await;
    }
    let v32 = ws_url_at(&server, "v3.2").replace(&format!("organization_id={ORG}"), "license_id=1520");
    let mut rtm = Rtm::open(&v32).await;
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "v3.2 names a license");
}

#[tokio::test]
async fn connection_timeout_without_a_login() {
    let (server, clock) = server_on_manual_clock().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    assert_eq!(rtm.request("ping", json!({})).await["success"], true);
    clock.advance(LOGIN_TIMEOUT);
    rtm.expect_goodbye("connection_timeout", 1008, "login timeout").await;
}

#[tokio::test]
async fn access_token_expired_for_an_active_customer() {
    let (server, clock) = server_on_manual_clock().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let mut elapsed = Duration::ZERO;
    while elapsed + INACTIVITY_TIMEOUT / 2 < CUSTOMER_TOKEN_TTL {
        clock.advance(INACTIVITY_TIMEOUT / 2);
        elapsed += INACTIVITY_TIMEOUT / 2;
        assert_eq!(rtm.request("list_chats", json!({})).await["success"], true);
    }
    clock.advance(CUSTOMER_TOKEN_TTL - elapsed);
    rtm.expect_goodbye("access_token_expired", 1008, "access token expired").await;
}

#[tokio::test]
async fn service_temporarily_unavailable_on_shutdown() {
    let mut server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let stop = async { server.stop().await };
    tokio::join!(rtm.expect_goodbye("service_temporarily_unavailable", 1001, "server shutting down"), stop);
}
