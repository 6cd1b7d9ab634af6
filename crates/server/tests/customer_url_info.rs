//! `get_url_info` over a real socket, against pages served here on loopback: previews, and the
//! SSRF guards (schemes, non-public addresses, redirects re-checked, size and time limits).
//! No request in this file leaves the machine: forbidden addresses are refused before any
//! connection is made.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::{MAX_URL_INFO_BYTES, URL_INFO_TIMEOUT};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tokio::sync::mpsc;

const PAGE: &str = r#"<!DOCTYPE html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Confab &amp; friends">
<meta name="description" content="A page about chatting.">
<meta property="og:image" content="/img/preview.png">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
</head><body>Hello</body></html>"#;

/// A website on `ip`: `/page`, `/to?url=…` (a redirect), `/loop`, `/big` (too large, streamed
/// without a length), `/json`, `/slow` (reports its request on `slow`, then never answers).
async fn site(ip: &str) -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let (slow_tx, slow) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/page", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }))
        .route(
            "/to",
            get(
                |axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                    Redirect::to(&q["url"])
                },
            ),
        )
        .route("/loop", get(|| async { Redirect::to("/loop") }))
        .route(
            "/big",
            get(|| async {
                let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
                let chunks = MAX_URL_INFO_BYTES / chunk.len() + 2;
                let stream = futures::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
                ([(header::CONTENT_TYPE, "text/html")], axum::body::Body::from_stream(stream))
            }),
        )
        .route("/json", get(|| async { axum::Json(json!({"title": "not html"})) }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND.into_response() }))
        .route(
            "/slow",
            get(move || {
                let slow_tx = slow_tx.clone();
                async move {
                    let _ = slow_tx.send(());
                    std::future::pending::<()>().await;
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, slow)
}

async fn url_info(rtm: &mut Rtm, url: &str) -> Value {
    rtm.request("get_url_info", json!({ "url": url })).await
}

fn error_type(reply: &Value) -> &str {
    assert_eq!(reply["success"], false, "{reply}");
    reply["payload"]["error"]["type"].as_str().unwrap()
}

#[tokio::test]
async fn a_page_on_an_allowed_address_is_previewed() {
    let (site, _) = site("127.0.0.1").await;
    let server = TestServer::start_with(&["--url-info-allow-private", "127.0.0.1"]).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let url = format!("http://{site}/page");
    let reply = url_info(&mut rtm, &url).await;
    assert_eq!(reply["success"], true, "{reply}");
    assert_eq!(
        reply["payload"],
        json!({
            "url": url,
            "title": "Confab & friends",
            "description": "A page about chatting.",
            "image_url": format!("{site}/img/preview.png"),
            "image_width": 1200,
            "image_height": 630,
        })
    );

    let followed = url_info(&mut rtm, &format!("http://{site}/to?url=/page")).await;
    assert_eq!(followed["payload"]["title"], "Confab & friends", "a redirect is followed: {followed}");
    assert_eq!(error_type(&url_info(&mut rtm, &format!("http://{site}/json")).await), "not_found", "not HTML");
    assert_eq!(error_type(&url_info(&mut rtm, &format!("http://{site}/missing")).await), "not_found");
    assert_eq!(error_type(&url_info(&mut rtm, &format!("http://{site}/loop")).await), "not_found", "redirect loop");
}

#[tokio::test]
async fn without_the_setting_loopback_is_refused() {
    let (site, _) = site("127.0.0.1").await;
    let server = TestServer::start().await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let reply = url_info(&mut rtm, &format!("http://{site}/page")).await;
    assert_eq!(error_type(&reply), "validation");
    assert!(reply["payload"]["error"]["message"].as_str().unwrap().contains("127.0.0.1"), "{reply}");
    let by_name = url_info(&mut rtm, &format!("http://localhost:{}/page", site.port())).await;
    assert_eq!(error_type(&by_name), "validation", "a name is judged by its addresses: {by_name}");
    assert_eq!(rtm.request("ping", json!({})).await["success"], true, "the socket goes on");
}

#[tokio::test]
async fn forbidden_schemes_and_addresses_are_refused_before_any_connection() {
    let (site, _) = site("127.0.0.1").await;
    let port = site.port();
    // Even with loopback's IPv4 form allowed, its other spellings are not.
    let server = TestServer::start_with(&["--url-info-allow-private", "127.0.0.1"]).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    for url in [
        "file:///etc/passwd".to_owned(),
        "gopher://127.0.0.1/".to_owned(),
        "not a url".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::ffff:127.0.0.1]:{port}/page"),
        format!("http://[::1]:{port}/page"),
        format!("http://0.0.0.0:{port}/page"),
        format!("http://user:pw@127.0.0.1:{port}/page"),
    ] {
        let reply = url_info(&mut rtm, &url).await;
        assert_eq!(error_type(&reply), "validation", "{url}: {reply}");
    }
}

#[tokio::test]
async fn every_redirect_hop_is_checked_again() {
    // The site on 127.0.0.2 is allowed; 127.0.0.1 (where it redirects) is not.
    let (allowed, _) = site("127.0.0.2").await;
    let (forbidden, _) = site("127.0.0.1").await;
    let server = TestServer::start_with(&["--url-info-allow-private", "127.0.0.2"]).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    assert_eq!(url_info(&mut rtm, &format!("http://{allowed}/page")).await["success"], true);
    for target in [format!("http://{forbidden}/page"), "file:///etc/passwd".to_owned(), "http://10.0.0.1/".to_owned()] {
        let reply = url_info(&mut rtm, &format!("http://{allowed}/to?url={target}")).await;
        assert_eq!(error_type(&reply), "validation", "{target}: {reply}");
    }
}

#[tokio::test]
async fn an_oversized_page_is_refused() {
    let (site, _) = site("127.0.0.1").await;
    let server = TestServer::start_with(&["--url-info-allow-private", "127.0.0.1"]).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let reply = url_info(&mut rtm, &format!("http://{site}/big")).await;
    assert_eq!(error_type(&reply), "not_found");
    assert!(reply["payload"]["error"]["message"].as_str().unwrap().contains("larger"), "{reply}");
}

#[tokio::test]
async fn a_slow_page_times_out_on_the_servers_clock() {
    let (site, mut slow) = site("127.0.0.1").await;
    let clock = Clock::manual(Micros::from_unix_seconds(1_764_000_000));
    let server = TestServer::start_on_clock(&["--url-info-allow-private", "127.0.0.1"], clock.clone()).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let request_id = rtm.send("get_url_info", json!({ "url": format!("http://{site}/slow") })).await;
    tokio::time::timeout(WAIT, slow.recv()).await.expect("the page is asked for").unwrap();
    clock.advance(URL_INFO_TIMEOUT);
    let reply = rtm.recv().await;
    assert_eq!(reply["request_id"], request_id.as_str());
    assert_eq!(error_type(&reply), "request_timeout");
}

#[tokio::test]
async fn link_previews_are_rate_limited_per_customer() {
    let clock = Clock::manual(Micros::from_unix_seconds(1_764_000_000));
    let server = TestServer::start_on_clock(&[], clock).await;
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let burst = confab_server::limits::URL_INFO_BURST;
    for _ in 0..burst {
        assert_eq!(error_type(&url_info(&mut rtm, "file:///x").await), "validation");
    }
    assert_eq!(error_type(&url_info(&mut rtm, "file:///x").await), "too_many_requests");
    let (mut other, _, _) = Rtm::logged_in(&server).await;
    assert_eq!(error_type(&url_info(&mut other, "file:///x").await), "validation", "another customer");
}
