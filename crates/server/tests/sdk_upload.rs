//! The native SDK's `upload_file` against the real server (and, for the cases a real server
//! does not produce on demand, a stand-in on loopback): progress, the answer, cancel, the local
//! size check, server and network errors.

mod common;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::routing::{get, post};
use common::*;
use confab_sdk::protocol::action::{DynamicConfig, LoginResponse};
use confab_sdk::protocol::entity::{Customer, Event, EventBody, Statistics};
use confab_sdk::protocol::frame::ResponseFrame;
use confab_sdk::protocol::{Request, RequestFrame, Response, ServerFrame};
use confab_sdk::upload::MAX_UPLOAD_BYTES;
use confab_sdk::{ClientEvent, Config, Events, UploadFile};
use futures::StreamExt;
use serde_json::json;

async fn next_event(events: &mut Events) -> ClientEvent {
    tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open")
}

async fn connected(url: &str) -> (confab_sdk::Client, Events) {
    let (client, mut events) = confab_sdk::native::connect(Config::new(url, ORG));
    // `customer_id` comes first, with the first token.
    loop {
        match next_event(&mut events).await {
            ClientEvent::Connected { .. } => return (client, events),
            ClientEvent::CustomerId(_) => continue,
            other => panic!("expected connected, got {other:?}"),
        }
    }
}

fn noise(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// A stand-in server on loopback: grants a token, answers `login` on its socket, and answers
/// uploads with `upload`.
async fn stand_in(upload: Router) -> String {
    let token = json!({"access_token":"stand-in-token","entity_id":"c-1","expires_in":28800,"token_type":"Bearer"});
    let app = Router::new()
        .route("/v2/customer/token", post(move || async move { axum::Json(token) }))
        .route("/v3.5/customer/rtm/ws", get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(answer_login) }))
        .merge(upload);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn answer_login(mut socket: WebSocket) {
    while let Some(Ok(Message::Text(text))) = socket.recv().await {
        let frame = RequestFrame::decode(&text).expect("a frame");
        if let Request::Login(_) = frame.request {
            let customer =
                Customer { id: "c-1".into(), statistics: Some(Statistics::default()), ..Customer::default() };
            let login = Response::Login(LoginResponse::new(customer, vec![], DynamicConfig::new(1, vec![1])));
            let reply: ServerFrame = ResponseFrame::ok(frame.request_id.clone(), login).into();
            let _ = socket.send(Message::text(reply.encode())).await;
        }
    }
}

#[tokio::test]
async fn an_upload_reports_increasing_progress_and_resolves_with_its_url() {
    let server = TestServer::start().await;
    let (client, _events) = connected(&server.url).await;
    let bytes = noise(1024 * 1024);
    let mut upload = client.upload_file(UploadFile::from_bytes("notes.bin", bytes.clone()));
    let mut progress = upload.progress();
    let collector = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(value) = tokio::time::timeout(WAIT, progress.next()).await.expect("progress in time") {
            seen.push(value);
            if value >= 1.0 {
                break;
            }
        }
        seen
    });
    let uploaded = upload.await.expect("uploaded");
    let seen = collector.await.unwrap();
    assert!(seen.len() >= 10, "one report per chunk at least: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "increasing: {seen:?}");
    assert!(seen[0] > 0.0 && seen.iter().all(|v| *v <= 1.0));
    assert_eq!(*seen.last().unwrap(), 1.0);

    assert!(uploaded.url.starts_with(&format!("{}/files/", server.url)), "{}", uploaded.url);
    let served = reqwest::get(&uploaded.url).await.unwrap().bytes().await.unwrap();
    assert!(served == bytes, "the server has the file, byte for byte");

    // Into the chat as a file event: the server states the facts.
    let chat = client.start_chat(Some("here it comes")).await.unwrap();
    let file = Event::file(&uploaded.url);
    let sent = client.send_event(&chat.id, file).await.unwrap();
    let EventBody::File(facts) = sent.body else { panic!("a file event") };
    assert_eq!(facts.name.as_deref(), Some("notes.bin"));
    assert_eq!(facts.size, Some(bytes.len() as u64));
    assert_eq!(facts.content_type.as_deref(), Some("application/octet-stream"));
}

#[tokio::test]
async fn a_file_too_big_is_refused_before_sending() {
    let server = TestServer::start().await;
    let (client, _events) = connected(&server.url).await;
    let mut upload = client.upload_file(UploadFile::from_bytes("big.bin", vec![0; MAX_UPLOAD_BYTES as usize + 1]));
    let mut progress = upload.progress();
    let error = upload.await.unwrap_err();
    assert_eq!(error.code(), "TOO_BIG_FILE");
    assert_eq!(error.to_string(), "The file is too big (max size is 10.00 MB).");
    assert_eq!(progress.next().await, None, "nothing was sent");
    let entries = std::fs::read_dir(server.dir.path().join("uploads")).unwrap().count();
    assert_eq!(entries, 1, "only tmp/: the server saw nothing");
    // Exactly the limit is sent.
    let exact = client.upload_file(UploadFile::from_bytes("exact.bin", vec![7; MAX_UPLOAD_BYTES as usize]));
    assert!(exact.await.is_ok());
}

#[tokio::test]
async fn cancel_aborts_an_upload_under_way() {
    // The stand-in takes the request and never answers: only cancel ends it.
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<()>();
    let hang = Router::new().route(
        "/v3.5/customer/action/upload_file",
        post(move || {
            let arrived_tx = arrived_tx.clone();
            async move {
                let _ = arrived_tx.send(());
                std::future::pending::<()>().await
            }
        }),
    );
    let (client, _events) = connected(&stand_in(hang).await).await;
    let mut upload = client.upload_file(UploadFile::from_bytes("slow.bin", noise(256 * 1024)));
    let mut progress = upload.progress();
    let cancel = upload.canceller();
    let waiting = tokio::spawn(upload);
    tokio::time::timeout(WAIT, arrived.recv()).await.expect("the request arrives").unwrap();
    let first = tokio::time::timeout(WAIT, progress.next()).await.unwrap().expect("some progress");
    assert!(first > 0.0);
    cancel.cancel();
    let error = tokio::time::timeout(WAIT, waiting).await.expect("ends on cancel").unwrap().unwrap_err();
    assert_eq!(error.code(), "UPLOAD_CANCELED");

    // Canceled before it starts: nothing is sent.
    let early = client.upload_file(UploadFile::from_bytes("x.bin", noise(10)));
    early.cancel();
    assert_eq!(early.await.unwrap_err().code(), "UPLOAD_CANCELED");
    assert!(arrived.try_recv().is_err(), "no second request");
}

#[tokio::test]
async fn server_refusals_keep_their_type_and_a_dead_server_is_upload_failed() {
    let refuse = Router::new().route(
        "/v3.5/customer/action/upload_file",
        post(|| async {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(json!({"error": {"type": "entity_too_large", "message": "Upload limit exceeded (10MB)."}})),
            )
        }),
    );
    let (client, _events) = connected(&stand_in(refuse).await).await;
    let error = client.upload_file(UploadFile::from_bytes("a.bin", noise(10))).await.unwrap_err();
    assert_eq!(error.code(), "ENTITY_TOO_LARGE");
    match error {
        confab_sdk::Error::Api(refused) => assert_eq!(refused.message, "Upload limit exceeded (10MB)."),
        other => panic!("expected the server's error, got {other:?}"),
    }

    let mut server = TestServer::start().await;
    let (client, _events) = connected(&server.url).await;
    server.stop().await;
    let error = client.upload_file(UploadFile::from_bytes("a.bin", noise(10))).await.unwrap_err();
    assert_eq!(error.code(), "UPLOAD_FAILED", "{error}");
}

#[tokio::test]
async fn an_upload_before_any_token_is_no_connection() {
    // Nothing listens here: the client never gets a token.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (client, mut events) = confab_sdk::native::connect(Config::new(&url, ORG));
    assert!(matches!(next_event(&mut events).await, ClientEvent::ConnectFailed { .. }));
    let error = client.upload_file(UploadFile::from_bytes("a.bin", noise(10))).await.unwrap_err();
    assert_eq!(error.code(), "NO_CONNECTION");
}
