//! Tabs that share one connection (`confab_sdk::tabs`) against the real server, through a
//! proxy that counts customer sockets: a follower's calls and events go through the leader's
//! one socket, and when the leader goes the follower takes over with a socket of its own.

mod common;

use common::*;
use confab_sdk::protocol::entity::Event;
use confab_sdk::tabs::{TabBus, Tabs};
use confab_sdk::{ClientEvent, Config, Events};
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The tabs of one site: each tab's posts reach every other tab, as a `BroadcastChannel`'s do.
#[derive(Clone, Default)]
struct Site {
    tabs: Arc<Mutex<Vec<mpsc::UnboundedSender<String>>>>,
}

struct SiteBus {
    site: Site,
    me: usize,
}

impl TabBus for SiteBus {
    fn post(&self, message: String) {
        for (tab, inbox) in self.site.tabs.lock().unwrap().iter().enumerate() {
            if tab != self.me {
                let _ = inbox.unbounded_send(message.clone());
            }
        }
    }
}

impl Site {
    /// A new tab; it leads once `leadership` resolves.
    fn open_tab(&self, url: &str, leadership: oneshot::Receiver<()>) -> (confab_sdk::Client, Events) {
        let (inbox, messages) = mpsc::unbounded();
        let me = {
            let mut tabs = self.tabs.lock().unwrap();
            tabs.push(inbox);
            tabs.len() - 1
        };
        let tabs = Tabs {
            bus: SiteBus { site: self.clone(), me },
            messages: Box::pin(messages),
            leadership: Box::pin(leadership.map(drop)),
        };
        // Tabs share the browser's cookies; these native tabs share the identity instead.
        let config = Config { keep_identity: true, ..Config::new(url, ORG) };
        confab_sdk::native::connect_shared(config, tabs)
    }
}

/// A TCP proxy in front of the server that counts the customer sockets open through it.
async fn socket_counting_proxy(server: &str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = server.trim_start_matches("http://").to_owned();
    let open = Arc::new(AtomicUsize::new(0));
    let counter = open.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let upstream = upstream.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = vec![0; 4096];
                let Ok(n) = client.read(&mut head).await else { return };
                let socket = String::from_utf8_lossy(&head[..n]).lines().next().unwrap_or("").contains("/customer/rtm");
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                if server.write_all(&head[..n]).await.is_err() {
                    return;
                }
                if socket {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                if socket {
                    counter.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    (url, open)
}

/// The next event of a kind the test follows.
async fn next_event(events: &mut Events) -> ClientEvent {
    loop {
        match tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open") {
            event @ (ClientEvent::Connected { .. } | ClientEvent::IncomingChat(_) | ClientEvent::IncomingEvent(_)) => {
                return event;
            }
            _ => continue,
        }
    }
}

async fn expect_connected(events: &mut Events) -> (String, Vec<String>) {
    match next_event(events).await {
        ClientEvent::Connected { customer, chats, .. } => (customer.id, chats.into_iter().map(|c| c.chat_id).collect()),
        other => panic!("expected Connected, got {other:?}"),
    }
}

async fn expect_text(events: &mut Events, text: &str) {
    loop {
        if let ClientEvent::IncomingEvent(incoming) = next_event(events).await {
            if incoming.event.text() == Some(text) {
                return;
            }
        }
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn tabs_share_the_leader_s_socket_and_a_follower_takes_over_when_it_goes() {
    let server = TestServer::start().await;
    let (url, sockets) = socket_counting_proxy(&server.url).await;
    let site = Site::default();

    let (lead_now, leadership) = oneshot::channel();
    lead_now.send(()).unwrap();
    let (leader, mut leader_events) = site.open_tab(&url, leadership);
    let (customer, _) = expect_connected(&mut leader_events).await;
    let (take_over, follower_leadership) = oneshot::channel();
    let (follower, mut follower_events) = site.open_tab(&url, follower_leadership);
    assert_eq!(expect_connected(&mut follower_events).await.0, customer, "the same visitor in both tabs");

    // The follower's calls go through the leader's socket; both tabs see what happens.
    let chat = follower.start_chat(Some("hello from the second tab")).await.expect("the chat starts from a follower");
    // The chat is the follower's answer, and an event for the other tab (as a push is for a
    // socket that did not ask).
    match next_event(&mut leader_events).await {
        ClientEvent::IncomingChat(incoming) => assert_eq!(incoming.chat.id, chat.id),
        other => panic!("expected the follower's chat, got {other:?}"),
    }
    let sent = follower.send_event(&chat.id, Event::message("and more").with_custom_id("tab-2")).await.unwrap();
    assert_eq!(sent.text(), Some("and more"));
    expect_text(&mut leader_events, "and more").await;
    let (status, _) =
        server.agent("send_event", json!({"chat_id": chat.id, "event": {"type":"message","text":"Hi both"}})).await;
    assert_eq!(status, 200);
    expect_text(&mut leader_events, "Hi both").await;
    expect_text(&mut follower_events, "Hi both").await;
    let history = follower.get_chat(&chat.id, None).await.unwrap();
    assert_eq!(history.thread.unwrap().events.len(), 3);
    assert_eq!(sockets.load(Ordering::SeqCst), 1, "two tabs, one socket");

    // The leader's tab goes (its page closes: the lock passes on).
    drop((leader, leader_events));
    eventually("the leader's socket closes", || sockets.load(Ordering::SeqCst) == 0).await;
    take_over.send(()).unwrap();
    let (same, chats) = expect_connected(&mut follower_events).await;
    assert_eq!((same, chats), (customer, vec![chat.id.clone()]), "the new leader is the same visitor, with the chat");
    let (status, _) = server
        .agent("send_event", json!({"chat_id": chat.id, "event": {"type":"message","text":"Still there?"}}))
        .await;
    assert_eq!(status, 200);
    expect_text(&mut follower_events, "Still there?").await;
    follower.send_event(&chat.id, Event::message("yes")).await.expect("the new leader sends");
    assert_eq!(sockets.load(Ordering::SeqCst), 1);
}
