//! The browser adapter in headless Chromium (wasm-bindgen-test) against a real Confab server:
//! the page's WebSocket, `fetch` with the identity cookie (two tabs, one visitor),
//! `XMLHttpRequest` uploads with their real progress events and `abort()`, and the window's
//! `online` / `offline` events.
//!
//! `scripts/test-sdk-web.sh` starts the server (a fresh SQLite database) and runs this with
//! `CONFAB_TEST_SERVER` / `CONFAB_TEST_ORGANIZATION` set at build time and the test page served
//! from an origin the server allows (`WASM_BINDGEN_TEST_ADDRESS`). The page and the server are
//! two origins, as a customer's website and the Confab server are.

#![cfg(all(target_arch = "wasm32", feature = "web"))]

use confab_sdk::protocol::action::LoginChat;
use confab_sdk::protocol::entity::{Chat, Event, EventBody};
use confab_sdk::{Client, ClientEvent, Config, Events, UploadFile};
use futures::{FutureExt, StreamExt};
use std::time::Duration;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = match option_env!("CONFAB_TEST_SERVER") {
    Some(url) => url,
    None => "http://127.0.0.1:18490",
};
const ORGANIZATION: &str = match option_env!("CONFAB_TEST_ORGANIZATION") {
    Some(id) => id,
    None => "00000000-0000-4000-8000-000000000000",
};
const WAIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    let timeout = gloo_timers::future::TimeoutFuture::new(WAIT.as_millis() as u32);
    futures::select_biased! {
        value = future.fuse() => value,
        _ = timeout.fuse() => panic!("timed out waiting for {what}"),
    }
}

/// The next event that `pick` accepts, skipping others (availability, user data, …).
async fn wait_for<T>(events: &mut Events, what: &str, mut pick: impl FnMut(ClientEvent) -> Option<T>) -> T {
    within(what, async {
        loop {
            let event = events.next().await.unwrap_or_else(|| panic!("events ended before {what}"));
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// A connected client, its customer id and the customer's chat, if there is one. Every test
/// in this page is the same visitor (one cookie jar), in any order.
async fn connected() -> (Client, Events, String, Option<LoginChat>) {
    let (client, mut events) = confab_sdk::web::connect(Config::new(SERVER, ORGANIZATION));
    let (customer, mut chats) = wait_for(&mut events, "connected", |event| match event {
        ClientEvent::Connected { customer, chats, .. } => Some((customer, chats)),
        ClientEvent::ConnectFailed { error, .. } => panic!("could not connect to {SERVER}: {error}"),
        _ => None,
    })
    .await;
    (client, events, customer.id, chats.pop())
}

/// A new thread: the visitor's first chat, or their chat started again.
async fn new_thread(client: &Client, existing: Option<LoginChat>, text: &str) -> Chat {
    let Some(chat) = existing else {
        return within("start_chat", client.start_chat(Some(text))).await.expect("a chat");
    };
    if chat.has_active_thread == Some(true) {
        within("deactivate_chat", client.deactivate_chat(&chat.chat_id)).await.expect("deactivated");
    }
    within("resume_chat", client.resume_chat(&chat.chat_id, Some(text))).await.expect("resumed")
}

fn noise(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Two tabs of one visitor: the second is the same customer (the cookie the first was given
/// names it), and what the first sends reaches the second over its own socket.
#[wasm_bindgen_test]
async fn a_message_sent_in_one_tab_arrives_in_the_other() {
    let (first, _first_events, customer, existing) = connected().await;
    let (_second, mut second_events, same, _) = connected().await;
    assert_eq!(same, customer, "the identity cookie makes the second socket the same visitor");

    let chat = new_thread(&first, existing, "Hello from the first tab").await;
    let incoming = wait_for(&mut second_events, "incoming_chat", |event| match event {
        ClientEvent::IncomingChat(incoming) => Some(incoming),
        _ => None,
    })
    .await;
    assert_eq!(incoming.chat.id, chat.id);

    let sent = within("send_event", first.send_event(&chat.id, Event::message("Second message <b>as text</b>")))
        .await
        .expect("sent");
    let arrived = wait_for(&mut second_events, "incoming_event", |event| match event {
        ClientEvent::IncomingEvent(incoming) => Some(incoming),
        _ => None,
    })
    .await;
    assert_eq!(arrived.chat_id, chat.id);
    assert_eq!(arrived.event.id, sent.id);
    let EventBody::Message(message) = arrived.event.body else { panic!("a message: {:?}", arrived.event) };
    assert_eq!(message.text, "Second message <b>as text</b>");
}

/// `XMLHttpRequest`'s upload events are the progress: it rises to exactly 1, and the answer is
/// the file's URL on the server, which a `file` event then puts in the chat.
#[wasm_bindgen_test]
async fn an_upload_reports_progress_from_the_browser_and_lands_in_the_chat() {
    let (client, _events, _, existing) = connected().await;
    let bytes = noise(4 * 1024 * 1024);
    let mut upload = client.upload_file(UploadFile::from_bytes("notes.bin", bytes.clone()));
    let progress = upload.progress();
    let uploaded = within("the upload", upload).await.expect("uploaded");
    let seen: Vec<f64> = progress.collect().await;

    console_log!("{} progress reports: {seen:?}", seen.len());
    assert!(!seen.is_empty(), "progress events arrived");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "increasing: {seen:?}");
    assert!(seen.iter().all(|v| *v > 0.0 && *v <= 1.0), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 1.0);
    assert!(uploaded.url.starts_with(&format!("{SERVER}/files/")), "{}", uploaded.url);

    let chat = new_thread(&client, existing, "A file follows").await;
    let sent = within("send_event", client.send_event(&chat.id, Event::file(&uploaded.url))).await.expect("sent");
    let EventBody::File(facts) = sent.body else { panic!("a file event") };
    assert_eq!(facts.name.as_deref(), Some("notes.bin"));
    assert_eq!(facts.size, Some(bytes.len() as u64), "the server received every byte");
}

/// `cancel` while the request is in flight aborts the `XMLHttpRequest`; the upload ends with
/// `UPLOAD_CANCELED`, and the client carries on.
#[wasm_bindgen_test]
async fn cancel_aborts_the_browser_upload() {
    let (client, _events, ..) = connected().await;
    let mut upload = client.upload_file(UploadFile::from_bytes("big.bin", noise(8 * 1024 * 1024)));
    let cancel = upload.canceller();
    // One poll starts the request (`send()`); cancelling before the event loop turns again
    // means it cannot have finished.
    assert!(futures::poll!(&mut upload).is_pending());
    cancel.cancel();
    let error = within("the cancel", upload).await.unwrap_err();
    assert_eq!(error.code(), "UPLOAD_CANCELED");

    let after =
        within("an upload after the cancel", client.upload_file(UploadFile::from_bytes("small.txt", b"ok".to_vec())))
            .await
            .expect("the next upload works");
    assert!(after.url.ends_with("/small.txt"), "{}", after.url);
}

/// `destroy` ends the instance: its events end, and every call afterwards is `SDK_DESTROYED`.
#[wasm_bindgen_test]
async fn destroy_ends_the_client() {
    let (client, mut events, ..) = connected().await;
    client.destroy();
    within("the events to end", async { while events.next().await.is_some() {} }).await;
    let refused = within("a refused call", client.get_customer()).await.unwrap_err();
    assert_eq!(refused.code(), "SDK_DESTROYED");
}

/// What one tab changes about the visitor reaches the other tab as `customer_updated` and
/// `customer_page_updated`.
#[wasm_bindgen_test]
async fn the_visitors_details_and_page_reach_the_other_tab() {
    use confab_sdk::protocol::action::{CustomerPage, CustomerUpdate};
    let (first, _first_events, customer, _) = connected().await;
    let (_second, mut second_events, ..) = connected().await;

    let update =
        CustomerUpdate { name: Some("Ada".into()), email: Some("ada@example.com".into()), ..Default::default() };
    within("update_customer", first.update_customer(update)).await.expect("updated");
    let updated = wait_for(&mut second_events, "customer_updated", |event| match event {
        ClientEvent::CustomerUpdated(customer) => Some(customer),
        _ => None,
    })
    .await;
    assert_eq!((updated.id.as_str(), updated.name.as_deref()), (customer.as_str(), Some("Ada")));

    let page = CustomerPage { url: Some("https://shop.example/cart".into()), title: Some("Cart".into()) };
    within("update_customer_page", first.update_customer_page(page)).await.expect("page updated");
    let moved = wait_for(&mut second_events, "customer_page_updated", |event| match event {
        ClientEvent::CustomerPageUpdated(page) => Some(page),
        _ => None,
    })
    .await;
    assert_eq!((moved.url.as_str(), moved.title.as_deref()), ("https://shop.example/cart", Some("Cart")));
}

/// The window's `offline` event makes the connection unstable; `online` probes the socket, and
/// the server's answer makes it recovered.
#[wasm_bindgen_test]
async fn offline_then_online_is_unstable_then_recovered() {
    let (_client, mut events, ..) = connected().await;
    let window = web_sys::window().unwrap();
    window.dispatch_event(&web_sys::Event::new("offline").unwrap()).unwrap();
    wait_for(&mut events, "connection_unstable", |event| (event == ClientEvent::ConnectionUnstable).then_some(()))
        .await;
    window.dispatch_event(&web_sys::Event::new("online").unwrap()).unwrap();
    wait_for(&mut events, "connection_recovered", |event| (event == ClientEvent::ConnectionRecovered).then_some(()))
        .await;
}
