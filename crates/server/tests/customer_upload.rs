//! Customer uploads over a real listener: the 10 MiB cap counted while streaming, who may
//! upload, how files are served back, and what a `file` event naming one carries.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::{MAX_UPLOAD_BYTES, UPLOAD_BURST};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// `POST upload_file` with `bytes` as the multipart field `file`; status and JSON body.
async fn upload(url: &str, token: Option<&str>, origin: Option<&str>, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/png").unwrap());
    let mut request = reqwest::Client::new().post(url).multipart(form);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON, not {text:?}")))
}

fn endpoint(server: &TestServer) -> String {
    format!("{}/v3.5/customer/action/upload_file?organization_id={ORG}", server.url)
}

async fn token(server: &TestServer) -> String {
    server.visitor().token().await["access_token"].as_str().unwrap().to_owned()
}

/// Bytes no sniffer takes for anything (a cheap generator; zeros and high bytes included).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A PNG's signature and header chunk: enough for type sniffing and dimensions.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
    png
}

/// Names in `<data dir>/uploads/tmp`.
fn temporary_files(server: &TestServer) -> Vec<String> {
    std::fs::read_dir(server.dir.path().join("uploads/tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn ten_mib_pass_and_come_back_byte_identical_as_a_sandboxed_download() {
    let server = TestServer::start().await;
    let token = token(&server).await;
    let bytes = noise(MAX_UPLOAD_BYTES as usize);
    let (status, body) = upload(&endpoint(&server), Some(&token), None, "../../etc/my data.bin", bytes.clone()).await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/files/", server.url)), "{url}");
    assert!(url.ends_with("/my%20data.bin"), "{url}");

    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"my data.bin\"; filename*=UTF-8''my%20data.bin");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox; default-src 'none'");
    assert!(response.bytes().await.unwrap() == bytes, "byte-identical");

    // On disk under a random id; the client's name is no path.
    let mut stored: Vec<String> = std::fs::read_dir(server.dir.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    stored.sort();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored[0].len() == 32 && stored[0].bytes().all(|b| b.is_ascii_alphanumeric()), "{stored:?}");
    assert_eq!(stored[1], "tmp");
    assert!(temporary_files(&server).is_empty());
}

#[tokio::test]
async fn one_byte_more_is_refused_while_streaming_and_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let token = token(&server).await;
    let (status, body) =
        upload(&endpoint(&server), Some(&token), None, "big.bin", noise(MAX_UPLOAD_BYTES as usize + 1)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["type"], "entity_too_large", "{body}");
    assert!(body["error"]["message"].is_string());
    assert!(temporary_files(&server).is_empty(), "the temporary file is deleted");
    let entries = std::fs::read_dir(server.dir.path().join("uploads")).unwrap().count();
    assert_eq!(entries, 1, "only tmp/");
    // The server goes on serving uploads.
    let (status, _) = upload(&endpoint(&server), Some(&token), None, "small.bin", noise(10)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn uploads_need_a_valid_token_an_allowed_origin_and_a_file() {
    let server = TestServer::start().await;
    let url = endpoint(&server);
    let (status, body) = upload(&url, None, None, "a.bin", noise(10)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("authentication")), "{body}");
    let (status, body) = upload(&url, Some("c1.forged.1.2.abc"), None, "a.bin", noise(10)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("authentication")), "{body}");

    let token = token(&server).await;
    let (status, body) = upload(&url, Some(&token), Some("https://evil.example"), "a.bin", noise(10)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (403, Some("authorization")), "{body}");
    let (status, _) = upload(&url, Some(&token), Some(&server.url), "a.bin", noise(10)).await;
    assert_eq!(status, 200, "the server's own origin");

    let wrong_org = format!("{}/v3.5/customer/action/upload_file?organization_id=nope", server.url);
    let (status, body) = upload(&wrong_org, Some(&token), None, "a.bin", noise(10)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("validation")), "{body}");
    let v2 = format!("{}/v3.2/customer/action/upload_file?license_id=1", server.url);
    let (status, body) = upload(&v2, Some(&token), None, "a.bin", noise(10)).await;
    assert_eq!(status, 200, "{body}");

    let http = reqwest::Client::new();
    let not_multipart =
        http.post(&url).header("authorization", format!("Bearer {token}")).body("hello").send().await.unwrap();
    assert_eq!(not_multipart.status(), 400);
    let body: Value = not_multipart.json().await.unwrap();
    assert_eq!(body["error"]["type"], "validation");
    let other_field = Form::new().text("note", "no file here");
    let response =
        http.post(&url).header("authorization", format!("Bearer {token}")).multipart(other_field).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["type"], "validation");

    for missing in ["/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x", "/files/..%2F..%2Fconfab.db/x"] {
        let response = http.get(format!("{}{missing}", server.url)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{missing}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"]["type"], "not_found");
    }
}

#[tokio::test]
async fn html_is_served_as_a_sandboxed_attachment_whatever_the_client_claims() {
    let server = TestServer::start().await;
    let token = token(&server).await;
    let page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec();
    // `upload` claims image/png for every part.
    let (status, body) = upload(&endpoint(&server), Some(&token), None, "cat.png", page.clone()).await;
    assert_eq!(status, 200, "{body}");
    let response = reqwest::get(body["url"].as_str().unwrap()).await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(headers["content-security-policy"], "sandbox; default-src 'none'");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap(), page);
}

#[tokio::test]
async fn a_png_is_inline_and_its_file_event_carries_the_uploads_facts() {
    let server = TestServer::start().await;
    let (mut rtm, visitor, _) = Rtm::logged_in(&server).await;
    let token = visitor.token().await["access_token"].as_str().unwrap().to_owned();
    let image = png(3, 2);
    let (status, body) = upload(&endpoint(&server), Some(&token), None, "dot.png", image.clone()).await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap().to_owned();

    let response = reqwest::get(&url).await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-disposition"], "inline; filename=\"dot.png\"; filename*=UTF-8''dot.png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("content-security-policy").is_none());

    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let chat_id = rtm.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned();
    let _incoming_chat = rtm.recv().await;
    let claims = json!({"type":"file","url": url, "name":"invoice.exe", "content_type":"text/html", "size": 1,
                        "width": 9999, "height": 9999, "thumbnail_url": "https://evil.example/t.png"});
    let sent = rtm.request("send_event", json!({"chat_id": chat_id, "event": claims})).await;
    assert_eq!(sent["success"], true, "{sent}");
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_event");
    let event = &push["payload"]["event"];
    assert_eq!(event["url"], url.as_str());
    assert_eq!(event["name"], "dot.png");
    assert_eq!(event["content_type"], "image/png");
    assert_eq!(event["size"], image.len());
    assert_eq!((event["width"].as_u64(), event["height"].as_u64()), (Some(3), Some(2)));
    assert!(event.get("thumbnail_url").is_none(), "{event}");
    let chat = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(chat["payload"]["thread"]["events"][1]["name"], "dot.png", "stored so");

    let unknown = format!("{}/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x.png", server.url);
    let refused = rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type":"file","url": unknown}})).await;
    assert_eq!(refused["payload"]["error"]["type"], "validation", "{refused}");
    let elsewhere = rtm
        .request(
            "send_event",
            json!({"chat_id": chat_id, "event": {"type":"file","url":"https://cdn.example/x.pdf","name":"x.pdf"}}),
        )
        .await;
    assert_eq!(elsewhere["success"], true, "another server's file is passed on as sent");
}

#[tokio::test]
async fn uploads_are_rate_limited_per_customer() {
    let server = TestServer::start_on_clock(&[], Clock::manual(Micros::from_unix_seconds(1_764_000_000))).await;
    let (mine, theirs) = (token(&server).await, token(&server).await);
    for _ in 0..UPLOAD_BURST {
        assert_eq!(upload(&endpoint(&server), Some(&mine), None, "a.bin", noise(4)).await.0, 200);
    }
    let (status, body) = upload(&endpoint(&server), Some(&mine), None, "a.bin", noise(4)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (429, Some("too_many_requests")), "{body}");
    assert_eq!(upload(&endpoint(&server), Some(&theirs), None, "a.bin", noise(4)).await.0, 200, "another customer");
}

#[tokio::test]
async fn agents_upload_through_the_agent_api_and_their_file_events_carry_the_facts() {
    let server = TestServer::start().await;
    let agent_url = format!("{}/v3.6/agent/action/upload_file", server.url);
    let (status, body) = upload(&agent_url, Some("not-the-agent-token"), None, "a.png", png(5, 4)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("authentication")), "{body}");
    let (status, body) =
        upload(&agent_url, Some(AGENT_TOKEN), None, "big.bin", noise(MAX_UPLOAD_BYTES as usize + 1)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (413, Some("entity_too_large")), "{body}");
    let (status, body) = upload(&agent_url, Some(AGENT_TOKEN), None, "reply.png", png(5, 4)).await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap();

    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let chat_id = rtm.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned();
    let _incoming_chat = rtm.recv().await;
    let (status, sent) =
        server.agent("send_event", json!({"chat_id": chat_id, "event": {"type":"file","url": url, "name":"x"}})).await;
    assert_eq!(status, 200, "{sent}");
    let _joined = rtm.recv().await;
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_event", "{push}");
    let event = &push["payload"]["event"];
    assert_eq!(
        (event["name"].as_str(), event["width"].as_u64(), event["height"].as_u64()),
        (Some("reply.png"), Some(5), Some(4))
    );
}
