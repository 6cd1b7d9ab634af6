//! One conformance suite, run against both storage backends: every scenario below runs once on
//! SQLite (a file, with its writer and readers) and once on PostgreSQL (a throwaway cluster).
//! They drive the domain layer directly, as every API does, and hold the rules that must come
//! from the database itself: one chat per customer, one active thread per chat, gapless
//! per-chat sequence numbers, whole transactions — also when several writers (on PostgreSQL,
//! several nodes) race.

mod common;

use confab_protocol::ErrorType;
use confab_protocol::action::{CustomerPage, CustomerUpdate, InitialChat, InitialThread, Postback, SortOrder};
use confab_protocol::entity::{Event, User};
use confab_server::clock::{Clock, Micros};
use confab_server::domain::{Domain, DomainEvent, Requester};
use confab_server::error::Error;
use confab_server::store::{Page, Store};
use futures::future::join_all;
use serde_json::json;
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
    domain.login(&id, None, None).await.unwrap();
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
    node.login(&grant.customer_id, None, None).await.unwrap();
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

const AGENT: &str = "alex@confab.example";

fn props(value: serde_json::Value) -> confab_protocol::entity::Properties {
    value.as_object().unwrap().clone()
}

fn names(namespace: &str, list: &[&str]) -> confab_protocol::entity::PropertyNames {
    [(namespace.to_owned(), list.iter().map(|n| n.to_string()).collect())].into()
}

/// A rich message with one quick reply button per postback id.
fn quick_replies(postback_ids: &[&str]) -> Event {
    let buttons: Vec<serde_json::Value> = postback_ids
        .iter()
        .map(|id| json!({"type": "message", "text": format!("Reply {id}"), "postback_id": id, "value": id}))
        .collect();
    serde_json::from_value(json!({"type": "rich_message", "template_id": "quick_replies",
        "elements": [{"title": "Pick one", "buttons": buttons}]}))
    .unwrap()
}

async fn properties_merge_delete_and_show_in_every_read(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let mine = Requester::Customer(&me);
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    let (chat_id, thread_id) = (started.chat.id.clone(), started.thread_id.clone());
    let event_id = started.event_ids[0].clone();

    // Chat: merged on update, names removed on delete, pushed to every member.
    a.update_chat_properties(mine, &chat_id, props(json!({"ns": {"a": 1, "b": "two"}}))).await.unwrap();
    let events =
        a.update_chat_properties(mine, &chat_id, props(json!({"ns": {"a": 3}, "other": {"c": true}}))).await.unwrap();
    assert!(
        matches!(&events[..], [DomainEvent::ChatPropertiesUpdated { members, .. }] if members.customers == [me.clone()])
    );
    a.delete_chat_properties(mine, &chat_id, names("other", &["c"])).await.unwrap();
    let chat = b.get_chat(mine, &chat_id, None).await.unwrap();
    assert_eq!(serde_json::Value::Object(chat.properties.unwrap()), json!({"ns": {"a": 3, "b": "two"}}));
    let (summaries, _) = b.list_chats(Requester::Agent(AGENT), page(10)).await.unwrap();
    assert_eq!(summaries[0].properties.as_ref().unwrap()["ns"]["b"], "two");

    // Thread: a rating on the ended thread (customers rate after the chat), then cancelled.
    a.deactivate_chat(mine, &chat_id).await.unwrap();
    let rating = props(json!({"rating": {"score": 1, "comment": "Quick and kind"}}));
    a.update_thread_properties(mine, &chat_id, &thread_id, rating).await.unwrap();
    let (threads, _) = b.list_threads(mine, &chat_id, page(10)).await.unwrap();
    assert_eq!(threads[0].properties.as_ref().unwrap()["rating"], json!({"score": 1, "comment": "Quick and kind"}));
    a.delete_thread_properties(mine, &chat_id, &thread_id, names("rating", &["score", "comment"])).await.unwrap();
    let chat = b.get_chat(mine, &chat_id, Some(&thread_id)).await.unwrap();
    assert_eq!(chat.thread.unwrap().properties, Some(Default::default()), "rating cancelled");
    let bad_score = props(json!({"rating": {"score": 5}}));
    assert_eq!(
        kind(a.update_thread_properties(mine, &chat_id, &thread_id, bad_score).await),
        Some(ErrorType::Validation)
    );

    // Event: stored with the event, shown wherever the event is.
    a.update_event_properties(mine, &chat_id, &thread_id, &event_id, props(json!({"ns": {"liked": true}})))
        .await
        .unwrap();
    let chat = b.get_chat(mine, &chat_id, None).await.unwrap();
    let event = &chat.thread.unwrap().events[0];
    assert_eq!((event.text(), event.properties.as_ref().unwrap()["ns"]["liked"].as_bool()), (Some("hi"), Some(true)));
    a.delete_event_properties(mine, &chat_id, &thread_id, &event_id, names("ns", &["liked"])).await.unwrap();
    let chat = b.get_chat(mine, &chat_id, None).await.unwrap();
    assert_eq!(chat.thread.unwrap().events[0].properties, None);

    // Wrong thread or event for the chat, someone else's chat: not found.
    let other = customer(&a).await;
    let (theirs, _) = a.start_chat(&other, &first_message("theirs")).await.unwrap();
    let p = || props(json!({"ns": {"x": 1}}));
    assert_eq!(
        kind(a.update_thread_properties(mine, &chat_id, &theirs.thread_id, p()).await),
        Some(ErrorType::NotFound)
    );
    let their_event = &theirs.event_ids[0];
    assert_eq!(
        kind(a.update_event_properties(mine, &chat_id, &thread_id, their_event, p()).await),
        Some(ErrorType::NotFound)
    );
    assert_eq!(kind(a.update_chat_properties(mine, &theirs.chat.id, p()).await), Some(ErrorType::NotFound));
    // An internal note is the agents' alone.
    let mut note = Event::message("note");
    note.visibility = Some("agents".into());
    let their_chat = &theirs.chat.id;
    let (note, _) = a.send_event(Requester::Agent(AGENT), their_chat, note, false).await.unwrap();
    let note_id = note.id.unwrap();
    let them = Requester::Customer(&other);
    assert_eq!(
        kind(a.update_event_properties(them, their_chat, &theirs.thread_id, &note_id, p()).await),
        Some(ErrorType::NotFound)
    );
    let events =
        a.update_event_properties(Requester::Agent(AGENT), their_chat, &theirs.thread_id, &note_id, p()).await.unwrap();
    assert!(matches!(&events[..], [DomainEvent::EventPropertiesUpdated { internal: true, .. }]));
}

async fn seen_markers_only_move_forward(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let mine = Requester::Customer(&me);
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    let chat_id = started.chat.id;
    a.send_event(Requester::Agent(AGENT), &chat_id, Event::message("hello"), false).await.unwrap();
    clock.advance(Duration::from_secs(60));

    let later = Micros(START.0 + 30_000_000).rfc3339();
    let earlier = Micros(START.0 + 10_000_000).rfc3339();
    let (standing, events) = a.mark_events_as_seen(mine, &chat_id, &later).await.unwrap();
    assert_eq!(standing, later);
    match &events[..] {
        [DomainEvent::EventsSeen { user_id, seen_up_to, members, .. }] => {
            assert_eq!((user_id, seen_up_to), (&me, &later));
            assert_eq!(members.agents, [AGENT.to_owned()], "the agent hears of it too");
        }
        other => panic!("{other:?}"),
    }
    let (standing, events) = b.mark_events_as_seen(mine, &chat_id, &earlier).await.unwrap();
    assert_eq!((standing.as_str(), events.len()), (later.as_str(), 0), "never back");
    // Ahead of the server's clock counts as now.
    let (standing, _) = b.mark_events_as_seen(mine, &chat_id, "2999-01-01T00:00:00Z").await.unwrap();
    assert_eq!(standing, clock.now().rfc3339());

    let seen = |users: &[User]| {
        users.iter().find_map(|u| match u {
            User::Customer(c) if c.id == me => c.events_seen_up_to.clone(),
            _ => None,
        })
    };
    let chat = b.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap();
    assert_eq!(seen(&chat.users), Some(clock.now().rfc3339()));
    let (summaries, _) = b.list_chats(mine, page(10)).await.unwrap();
    assert_eq!(seen(&summaries[0].users), Some(clock.now().rfc3339()));
    let agent_seen = chat.users.iter().find_map(|u| match u {
        User::Agent(agent) => Some(agent.events_seen_up_to.clone()),
        _ => None,
    });
    assert_eq!(agent_seen, Some(None), "the agent has seen nothing yet");

    assert_eq!(kind(a.mark_events_as_seen(mine, &chat_id, "yesterday").await), Some(ErrorType::Validation));
    let other = customer(&a).await;
    let theirs = Requester::Customer(&other);
    assert_eq!(kind(a.mark_events_as_seen(theirs, &chat_id, &later).await), Some(ErrorType::NotFound));
}

async fn rich_message_postbacks_are_stored_per_user(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let me = customer(&node).await;
    let mine = Requester::Customer(&me);
    let (started, _) = node.start_chat(&me, &first_message("hi")).await.unwrap();
    let (chat_id, thread_id) = (started.chat.id, started.thread_id);
    let (rich, _) =
        node.send_event(Requester::Agent(AGENT), &chat_id, quick_replies(&["yes", "no"]), false).await.unwrap();
    let rich_id = rich.id.unwrap();
    let click = |id: &str, toggled: bool| Postback { id: id.into(), toggled };

    let events =
        node.send_rich_message_postback(mine, &chat_id, &thread_id, &rich_id, click("yes", true)).await.unwrap();
    match &events[..] {
        [DomainEvent::RichMessagePostback { user_id, postback, members, .. }] => {
            assert_eq!((user_id.as_str(), postback.id.as_str()), (me.as_str(), "yes"));
            assert_eq!(members.agents, [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    node.send_rich_message_postback(mine, &chat_id, &thread_id, &rich_id, click("yes", false)).await.unwrap();
    node.send_rich_message_postback(mine, &chat_id, &thread_id, &rich_id, click("no", true)).await.unwrap();
    let stored = node.store.read().await.unwrap().postbacks(&rich_id, &me).await.unwrap();
    assert_eq!(stored, [("no".to_owned(), true), ("yes".to_owned(), false)], "the latest state of each button");

    let hi_id = &started.event_ids[0];
    let not_rich = node.send_rich_message_postback(mine, &chat_id, &thread_id, hi_id, click("yes", true)).await;
    assert_eq!(kind(not_rich), Some(ErrorType::Validation));
    let no_button = node.send_rich_message_postback(mine, &chat_id, &thread_id, &rich_id, click("maybe", true)).await;
    assert_eq!(kind(no_button), Some(ErrorType::Validation));
    let unknown = node.send_rich_message_postback(mine, &chat_id, &thread_id, "NOPE_9", click("yes", true)).await;
    assert_eq!(kind(unknown), Some(ErrorType::NotFound));
    let other = customer(&node).await;
    let theirs = Requester::Customer(&other);
    let foreign = node.send_rich_message_postback(theirs, &chat_id, &thread_id, &rich_id, click("yes", true)).await;
    assert_eq!(kind(foreign), Some(ErrorType::NotFound));
}

async fn sneak_peeks_go_to_agents_of_an_active_chat_and_are_not_stored(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let me = customer(&node).await;
    let (started, _) = node.start_chat(&me, &first_message("hi")).await.unwrap();
    let chat_id = started.chat.id;
    node.send_event(Requester::Agent(AGENT), &chat_id, Event::message("hello"), false).await.unwrap();

    let events = node.send_sneak_peek(&me, &chat_id, "what is the price for your ").await.unwrap();
    match &events[..] {
        [DomainEvent::SneakPeek { thread_id, author_id, text, timestamp, members, .. }] => {
            assert_eq!(thread_id, &started.thread_id);
            assert_eq!((author_id.as_str(), text.as_str()), (me.as_str(), "what is the price for your "));
            assert_eq!(*timestamp as i64, START.unix_seconds());
            assert_eq!(members.agents, [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    let chat = node.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap();
    assert_eq!(chat.thread.unwrap().events.len(), 2, "not an event");
    if let Store::Postgres { .. } = &node.store {
        // Not stored, but announced on the bus, so agents on other nodes see it too.
        let logged = node.store.read().await.unwrap().logged_since(START).await.unwrap();
        assert!(logged.last().is_some_and(|(_, _, payload)| payload.contains("\"sneak_peek\"")), "{logged:?}");
    }

    let long = "x".repeat(confab_server::limits::MAX_SNEAK_PEEK_TEXT_BYTES + 1);
    assert_eq!(kind(node.send_sneak_peek(&me, &chat_id, &long).await), Some(ErrorType::Validation));
    let other = customer(&node).await;
    assert_eq!(kind(node.send_sneak_peek(&other, &chat_id, "x").await), Some(ErrorType::NotFound));
    node.deactivate_chat(Requester::Customer(&me), &chat_id).await.unwrap();
    assert_eq!(kind(node.send_sneak_peek(&me, &chat_id, "x").await), Some(ErrorType::ChatInactive));
}

async fn customer_fields_session_fields_and_page_views(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let id = a.grant(None).customer_id;
    let field = |k: &str, v: &str| -> serde_json::Map<String, serde_json::Value> {
        [(k.to_owned(), json!(v))].into_iter().collect()
    };

    // Login applies the fields and counts the page, through the same code as the actions.
    let update = CustomerUpdate {
        name: Some("Ada".into()),
        session_fields: Some(vec![field("plan", "free")]),
        ..Default::default()
    };
    let page = CustomerPage { url: Some("https://shop.example/".into()), title: Some("Shop".into()) };
    let (customer, _, events) = a.login(&id, Some(&update), Some(&page)).await.unwrap();
    assert_eq!(customer.name.as_deref(), Some("Ada"));
    assert_eq!(customer.session_fields, Some(vec![field("plan", "free")]));
    let stats = customer.statistics.unwrap();
    assert_eq!((stats.visits_count, stats.page_views_count), (1, 1));
    assert!(matches!(&events[..], [DomainEvent::CustomerUpdated { .. }, DomainEvent::CustomerPageUpdated { .. }]));
    // A page that is no web page is not counted, and does not fail the login.
    let local = CustomerPage { url: Some("file:///home/ada/test.html".into()), title: None };
    let (customer, _, _) = b.login(&id, None, Some(&local)).await.unwrap();
    let stats = customer.statistics.unwrap();
    assert_eq!((stats.visits_count, stats.page_views_count), (2, 1));

    // update_customer: fields set, session fields merged by key; pushed to the chat's agents.
    let (started, _) = a.start_chat(&id, &first_message("hi")).await.unwrap();
    a.send_event(Requester::Agent(AGENT), &started.chat.id, Event::message("hello"), false).await.unwrap();
    let update = CustomerUpdate {
        email: Some("ada@example.com".into()),
        avatar: Some("https://cdn.example/ada.png".into()),
        session_fields: Some(vec![field("plan", "pro"), field("cart", "3 items")]),
        ..Default::default()
    };
    let events = b.update_customer(&id, &update).await.unwrap();
    match &events[..] {
        [DomainEvent::CustomerUpdated { customer, members }] => {
            assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
            assert_eq!(customer.statistics, None, "only the fields");
            assert_eq!(members.agents, [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    b.set_customer_session_fields(&id, vec![field("cart", "4 items")]).await.unwrap();
    let customer = a.customer(&id).await.unwrap();
    assert_eq!(
        (customer.name.as_deref(), customer.avatar.as_deref()),
        (Some("Ada"), Some("https://cdn.example/ada.png"))
    );
    assert_eq!(customer.session_fields, Some(vec![field("plan", "pro"), field("cart", "4 items")]));

    // Limits and bad input.
    let many: Vec<_> = (0..confab_server::limits::MAX_SESSION_FIELDS).map(|i| field(&format!("k{i}"), "v")).collect();
    assert_eq!(
        kind(a.set_customer_session_fields(&id, many).await),
        Some(ErrorType::CustomerSessionFieldsLimitReached)
    );
    assert_eq!(a.customer(&id).await.unwrap().session_fields.unwrap().len(), 2, "nothing kept of a refused update");
    for bad in [
        CustomerUpdate { email: Some("not an email".into()), ..Default::default() },
        CustomerUpdate { avatar: Some("http://cdn.example/ada.png".into()), ..Default::default() },
        CustomerUpdate { avatar: Some("javascript:alert(1)".into()), ..Default::default() },
    ] {
        assert_eq!(kind(a.update_customer(&id, &bad).await), Some(ErrorType::Validation), "{bad:?}");
    }
    assert_eq!(
        kind(a.login(&id, Some(&CustomerUpdate { email: Some("x".into()), ..Default::default() }), None).await),
        Some(ErrorType::Validation)
    );

    // update_customer_page: a page view, remembered, pushed to the chat's agents only.
    let events = a
        .update_customer_page(
            &id,
            &CustomerPage { url: Some("https://shop.example/cart".into()), title: Some("Cart".into()) },
        )
        .await
        .unwrap();
    match &events[..] {
        [DomainEvent::CustomerPageUpdated { url, opened_at, members, .. }] => {
            assert_eq!((url.as_str(), opened_at.as_str()), ("https://shop.example/cart", START.rfc3339().as_str()));
            assert!(members.customers.is_empty() && members.agents == [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    for bad in ["javascript:alert(1)", "ftp://x.example/", ""] {
        let page = CustomerPage { url: Some(bad.into()), title: None };
        assert_eq!(kind(a.update_customer_page(&id, &page).await), Some(ErrorType::Validation), "{bad}");
    }
    let stats = b.customer(&id).await.unwrap().statistics.unwrap();
    assert_eq!((stats.visits_count, stats.page_views_count, stats.chats_count, stats.threads_count), (2, 2, 1, 1));
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

fn shown(events: &[DomainEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::GreetingShown { greeting, .. } => Some(greeting.unique_id.as_str()),
            _ => None,
        })
        .collect()
}

async fn greetings_are_shown_answered_and_counted(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    let other = customer(&a).await;
    const AGENT: &str = "alex@confab.example";
    let (first, events) = a.send_greeting(AGENT, &me, "Hello there", None).await.unwrap();
    assert_eq!(shown(&events), [first.unique_id.as_str()]);
    assert!(first.displayed_first_time);
    assert_eq!(first.subtype.as_deref(), Some("greeting"));
    assert_eq!(b.current_greeting(&me).await.unwrap().map(|g| g.unique_id), Some(first.unique_id.clone()));
    assert_eq!(kind(a.send_greeting(AGENT, "nobody", "hi", None).await), Some(ErrorType::NotFound));
    assert_eq!(kind(a.send_greeting(AGENT, &me, "", None).await), Some(ErrorType::Validation));

    // A newer greeting replaces the shown one.
    let (second, events) = b.send_greeting(AGENT, &me, "Still there?", Some("announcement")).await.unwrap();
    assert!(matches!(&events[0], DomainEvent::GreetingCanceled { unique_id, .. } if *unique_id == first.unique_id));
    assert_eq!(a.greeting_counts(&me).await.unwrap(), (2, 0));

    // Someone else's, a wrong template, a replaced one: not answerable.
    let id = second.unique_id.as_str();
    assert_eq!(kind(a.accept_greeting(&other, 0, id).await), Some(ErrorType::GreetingNotFound));
    assert_eq!(kind(a.cancel_greeting(&other, id).await), Some(ErrorType::GreetingNotFound));
    assert_eq!(kind(a.accept_greeting(&me, 7, id).await), Some(ErrorType::GreetingNotFound));
    assert_eq!(kind(a.accept_greeting(&me, 0, "NOPE").await), Some(ErrorType::GreetingNotFound));
    assert_eq!(kind(a.accept_greeting(&me, 0, &first.unique_id).await), Some(ErrorType::Validation));

    // Accepted once, from either node; it starts the chat with the greeting's agent.
    let (x, y) = (a.clone(), b.clone());
    let (m1, m2) = (me.clone(), me.clone());
    let (i1, i2) = (id.to_owned(), id.to_owned());
    let accepts = [
        tokio::spawn(async move { x.accept_greeting(&m1, 0, &i1).await }),
        tokio::spawn(async move { y.accept_greeting(&m2, 0, &i2).await }),
    ];
    let results: Vec<_> = join_all(accepts).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let events = results.into_iter().find_map(Result::ok).unwrap();
    assert!(matches!(&events[0], DomainEvent::GreetingAccepted { unique_id, .. } if unique_id == id));
    let DomainEvent::ChatStarted { chat, members, .. } = &events[1] else { panic!("{events:?}") };
    assert_eq!(members.agents, [AGENT]);
    assert_eq!(chat.thread.as_ref().unwrap().events[0].text(), Some("Still there?"));
    assert_eq!(a.greeting_counts(&me).await.unwrap(), (2, 1));
    assert_eq!(a.greeting_counts(&other).await.unwrap(), (0, 0));
    assert_eq!(a.current_greeting(&me).await.unwrap(), None);
    let stats = a.customer(&me).await.unwrap().statistics.unwrap();
    assert_eq!((stats.greetings_shown_count, stats.greetings_accepted_count), (2, 1));
    assert_eq!(kind(b.cancel_greeting(&me, id).await), Some(ErrorType::Validation), "already accepted");
}

async fn a_rule_greets_once_per_period_even_from_two_nodes(db: Db) {
    use confab_server::domain::GreetingRule;
    use confab_server::limits::GREETING_RULE_PERIOD;
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let rule = |url: &str, delay_secs| GreetingRule {
        text: format!("About {url}?"),
        agent_id: "alex@confab.example".into(),
        url_contains: url.into(),
        delay_secs,
        subtype: None,
    };
    a.set_greeting_rules(&[rule("/pricing", 0), rule("/docs", 30)]).await.unwrap();
    let bad = GreetingRule { agent_id: "nobody@example".into(), ..rule("/x", 0) };
    assert_eq!(kind(a.set_greeting_rules(&[bad]).await), Some(ErrorType::NotFound));
    let me = customer(&a).await;

    let nothing = a.greet_on_page(&me, Some("https://shop.example/about")).await.unwrap();
    assert!(nothing.events.is_empty() && nothing.current.is_none() && nothing.next_due.is_none());

    let visits = (0..6).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let me = me.clone();
        tokio::spawn(async move { node.greet_on_page(&me, Some("https://shop.example/pricing")).await.unwrap() })
    });
    let visits: Vec<_> = join_all(visits).await.into_iter().map(Result::unwrap).collect();
    let greeted: Vec<_> = visits.iter().flat_map(|v| shown(&v.events)).collect();
    assert_eq!(greeted.len(), 1, "once per rule, customer and period: {greeted:?}");
    assert!(visits.iter().all(|v| v.current.as_ref().map(|g| g.id) == Some(1)));

    // A delayed rule waits for the server's clock.
    let docs = b.greet_on_page(&me, Some("https://shop.example/docs/start")).await.unwrap();
    assert!(docs.events.is_empty());
    assert_eq!(docs.next_due, Some(START.plus(Duration::from_secs(30))));
    clock.advance(Duration::from_secs(29));
    assert!(a.show_due_greetings(&me).await.unwrap().0.is_empty());
    clock.advance(Duration::from_secs(1));
    let (events, next_due) = a.show_due_greetings(&me).await.unwrap();
    assert_eq!(next_due, None);
    assert!(matches!(&events[0], DomainEvent::GreetingCanceled { .. }), "it replaces the pricing greeting");
    let DomainEvent::GreetingShown { greeting, .. } = &events[1] else { panic!("{events:?}") };
    assert_eq!((greeting.id, greeting.event.text()), (2, Some("About /docs?")));
    assert!(b.show_due_greetings(&me).await.unwrap().0.is_empty(), "shown once");

    clock.advance(GREETING_RULE_PERIOD);
    let next = b.greet_on_page(&me, Some("https://shop.example/pricing")).await.unwrap();
    assert_eq!(shown(&next.events).len(), 1, "a new period");
    assert_eq!(a.greeting_counts(&me).await.unwrap(), (3, 0));
}

async fn bans_hold_until_they_end_by_the_servers_clock(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let me = customer(&a).await;
    assert_eq!(kind(a.ban_customer("nobody", 1).await), Some(ErrorType::NotFound));
    assert_eq!(kind(a.ban_customer(&me, 0).await), Some(ErrorType::Validation));
    let events = a.ban_customer(&me, 2).await.unwrap();
    assert!(
        matches!(&events[..], [DomainEvent::CustomerDisconnected { customer_id, reason }] if *customer_id == me && reason == "customer_banned")
    );
    assert_eq!(b.ban_of(&me).await.unwrap(), Some(START.plus(Duration::from_secs(2 * 24 * 3600))));
    assert_eq!(kind(b.login(&me, None, None).await), Some(ErrorType::CustomerBanned));
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(b.ban_of(&me).await.unwrap(), None);
    b.login(&me, None, None).await.unwrap();
    let events = b.logout_customer(&me).await.unwrap();
    assert!(
        matches!(&events[..], [DomainEvent::CustomerDisconnected { reason, .. }] if reason == "logged_out_remotely")
    );
}

async fn agents_join_leave_and_take_over_chats(db: Db) {
    use confab_server::domain::chat_users::Target;
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    let sam = confab_server::store::AgentSeed {
        id: "sam@confab.example".into(),
        name: "Sam Lee".into(),
        job_title: "Support Agent".into(),
    };
    a.upsert_agent(&sam, "sam-token").await.unwrap();
    let me = customer(&a).await;
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    let chat_id = started.chat.id;
    a.send_event(Requester::Agent(AGENT), &chat_id, Event::message("hello"), false).await.unwrap();
    let agents = |chat: confab_protocol::entity::Chat| -> Vec<String> {
        chat.users.iter().filter(|u| !matches!(u, User::Customer(_))).map(|u| u.id().to_owned()).collect()
    };

    // Two nodes add Sam at once: one adds, the other is told Sam is in already.
    let (x, y) = tokio::join!(
        a.add_user_to_chat(AGENT, &chat_id, &sam.id, "agent", "all", false),
        b.add_user_to_chat(AGENT, &chat_id, &sam.id, "agent", "all", false),
    );
    assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(), 1, "{x:?} {y:?}");
    let events = x.or(y).unwrap();
    match &events[..] {
        [DomainEvent::UserAdded { user, members, agents_only: false, .. }] => {
            assert_eq!(user.id(), sam.id);
            assert_eq!(members.customers, [me.as_str()]);
            assert_eq!(members.agents, [AGENT.to_owned(), sam.id.clone()]);
        }
        other => panic!("{other:?}"),
    }

    let events = b.remove_user_from_chat(AGENT, &chat_id, &sam.id, "agent", false).await.unwrap();
    match &events[..] {
        [DomainEvent::UserRemoved { user_id, reason, members, .. }] => {
            assert_eq!((user_id.as_str(), reason.as_str()), (sam.id.as_str(), "manual"));
            assert_eq!(members.agents, [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(agents(a.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap()), [AGENT]);
    assert_eq!(
        kind(a.remove_user_from_chat(AGENT, &chat_id, &sam.id, "agent", false).await),
        Some(ErrorType::NotFound)
    );

    let to_sam = Some(Target::Agents(vec![sam.id.clone()]));
    let events = a.transfer_chat(AGENT, &chat_id, to_sam.clone(), false).await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            DomainEvent::ChatTransferred { .. } => "transferred",
            DomainEvent::UserAdded { .. } => "added",
            DomainEvent::UserRemoved { .. } => "removed",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["transferred", "added", "removed"]);
    assert_eq!(agents(b.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap()), [sam.id.as_str()]);
    assert_eq!(kind(a.transfer_chat(AGENT, &chat_id, to_sam.clone(), false).await), Some(ErrorType::MissingAccess));
    assert_eq!(
        kind(a.transfer_chat(AGENT, &chat_id, Some(Target::Group(vec![5])), true).await),
        Some(ErrorType::GroupNotFound)
    );
    a.transfer_chat(AGENT, &chat_id, None, true).await.unwrap();
    assert!(agents(a.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap()).is_empty());

    if let Store::Postgres { .. } = &a.store {
        // A multicast is not stored, but announced on the bus for the other nodes.
        let recipients = confab_protocol::agent::MulticastRecipients {
            customers: Some(confab_protocol::agent::MulticastCustomers { all: None, ids: Some(vec![me.clone()]) }),
            agents: None,
        };
        a.multicast(AGENT, &recipients, json!({"n": 1}), None).await.unwrap();
        let logged = a.store.read().await.unwrap().logged_since(START).await.unwrap();
        assert!(logged.last().is_some_and(|(_, _, payload)| payload.contains("\"multicast\"")), "{logged:?}");
    }

    a.deactivate_chat(Requester::Customer(&me), &chat_id).await.unwrap();
    assert_eq!(
        kind(a.add_user_to_chat(AGENT, &chat_id, &sam.id, "agent", "all", true).await),
        Some(ErrorType::ChatInactive)
    );
    assert_eq!(kind(a.transfer_chat(AGENT, &chat_id, to_sam, true).await), Some(ErrorType::ChatInactive));
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
    properties_merge_delete_and_show_in_every_read,
    seen_markers_only_move_forward,
    rich_message_postbacks_are_stored_per_user,
    sneak_peeks_go_to_agents_of_an_active_chat_and_are_not_stored,
    customer_fields_session_fields_and_page_views,
    uploads_are_recorded_and_file_events_naming_one_carry_its_facts,
    greetings_are_shown_answered_and_counted,
    a_rule_greets_once_per_period_even_from_two_nodes,
    bans_hold_until_they_end_by_the_servers_clock,
    agents_join_leave_and_take_over_chats,
);
