//! One conformance suite, run against both storage backends: every scenario below runs once on
//! SQLite (a file, with its writer and readers) and once on PostgreSQL (a throwaway cluster).
//! They drive the domain layer directly, as every API does, and hold the rules that must come
//! from the database itself: one chat per customer, one active thread per chat, gapless
//! per-chat sequence numbers, whole transactions — also when several writers (on PostgreSQL,
//! several nodes) race.

mod common;

use confab_protocol::ErrorType;
use confab_protocol::action::{InitialChat, InitialThread, SortOrder};
use confab_protocol::entity::Event;
use confab_server::clock::{Clock, Micros};
use confab_server::domain::{Domain, Requester};
use confab_server::error::Error;
use confab_server::store::{Page, Store};
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(8 * 3600);
const START: Micros = Micros(1_764_000_000_000_000);

/// A domain on a fresh database of one backend (and what keeps that database alive).
struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Db { url: format!("sqlite://{}", dir.path().join("confab.db").display()), _dir: Some(dir) }
    }

    async fn postgres() -> Self {
        Db { url: common::postgres::database().await, _dir: None }
    }

    /// A node: its own store (connections) on the shared database.
    async fn node(&self, clock: &Clock) -> Arc<Domain> {
        let store = Store::open(&self.url).await.expect("store opens");
        let domain = Domain::new(store, clock.clone(), TTL).await.expect("domain");
        domain.upsert_agent(&confab_server::first_agent(), "agent-token").await.unwrap();
        Arc::new(domain)
    }
}

fn kind(result: Result<impl Sized, Error>) -> Option<ErrorType> {
    result.err().map(|e| e.to_api().kind)
}

fn first_message(text: &str) -> InitialChat {
    InitialChat {
        thread: Some(InitialThread { events: Some(vec![Event::message(text)]), properties: None }),
        ..Default::default()
    }
}

/// A visitor who has logged in once (which creates the customer).
async fn customer(domain: &Domain) -> String {
    let id = domain.grant(None).customer_id;
    domain.login(&id, None).await.unwrap();
    id
}

async fn one_chat_per_customer_even_when_started_at_once(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let starts = (0..8).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let me = me.clone();
        tokio::spawn(async move { node.start_chat(&me, &first_message("hi")).await.map(|_| ()) })
    });
    let results: Vec<_> = join_all(starts).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_eq!(kind(result), Some(ErrorType::ChatLimitReached));
    }
    let (chats, total) = a.list_chats(Requester::Customer(&me), page(10)).await.unwrap();
    assert_eq!((chats.len(), total), (1, 1));
    assert!(chats[0].last_thread_id.is_some(), "the chat has its thread");
}

async fn sequence_numbers_are_gapless_when_nodes_write_at_once(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let (started, _) = a.start_chat(&me, &first_message("first")).await.unwrap();
    let chat_id = started.chat.id.clone();
    const WRITERS: usize = 4;
    const EACH: usize = 15;
    let writers = (0..WRITERS).map(|w| {
        let node = if w % 2 == 0 { a.clone() } else { b.clone() };
        let (me, chat_id) = (me.clone(), chat_id.clone());
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let requester =
                    if i % 3 == 0 { Requester::Agent("alex@confab.example") } else { Requester::Customer(&me) };
                let (event, _) =
                    node.send_event(requester, &chat_id, Event::message(format!("{w}-{i}")), false).await.unwrap();
                seqs.push(event.seq.unwrap());
            }
            seqs
        })
    });
    let mut seqs: Vec<u64> = join_all(writers).await.into_iter().flat_map(Result::unwrap).collect();
    seqs.sort();
    let expected: Vec<u64> = (2..=(WRITERS * EACH + 1) as u64).collect();
    assert_eq!(seqs, expected, "every number once, none skipped (1 is the first message)");
    // And the stored thread agrees, in order.
    let chat = b.get_chat(Requester::Customer(&me), &chat_id, None).await.unwrap();
    let stored: Vec<u64> = chat.thread.unwrap().events.iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(stored, (1..=(WRITERS * EACH + 1) as u64).collect::<Vec<_>>());
}

async fn one_active_thread_when_resumed_at_once(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    let chat_id = started.chat.id;
    a.deactivate_chat(Requester::Agent("alex@confab.example"), &chat_id).await.unwrap();
    let resumes = (0..6).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (me, chat_id) = (me.clone(), chat_id.clone());
        tokio::spawn(async move {
            let initial = InitialChat { id: Some(chat_id), ..first_message("again") };
            node.resume_chat(&me, &initial).await.map(|_| ())
        })
    });
    let results: Vec<_> = join_all(resumes).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_eq!(kind(result), Some(ErrorType::ChatAlreadyActive));
    }
    let (threads, total) = a.list_threads(Requester::Customer(&me), &chat_id, page(10)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(threads.iter().filter(|t| t.active).count(), 1);
}

async fn a_chat_is_never_seen_without_its_thread(db: Db) {
    // Regression: `start_chat` committed the chat, released its lock, then opened the thread,
    // so a reader (or a failure) in between saw a chat without a thread.
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let customers = join_all((0..10).map(|_| customer(&node))).await;
    let writer = {
        let node = node.clone();
        tokio::spawn(async move {
            for me in customers {
                node.start_chat(&me, &first_message("hi")).await.unwrap();
            }
        })
    };
    while !writer.is_finished() {
        let (chats, _) = node.list_chats(Requester::Agent("alex@confab.example"), page(100)).await.unwrap();
        for chat in chats {
            assert!(chat.last_thread_id.is_some(), "chat {} seen without its thread", chat.id);
        }
    }
    writer.await.unwrap();
    // A start that fails part way (an unknown customer breaks a foreign key) leaves nothing.
    assert!(node.start_chat("no-such-customer", &first_message("hi")).await.is_err());
    let (_, total) = node.list_chats(Requester::Agent("alex@confab.example"), page(100)).await.unwrap();
    assert_eq!(total, 10);
}

async fn thread_pages_are_bounded_and_counted_in_events(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let me = customer(&node).await;
    let (started, _) = node.start_chat(&me, &first_message("t1")).await.unwrap();
    let chat_id = started.chat.id;
    let customer_side = Requester::Customer(&me);
    let agent = Requester::Agent("alex@confab.example");
    for t in 1..=5 {
        if t > 1 {
            let initial = InitialChat { id: Some(chat_id.clone()), ..first_message(&format!("t{t}")) };
            node.resume_chat(&me, &initial).await.unwrap();
        }
        node.send_event(customer_side, &chat_id, Event::message("question"), false).await.unwrap();
        let mut note = Event::message("internal note");
        note.visibility = Some("agents".into());
        node.send_event(agent, &chat_id, note, false).await.unwrap();
        node.deactivate_chat(agent, &chat_id).await.unwrap();
    }
    // The customer sees 2 events a thread (the note is the agents'); 3 events take 2 threads.
    let by_events = Page { offset: 0, order: SortOrder::Desc, size: 3, by_events: true };
    let (threads, total) = node.list_threads(customer_side, &chat_id, by_events).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(threads.len(), 2);
    assert!(threads.iter().flat_map(|t| &t.events).all(|e| e.visibility.as_deref() != Some("agents")));
    assert_eq!(threads[0].events.len(), 2);
    // Agents see the notes: 3 events a thread, so one thread reaches 3.
    let (threads, _) = node.list_threads(agent, &chat_id, by_events).await.unwrap();
    assert_eq!((threads.len(), threads[0].events.len()), (1, 3));
    // Newest first; each thread knows its neighbours.
    let (threads, _) = node.list_threads(agent, &chat_id, page(2)).await.unwrap();
    assert!(threads[0].next_thread_id.is_none() && threads[0].previous_thread_id.as_ref() == Some(&threads[1].id));
}

async fn customers_see_only_their_own_chat(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let (me, other) = (customer(&node).await, customer(&node).await);
    let (started, _) = node.start_chat(&me, &first_message("mine")).await.unwrap();
    let chat_id = started.chat.id;
    let theirs = Requester::Customer(&other);
    assert_eq!(kind(node.get_chat(theirs, &chat_id, None).await), Some(ErrorType::NotFound));
    assert_eq!(kind(node.send_event(theirs, &chat_id, Event::message("x"), false).await), Some(ErrorType::NotFound));
    assert_eq!(kind(node.deactivate_chat(theirs, &chat_id).await), Some(ErrorType::NotFound));
    let (chats, total) = node.list_chats(theirs, page(10)).await.unwrap();
    assert_eq!((chats.len(), total), (0, 0));
    let (summaries, _) = node.list_chats(Requester::Customer(&me), page(10)).await.unwrap();
    let last = summaries[0].last_event_per_type.as_ref().unwrap();
    assert_eq!(last["message"].event.text(), Some("mine"));
}

async fn access_tokens_expire_by_the_servers_clock(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let grant = node.grant(None);
    let claims = node.customer_for_token(&grant.access_token).expect("valid now");
    assert_eq!(claims.customer_id, grant.customer_id);
    // Another node of the cluster reads the same signing key.
    assert!(db.node(&clock).await.customer_for_token(&grant.access_token).is_some());
    clock.advance(TTL);
    assert_eq!(node.customer_for_token(&grant.access_token), None, "expired");
    // The visitor's cookies still name them: a new grant keeps the id.
    let cookies = (grant.customer_id.clone(), grant.cookie_secret.clone());
    assert_eq!(node.known_customer(&cookies.0, &cookies.1).await.unwrap().as_deref(), Some(grant.customer_id.as_str()));
    let again = node.grant(Some(cookies));
    assert_eq!(again.customer_id, grant.customer_id);
    assert!(node.known_customer(&grant.customer_id, "wrong secret").await.unwrap().is_none());
    // Granting wrote nothing: the customer exists from their first login.
    assert_eq!(kind(node.customer(&grant.customer_id).await), Some(ErrorType::NotFound));
    node.login(&grant.customer_id, None).await.unwrap();
    let customer = node.customer(&grant.customer_id).await.unwrap();
    assert_eq!(customer.statistics.unwrap().visits_count, 1);
}

async fn a_long_thread_is_read_in_bounded_memory(db: Db) {
    use confab_server::limits::MAX_EVENTS_PER_THREAD_READ;
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let me = customer(&node).await;
    let (started, _) = node.start_chat(&me, &first_message("0")).await.unwrap();
    let chat_id = started.chat.id;
    for i in 1..=MAX_EVENTS_PER_THREAD_READ {
        node.send_event(Requester::Customer(&me), &chat_id, Event::message(i.to_string()), false).await.unwrap();
    }
    // Regression: a thread was read whole, however long.
    let chat = node.get_chat(Requester::Customer(&me), &chat_id, None).await.unwrap();
    let events = chat.thread.unwrap().events;
    assert_eq!(events.len() as i64, MAX_EVENTS_PER_THREAD_READ, "the newest, not all");
    assert_eq!(events.first().unwrap().text(), Some("1"), "the oldest one left out");
    assert_eq!(events.last().unwrap().text(), Some(MAX_EVENTS_PER_THREAD_READ.to_string().as_str()));
}

async fn uploads_are_recorded_and_file_events_naming_one_carry_its_facts(db: Db) {
    use confab_protocol::entity::{EventBody, FileBody};
    use confab_server::store::UploadRow;
    let clock = Clock::manual(START);
    let store = Store::open(&db.url).await.expect("store opens");
    let node = Domain::new(store, clock.clone(), TTL).await.unwrap().with_files_url("https://chat.example/files/");
    let me = customer(&node).await;
    let upload = UploadRow {
        id: "U".repeat(32),
        customer_id: Some(me.clone()),
        agent_id: None,
        name: "dot.png".into(),
        content_type: "image/png".into(),
        size: 10_485_760,
        width: Some(3),
        height: Some(2),
        created_at: START.0,
    };
    node.add_upload(&upload).await.unwrap();
    assert_eq!(node.upload(&upload.id).await.unwrap(), Some(upload.clone()));
    assert_eq!(node.upload("NOSUCHUPLOAD").await.unwrap(), None);
    assert_eq!(kind(node.add_upload(&upload).await), Some(ErrorType::Internal), "ids are unique");
    let url = node.upload_url(&upload.id, "dot.png");
    assert_eq!(url, format!("https://chat.example/files/{}/dot.png", upload.id));

    let (started, _) = node.start_chat(&me, &first_message("hi")).await.unwrap();
    let file = |url: &str| Event {
        body: EventBody::File(FileBody {
            url: url.to_owned(),
            name: Some("claimed.exe".into()),
            content_type: Some("text/html".into()),
            size: Some(1),
            width: None,
            height: None,
            thumbnail_url: None,
            thumbnail2x_url: None,
            alternative_text: None,
        }),
        ..Event::message("")
    };
    let me_ = Requester::Customer(&me);
    let (stored, _) = node.send_event(me_, &started.chat.id, file(&url), false).await.unwrap();
    let EventBody::File(facts) = stored.body else { panic!("a file event") };
    assert_eq!(
        (facts.name.as_deref(), facts.content_type.as_deref(), facts.size, facts.width, facts.height),
        (Some("dot.png"), Some("image/png"), Some(10_485_760), Some(3), Some(2))
    );
    let unknown = format!("https://chat.example/files/{}/x.png", "A".repeat(32));
    assert_eq!(kind(node.send_event(me_, &started.chat.id, file(&unknown), false).await), Some(ErrorType::Validation));
    let (elsewhere, _) =
        node.send_event(me_, &started.chat.id, file("https://cdn.example/x.pdf"), false).await.unwrap();
    let EventBody::File(kept) = elsewhere.body else { panic!("a file event") };
    assert_eq!(kept.name.as_deref(), Some("claimed.exe"), "another server's file is passed on as sent");
}

fn page(size: u32) -> Page {
    Page { offset: 0, order: SortOrder::Desc, size, by_events: false }
}

/// Runs each scenario on both backends, as `sqlite::<name>` and `postgres::<name>`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::Db::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::Db::postgres().await).await
                }
            )*
        }
    };
}

on_both_backends!(
    one_chat_per_customer_even_when_started_at_once,
    sequence_numbers_are_gapless_when_nodes_write_at_once,
    one_active_thread_when_resumed_at_once,
    a_chat_is_never_seen_without_its_thread,
    thread_pages_are_bounded_and_counted_in_events,
    customers_see_only_their_own_chat,
    access_tokens_expire_by_the_servers_clock,
    a_long_thread_is_read_in_bounded_memory,
    uploads_are_recorded_and_file_events_naming_one_carry_its_facts,
);
