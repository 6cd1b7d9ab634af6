//! One conformance suite, run against both storage backends: every scenario below runs once on
//! SQLite (a file, with its writer and readers) and once on PostgreSQL (a throwaway cluster).
//! They drive the domain layer directly, as every API does, and hold the rules that must come
//! from the database itself: one chat per customer, one active thread per chat, gapless
//! per-chat sequence numbers, whole transactions — also when several writers (on PostgreSQL,
//! several nodes) race.

mod common;

use confab_protocol::ErrorType;
use confab_protocol::action::{
    CustomerPage, CustomerUpdate, GroupStatus, InitialChat, InitialThread, Postback, SortOrder,
};
use confab_protocol::agent::{AgentInitialChat, RoutingStatus, UserRef};
use confab_protocol::entity::{Event, User};
use confab_server::clock::{Clock, Micros};
use confab_server::domain::{
    ArchiveQuery, Domain, DomainEvent, NewWebhook, Requester, TicketError, TicketInput, parse_groups_file,
};
use confab_server::error::Error;
use confab_server::limits::DEFAULT_MAX_CHATS_PER_AGENT;
const MAX_CHATS_PER_AGENT: i64 = DEFAULT_MAX_CHATS_PER_AGENT as i64;
use confab_server::store::{ChatFilters, Page, Store};
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
    let (chats, total) = a.list_chats(Requester::Customer(&me), page(10), &Default::default()).await.unwrap();
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
    a.deactivate_chat(Requester::Agent("alex@confab.example"), &chat_id, true).await.unwrap();
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
        let (chats, _) =
            node.list_chats(Requester::Agent("alex@confab.example"), page(100), &Default::default()).await.unwrap();
        for chat in chats {
            assert!(chat.last_thread_id.is_some(), "chat {} seen without its thread", chat.id);
        }
    }
    writer.await.unwrap();
    // A start that fails part way (an unknown customer breaks a foreign key) leaves nothing.
    assert!(node.start_chat("no-such-customer", &first_message("hi")).await.is_err());
    let (_, total) =
        node.list_chats(Requester::Agent("alex@confab.example"), page(100), &Default::default()).await.unwrap();
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
        node.deactivate_chat(agent, &chat_id, false).await.unwrap();
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
    assert_eq!(kind(node.deactivate_chat(theirs, &chat_id, false).await), Some(ErrorType::NotFound));
    let (chats, total) = node.list_chats(theirs, page(10), &Default::default()).await.unwrap();
    assert_eq!((chats.len(), total), (0, 0));
    let (summaries, _) = node.list_chats(Requester::Customer(&me), page(10), &Default::default()).await.unwrap();
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
    let (summaries, _) = b.list_chats(Requester::Agent(AGENT), page(10), &Default::default()).await.unwrap();
    assert_eq!(summaries[0].properties.as_ref().unwrap()["ns"]["b"], "two");

    // Thread: a rating on the ended thread (customers rate after the chat), then cancelled.
    a.deactivate_chat(mine, &chat_id, false).await.unwrap();
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
    let (summaries, _) = b.list_chats(mine, page(10), &Default::default()).await.unwrap();
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
    node.deactivate_chat(Requester::Customer(&me), &chat_id, false).await.unwrap();
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

    // update_customer_page: a page view, remembered, pushed to the chat's agents (and, by the
    // fan-out, to the customer's sockets).
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
    use confab_server::domain::chat_users::{Target, TransferOptions};
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    let ignoring_presence = TransferOptions { ignore_requester_presence: true, ..TransferOptions::default() };
    let me = customer(&a).await;
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    let chat_id = started.chat.id;
    a.send_event(Requester::Agent(AGENT), &chat_id, Event::message("hello"), false).await.unwrap();
    let agents = |chat: confab_protocol::entity::Chat| -> Vec<String> {
        chat.users.iter().filter(|u| !matches!(u, User::Customer(_))).map(|u| u.id().to_owned()).collect()
    };

    // Two nodes add Sam at once: one adds, the other is told Sam is in already.
    let (x, y) = tokio::join!(
        a.add_user_to_chat(AGENT, &chat_id, common::SAM, "agent", "all", false),
        b.add_user_to_chat(AGENT, &chat_id, common::SAM, "agent", "all", false),
    );
    assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(), 1, "{x:?} {y:?}");
    let events = x.or(y).unwrap();
    match &events[..] {
        [DomainEvent::UserAdded { user, members, agents_only: false, .. }] => {
            assert_eq!(user.id(), common::SAM);
            assert_eq!(members.customers, [me.as_str()]);
            assert_eq!(members.agents, [AGENT.to_owned(), common::SAM.to_owned()]);
        }
        other => panic!("{other:?}"),
    }

    let events = b.remove_user_from_chat(AGENT, &chat_id, common::SAM, "agent", false).await.unwrap();
    match &events[..] {
        [DomainEvent::UserRemoved { user_id, reason, members, .. }] => {
            assert_eq!((user_id.as_str(), reason.as_str()), (common::SAM, "manual"));
            assert_eq!(members.agents, [AGENT.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(agents(a.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap()), [AGENT]);
    assert_eq!(
        kind(a.remove_user_from_chat(AGENT, &chat_id, common::SAM, "agent", false).await),
        Some(ErrorType::NotFound)
    );

    let to_sam = Some(Target::Agents(vec![common::SAM.to_owned()]));
    // Sam is offline: no transfer to him until he is online (accepting chats or not).
    assert_eq!(
        kind(a.transfer_chat(AGENT, &chat_id, to_sam.clone(), TransferOptions::default()).await),
        Some(ErrorType::AgentOffline)
    );
    accepting(&a, common::SAM, RoutingStatus::NotAcceptingChats).await;
    let events = a.transfer_chat(AGENT, &chat_id, to_sam.clone(), TransferOptions::default()).await.unwrap();
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
    assert_eq!(agents(b.get_chat(Requester::Agent(AGENT), &chat_id, None).await.unwrap()), [common::SAM]);
    assert_eq!(
        kind(a.transfer_chat(AGENT, &chat_id, to_sam.clone(), TransferOptions::default()).await),
        Some(ErrorType::MissingAccess)
    );
    assert_eq!(
        kind(a.transfer_chat(AGENT, &chat_id, Some(Target::Group(vec![5])), ignoring_presence).await),
        Some(ErrorType::GroupNotFound)
    );
    // Within its group, where nobody accepts chats: refused, unless the chat may wait there.
    assert_eq!(kind(a.transfer_chat(AGENT, &chat_id, None, ignoring_presence).await), Some(ErrorType::GroupOffline));
    let anyway = TransferOptions { ignore_agents_availability: true, ..ignoring_presence };
    a.transfer_chat(AGENT, &chat_id, None, anyway).await.unwrap();
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

    a.deactivate_chat(Requester::Customer(&me), &chat_id, false).await.unwrap();
    assert_eq!(
        kind(a.add_user_to_chat(AGENT, &chat_id, common::SAM, "agent", "all", true).await),
        Some(ErrorType::ChatInactive)
    );
    assert_eq!(kind(a.transfer_chat(AGENT, &chat_id, to_sam, ignoring_presence).await), Some(ErrorType::ChatInactive));
}

// ---- Routing: groups, routing status, availability, queue, forms, tickets ----

const ALEX: &str = "alex@confab.example";
const SAM: &str = common::SAM;

async fn accepting(node: &Domain, agent: &str, status: RoutingStatus) -> Vec<DomainEvent> {
    node.set_routing_status(Requester::Agent(agent), None, status).await.unwrap()
}

/// Whether the chat, as started, went to `agent`.
fn assigned_to(started: &confab_server::domain::Started, agent: &str) -> bool {
    started.chat.users.iter().any(|u| u.id() == agent)
}

async fn two_nodes_race_for_the_last_free_agent_slot(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    accepting(&a, ALEX, RoutingStatus::AcceptingChats).await;
    // Every slot but one taken.
    for _ in 0..MAX_CHATS_PER_AGENT - 1 {
        let me = customer(&a).await;
        let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
        assert!(assigned_to(&started, ALEX) && started.chat.thread.as_ref().unwrap().queue.is_none());
    }
    assert_eq!(a.group_statuses(Some(&[0])).await.unwrap()[&0], GroupStatus::Online);
    const RACERS: usize = 8;
    let customers = join_all((0..RACERS).map(|_| customer(&a))).await;
    let starts = customers.into_iter().enumerate().map(|(i, me)| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { node.start_chat(&me, &first_message("me first")).await.unwrap() })
    });
    let started: Vec<_> = join_all(starts).await.into_iter().map(|r| r.unwrap().0).collect();
    let winners: Vec<_> = started.iter().filter(|s| assigned_to(s, ALEX)).collect();
    assert_eq!(winners.len(), 1, "exactly one chat takes the last slot");
    assert!(winners[0].chat.thread.as_ref().unwrap().queue.is_none());
    // The others wait, each at its own place, 1..=7, also as get_chat reads them.
    let mut positions: Vec<u32> = Vec::new();
    for s in started.iter().filter(|s| !assigned_to(s, ALEX)) {
        let queue = s.chat.thread.as_ref().unwrap().queue.clone().expect("queued");
        assert_eq!(queue.wait_time, queue.position * confab_server::limits::QUEUE_WAIT_PER_POSITION_SECS);
        let customer_id = s.chat.users[0].id().to_owned();
        let read = b.get_chat(Requester::Customer(&customer_id), &s.chat.id, None).await.unwrap();
        assert_eq!(read.thread.unwrap().queue.map(|q| q.position), Some(queue.position));
        positions.push(queue.position);
    }
    positions.sort();
    assert_eq!(positions, (1..RACERS as u32).collect::<Vec<_>>(), "no position given twice");
    assert_eq!(a.group_statuses(Some(&[0])).await.unwrap()[&0], GroupStatus::OnlineForQueue);
}

async fn a_freed_slot_takes_the_oldest_queued_chat_and_the_queue_moves_up(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    accepting(&a, ALEX, RoutingStatus::AcceptingChats).await;
    let mut served = Vec::new();
    for _ in 0..MAX_CHATS_PER_AGENT {
        let me = customer(&a).await;
        served.push(a.start_chat(&me, &first_message("hi")).await.unwrap().0.chat.id);
    }
    let mut queued = Vec::new();
    for i in 0..3 {
        clock.advance(Duration::from_secs(1));
        let me = customer(&a).await;
        let (started, events) = b.start_chat(&me, &first_message("waiting")).await.unwrap();
        assert_eq!(started.chat.thread.as_ref().unwrap().queue.as_ref().unwrap().position, i + 1);
        // The sixth chat already filled the agent (online_for_queue): queuing changes no status.
        assert!(!events.iter().any(|e| matches!(e, DomainEvent::GroupStatusChanged { .. })), "{events:?}");
        queued.push((me, started.chat.id));
    }
    // The agent closes a chat: the oldest waiting chat is theirs, the others move up.
    let events = a.deactivate_chat(Requester::Agent(ALEX), &served[0], false).await.unwrap();
    let added: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::UserAdded { chat_id, user, members, .. } => {
                Some((chat_id.clone(), user.id().to_owned(), members.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(added.len(), 1, "{events:?}");
    assert_eq!((added[0].0.as_str(), added[0].1.as_str()), (queued[0].1.as_str(), ALEX));
    assert_eq!(added[0].2.customers, [queued[0].0.clone()]);
    let moved: Vec<(String, u32)> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::QueuePositionUpdated { chat_id, queue, members, .. } => {
                assert_eq!(members.customers.len(), 1);
                Some((chat_id.clone(), queue.position))
            }
            _ => None,
        })
        .collect();
    assert_eq!(moved, [(queued[1].1.clone(), 1), (queued[2].1.clone(), 2)]);
    let chat = b.get_chat(Requester::Customer(&queued[0].0), &queued[0].1, None).await.unwrap();
    assert!(chat.thread.unwrap().queue.is_none() && chat.users.iter().any(|u| u.id() == ALEX));
    // A waiting customer who leaves frees their place too.
    let events = b.deactivate_chat(Requester::Customer(&queued[1].0), &queued[1].1, false).await.unwrap();
    let moved: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::QueuePositionUpdated { chat_id, queue, .. } => Some((chat_id.clone(), queue.position)),
            _ => None,
        })
        .collect();
    assert_eq!(moved, [(queued[2].1.clone(), 1)]);
}

async fn the_least_loaded_agent_takes_the_chat_and_statuses_follow_routing(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    common::add_sam(&node).await;
    assert_eq!(
        node.routing_statuses(None).await.unwrap(),
        [(ALEX.to_owned(), RoutingStatus::Offline), (common::SAM.to_owned(), RoutingStatus::Offline)],
        "offline until set"
    );
    assert_eq!(node.group_statuses(None).await.unwrap()[&0], GroupStatus::Offline);
    assert_eq!(kind(node.predicted_agent(0).await), Some(ErrorType::GroupOffline));
    let events = accepting(&node, ALEX, RoutingStatus::AcceptingChats).await;
    let set = DomainEvent::RoutingStatusSet { agent_id: ALEX.to_owned(), status: RoutingStatus::AcceptingChats };
    assert_eq!(events, [set, DomainEvent::GroupStatusChanged { group_id: 0, status: GroupStatus::Online }]);
    assert!(accepting(&node, ALEX, RoutingStatus::AcceptingChats).await.is_empty(), "no change, no event");
    accepting(&node, common::SAM, RoutingStatus::AcceptingChats).await;
    let mut counts = std::collections::HashMap::new();
    for _ in 0..4 {
        let predicted = node.predicted_agent(0).await.unwrap();
        assert!(!predicted.queue);
        let me = customer(&node).await;
        let (started, _) = node.start_chat(&me, &first_message("hi")).await.unwrap();
        assert!(assigned_to(&started, &predicted.agent.id), "the predicted agent takes it");
        *counts.entry(predicted.agent.id).or_insert(0) += 1;
    }
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [2, 2], "{counts:?}");
    // Sam stops accepting: Alex alone; when Alex leaves too, the group is offline.
    let sam_stops =
        DomainEvent::RoutingStatusSet { agent_id: common::SAM.to_owned(), status: RoutingStatus::NotAcceptingChats };
    assert_eq!(accepting(&node, common::SAM, RoutingStatus::NotAcceptingChats).await, [sam_stops], "no other change");
    let events = accepting(&node, ALEX, RoutingStatus::Offline).await;
    let alex_leaves = DomainEvent::RoutingStatusSet { agent_id: ALEX.to_owned(), status: RoutingStatus::Offline };
    assert_eq!(events, [alex_leaves, DomainEvent::GroupStatusChanged { group_id: 0, status: GroupStatus::Offline }]);
    assert_eq!(
        node.routing_statuses(Some(&[0])).await.unwrap(),
        [(ALEX.to_owned(), RoutingStatus::Offline), (common::SAM.to_owned(), RoutingStatus::NotAcceptingChats)]
    );
    assert_eq!(kind(node.routing_statuses(Some(&[9])).await), Some(ErrorType::GroupNotFound));
    assert_eq!(
        kind(node.set_routing_status(Requester::Agent(ALEX), Some("nobody@x"), RoutingStatus::Offline).await),
        Some(ErrorType::NotFound)
    );
}

async fn offline_groups_take_messages_or_refuse_as_configured(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    // Nobody accepts chats: the chat starts, with neither an agent nor a place in the queue.
    let me = customer(&node).await;
    let (started, events) = node.start_chat(&me, &first_message("anyone?")).await.unwrap();
    assert_eq!(started.chat.users.len(), 1);
    assert!(started.chat.thread.as_ref().unwrap().queue.is_none());
    assert_eq!(events.len(), 1);
    // A group that takes no offline chats refuses; an unknown one is not found.
    let groups = parse_groups_file(r#"[{"id": 2, "name": "Sales", "agents": [], "offline_chats": false}]"#).unwrap();
    node.apply_groups(&groups).await.unwrap();
    let in_group = |id: u32| InitialChat { access: Some(confab_protocol::Access::groups([id])), ..first_message("hi") };
    let other = customer(&node).await;
    assert_eq!(kind(node.start_chat(&other, &in_group(2)).await), Some(ErrorType::GroupsOffline));
    assert_eq!(kind(node.start_chat(&other, &in_group(7)).await), Some(ErrorType::GroupNotFound));
    assert_eq!(kind(node.start_chat_in(&other, 7, &first_message("hi")).await), Some(ErrorType::GroupNotFound));
    // Once an agent of that group accepts chats, the chat goes to them.
    let groups = parse_groups_file(&format!(r#"[{{"id": 2, "name": "Sales", "agents": ["{ALEX}"]}}]"#)).unwrap();
    node.apply_groups(&groups).await.unwrap();
    let events = accepting(&node, ALEX, RoutingStatus::AcceptingChats).await;
    assert_eq!(events.len(), 3, "the status, and groups 0 and 2 come online: {events:?}");
    let (started, _) = node.start_chat(&other, &in_group(2)).await.unwrap();
    assert!(assigned_to(&started, ALEX));
    assert_eq!(started.chat.access.as_ref().and_then(|a| a.group_ids.clone()), Some(vec![2]));
    // An unknown agent in the groups file changes nothing.
    let bad = parse_groups_file(r#"[{"id": 3, "name": "X", "agents": ["ghost@x"]}]"#).unwrap();
    assert_eq!(kind(node.apply_groups(&bad).await), Some(ErrorType::Validation));
    assert_eq!(kind(node.check_groups(&[3]).await), Some(ErrorType::GroupNotFound));
}

async fn groups_have_forms_and_tickets_are_stored(db: Db) {
    use confab_protocol::action::FormType;
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    // Group 0's defaults.
    assert!(!node.get_form(0, FormType::Prechat).await.unwrap().enabled);
    let postchat = node.get_form(0, FormType::Postchat).await.unwrap().form.unwrap();
    assert_eq!(postchat.fields[0].kind, "rating");
    assert!(postchat.fields[0].comment_label.is_some());
    let ticket = node.get_form(0, FormType::Ticket).await.unwrap().form.unwrap();
    let kinds: Vec<&str> = ticket.fields.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["header", "name", "email", "textarea"]);
    assert_eq!(kind(node.get_form(5, FormType::Ticket).await), Some(ErrorType::GroupNotFound));
    // The groups file: a form given replaces the default, `null` turns one off, others stay.
    let groups = parse_groups_file(
        r#"[{"id": 0, "name": "Everyone", "forms": {"prechat": {"id": "pre", "fields": [{"id": "0", "type": "name", "label": "Name"}]}, "postchat": null}},
            {"id": 4, "name": "Billing"}]"#,
    )
    .unwrap();
    node.apply_groups(&groups).await.unwrap();
    assert_eq!(node.get_form(0, FormType::Prechat).await.unwrap().form.unwrap().id, "pre");
    assert!(!node.get_form(0, FormType::Postchat).await.unwrap().enabled);
    assert!(node.get_form(0, FormType::Ticket).await.unwrap().enabled);
    assert!(!node.get_form(4, FormType::Ticket).await.unwrap().enabled);
    assert_eq!(node.group_statuses(None).await.unwrap().keys().copied().collect::<Vec<_>>(), [0, 4]);
    assert!(parse_groups_file(r#"[{"id": 1, "name": "x", "colour": "red"}]"#).is_err(), "typos are caught");

    // Tickets: from SDK v2's body, or from the filled form itself.
    let request: TicketInput = serde_json::from_value(serde_json::json!({
        "licence_id": 1, "visitor_id": "v-1", "requester": {"name": "Ann", "mail": "ann@example.com"},
        "ticket_message": "Your message: Where is my order?", "offline_message": "…", "subject": "Order", "group": 4
    }))
    .unwrap();
    let id = node.create_ticket(&request).await.unwrap();
    assert_eq!(
        node.ticket(&id).await.unwrap(),
        Some((4, "ann@example.com".into(), "Your message: Where is my order?".into()))
    );
    let form: TicketInput = serde_json::from_value(
        serde_json::json!({"filled_form": {"type": "filled_form", "form_id": "ticket", "fields": [
        {"id": "1", "type": "name", "label": "Your name:", "answer": "Bo"},
        {"id": "2", "type": "email", "label": "Your email:", "answer": "bo@example.com"},
        {"id": "3", "type": "textarea", "label": "Your message:", "answer": "Call me"}]}}),
    )
    .unwrap();
    let id = node.create_ticket(&form).await.unwrap();
    assert_eq!(node.ticket(&id).await.unwrap(), Some((0, "bo@example.com".into(), "Your message: Call me".into())));
    let refused = |body: serde_json::Value| {
        let node = node.clone();
        async move {
            let request: TicketInput = serde_json::from_value(body).unwrap();
            match node.create_ticket(&request).await {
                Err(TicketError::Invalid { what, .. }) => what,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(refused(serde_json::json!({"ticket_message": "hi"})).await, "incorrect requester structure");
    assert_eq!(
        refused(serde_json::json!({"ticket_message": "hi", "requester": {"mail": "nope"}})).await,
        "incorrect requester structure"
    );
    assert_eq!(refused(serde_json::json!({"requester": {"mail": "a@b.co"}})).await, "incorrect ticket structure");
    assert_eq!(
        refused(serde_json::json!({"requester": {"mail": "a@b.co"}, "ticket_message": "x", "group": 9})).await,
        "incorrect group"
    );
}

async fn an_agent_who_answers_takes_the_thread_and_a_resumed_chat_is_routed_again(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let load = |node: Arc<Domain>| async move {
        let mut db = node.store.read().await.unwrap();
        db.candidates(0).await.unwrap().into_iter().map(|c| (c.agent_id, c.load)).collect::<Vec<_>>()
    };
    // An offline chat, answered: the agent takes it (it counts towards their chats).
    let me = customer(&node).await;
    let (started, _) = node.start_chat(&me, &first_message("anyone?")).await.unwrap();
    let chat_id = started.chat.id;
    node.send_event(Requester::Agent(ALEX), &chat_id, Event::message("Here!"), false).await.unwrap();
    accepting(&node, ALEX, RoutingStatus::AcceptingChats).await;
    assert_eq!(load(node.clone()).await, [(ALEX.to_owned(), 1)]);
    // Closed and resumed: the new thread is routed again, to the agent with room.
    node.deactivate_chat(Requester::Customer(&me), &chat_id, false).await.unwrap();
    assert_eq!(load(node.clone()).await, [(ALEX.to_owned(), 0)]);
    let initial = InitialChat { id: Some(chat_id.clone()), ..first_message("me again") };
    let (resumed, events) = node.resume_chat(&me, &initial).await.unwrap();
    assert!(matches!(&events[1], DomainEvent::UserAdded { chat_id: c, .. } if *c == chat_id), "{events:?}");
    assert!(resumed.chat.thread.unwrap().queue.is_none());
    assert_eq!(load(node.clone()).await, [(ALEX.to_owned(), 1)]);
    // A queued chat an agent answers leaves the queue; the one behind it moves up.
    for _ in 1..MAX_CHATS_PER_AGENT {
        let other = customer(&node).await;
        node.start_chat(&other, &first_message("hi")).await.unwrap();
    }
    let mut queued = Vec::new();
    for _ in 0..2 {
        clock.advance(Duration::from_secs(1));
        let other = customer(&node).await;
        let (started, _) = node.start_chat(&other, &first_message("waiting")).await.unwrap();
        queued.push(started.chat.id);
    }
    let (_, events) =
        node.send_event(Requester::Agent(ALEX), &queued[0], Event::message("I'll take it"), false).await.unwrap();
    let moved: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::QueuePositionUpdated { chat_id, queue, .. } => Some((chat_id.clone(), queue.position)),
            _ => None,
        })
        .collect();
    assert_eq!(moved, [(queued[1].clone(), 1)]);
    assert_eq!(load(node.clone()).await, [(ALEX.to_owned(), MAX_CHATS_PER_AGENT + 1)], "taken by hand, over the limit");
}

/// The kinds of a transfer's domain events, with the chat and user each names.
fn transfer_steps(events: &[DomainEvent]) -> Vec<(&'static str, String, String)> {
    events
        .iter()
        .map(|e| match e {
            DomainEvent::ChatTransferred { chat_id, .. } => ("transferred", chat_id.clone(), String::new()),
            DomainEvent::UserAdded { chat_id, user, .. } => ("added", chat_id.clone(), user.id().to_owned()),
            DomainEvent::UserRemoved { chat_id, user_id, .. } => ("removed", chat_id.clone(), user_id.clone()),
            DomainEvent::GroupStatusChanged { group_id, .. } => ("status", group_id.to_string(), String::new()),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

async fn a_transfer_moves_the_threads_routing_and_its_place_in_a_queue(db: Db) {
    use confab_server::domain::chat_users::{Target, TransferOptions};
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    let groups = parse_groups_file(&format!(r#"[{{"id": 1, "name": "Roastery", "agents": ["{SAM}"]}}]"#)).unwrap();
    a.apply_groups(&groups).await.unwrap();
    let load = |group: u32| {
        let node = a.clone();
        async move {
            let mut db = node.store.read().await.unwrap();
            db.candidates(group).await.unwrap().into_iter().map(|c| (c.agent_id, c.load)).collect::<Vec<_>>()
        }
    };
    let group_of = |chat: confab_protocol::entity::Chat| chat.access.and_then(|a| a.group_ids).unwrap_or_default();
    let plain = TransferOptions::default();
    let queue_anyway = TransferOptions { ignore_agents_availability: true, ..plain };
    let to_roastery = Some(Target::Group(vec![1]));
    accepting(&a, ALEX, RoutingStatus::AcceptingChats).await;
    let me = customer(&a).await;
    let (started, _) = a.start_chat(&me, &first_message("hi")).await.unwrap();
    assert!(assigned_to(&started, ALEX));
    let first = started.chat.id;

    // Nobody of group 1 accepts chats: refused, and nothing changed.
    assert_eq!(kind(b.transfer_chat(ALEX, &first, to_roastery.clone(), plain).await), Some(ErrorType::GroupOffline));
    assert_eq!(load(0).await, [(ALEX.to_owned(), 1)]);
    // Sam accepts: the chat leaves Alex (his load with it) and routing gives it to Sam.
    accepting(&a, SAM, RoutingStatus::AcceptingChats).await;
    let events = b.transfer_chat(ALEX, &first, to_roastery.clone(), plain).await.unwrap();
    assert_eq!(
        transfer_steps(&events),
        [
            ("transferred", first.clone(), String::new()),
            ("removed", first.clone(), ALEX.to_owned()),
            ("added", first.clone(), SAM.to_owned())
        ]
    );
    match &events[0] {
        DomainEvent::ChatTransferred { group_ids, agent_ids: None, queue: None, members, .. } => {
            assert_eq!(group_ids.as_deref(), Some(&[1][..]));
            // Sam (now in it), Alex (who left): both hear of it.
            assert_eq!(members.agents, [SAM.to_owned(), ALEX.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(load(0).await, [(ALEX.to_owned(), 0), (SAM.to_owned(), 1)]);
    assert_eq!(group_of(a.get_chat(Requester::Agent(SAM), &first, None).await.unwrap()), [1]);

    // Sam full: a chat transferred to group 1 cannot be taken at once.
    for _ in 1..MAX_CHATS_PER_AGENT {
        let other = customer(&a).await;
        let (started, _) = a.start_chat_in(&other, 1, &first_message("roast?")).await.unwrap();
        assert!(assigned_to(&started, SAM));
    }
    let other = customer(&a).await;
    let (started, _) = a.start_chat(&other, &first_message("me too")).await.unwrap();
    assert!(assigned_to(&started, ALEX));
    let second = started.chat.id;
    assert_eq!(
        kind(a.transfer_chat(ALEX, &second, to_roastery.clone(), plain).await),
        Some(ErrorType::GroupUnavailable)
    );
    assert_eq!(load(0).await, [(ALEX.to_owned(), 1), (SAM.to_owned(), MAX_CHATS_PER_AGENT)], "nothing changed");
    // Allowed to wait: it joins group 1's queue, and the transfer says where.
    clock.advance(Duration::from_secs(1));
    let events = a.transfer_chat(ALEX, &second, to_roastery.clone(), queue_anyway).await.unwrap();
    assert_eq!(
        transfer_steps(&events),
        [("transferred", second.clone(), String::new()), ("removed", second.clone(), ALEX.to_owned())]
    );
    let DomainEvent::ChatTransferred { queue: Some(queue), .. } = &events[0] else { panic!("{events:?}") };
    assert_eq!((queue.position, queue.wait_time), (1, confab_server::limits::QUEUE_WAIT_PER_POSITION_SECS));
    assert_eq!(queue.queued_at, Some(Micros(START.0 + 1_000_000).rfc3339()), "queued at the transfer");
    let waiting = b.get_chat(Requester::Customer(&other), &second, None).await.unwrap();
    assert_eq!(waiting.thread.as_ref().and_then(|t| t.queue.as_ref()).map(|q| q.position), Some(1));
    assert_eq!(group_of(waiting), [1]);
    assert_eq!(load(0).await, [(ALEX.to_owned(), 0), (SAM.to_owned(), MAX_CHATS_PER_AGENT)]);

    // Within its group, the chat never goes back to the agent it leaves: Sam alone in group 1,
    // and so nobody can take the first chat.
    assert_eq!(kind(b.transfer_chat(SAM, &first, None, plain).await), Some(ErrorType::GroupUnavailable));
    // To Alex: Sam's freed slot takes the chat waiting in group 1, in the same transaction.
    let events = b.transfer_chat(SAM, &first, Some(Target::Agents(vec![ALEX.to_owned()])), plain).await.unwrap();
    assert_eq!(
        transfer_steps(&events),
        [
            ("transferred", first.clone(), String::new()),
            ("added", first.clone(), ALEX.to_owned()),
            ("removed", first.clone(), SAM.to_owned()),
            ("added", second.clone(), SAM.to_owned()),
        ]
    );
    let DomainEvent::ChatTransferred { agent_ids, group_ids: None, queue: None, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(agent_ids.as_deref(), Some(&[ALEX.to_owned()][..]));
    assert_eq!(load(0).await, [(ALEX.to_owned(), 1), (SAM.to_owned(), MAX_CHATS_PER_AGENT)]);
    let served = a.get_chat(Requester::Customer(&other), &second, None).await.unwrap();
    assert!(served.thread.unwrap().queue.is_none());
    // Unknown groups and agents, offline agents.
    for (target, expected) in [
        (Target::Group(vec![1, 9]), ErrorType::GroupNotFound),
        (Target::Agents(vec!["nobody@x".to_owned()]), ErrorType::NotFound),
        (Target::Group(vec![]), ErrorType::Validation),
    ] {
        assert_eq!(kind(a.transfer_chat(ALEX, &first, Some(target), plain).await), Some(expected));
    }
    accepting(&a, SAM, RoutingStatus::Offline).await;
    let to_sam = Some(Target::Agents(vec![SAM.to_owned()]));
    assert_eq!(kind(a.transfer_chat(ALEX, &first, to_sam, plain).await), Some(ErrorType::AgentOffline));
}

async fn routing_under_concurrent_load_keeps_its_rules(db: Db) {
    // Customers start and leave chats on two nodes while an agent comes and goes: nothing
    // fails (no deadlock between routing transactions), no agent holds more than the limit,
    // the queue's positions are 1..n, and nobody waits while an agent has room.
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    accepting(&a, ALEX, RoutingStatus::AcceptingChats).await;
    const CUSTOMERS: usize = 24;
    let customers = join_all((0..CUSTOMERS).map(|_| customer(&a))).await;
    let mut tasks = Vec::new();
    for (i, me) in customers.iter().cloned().enumerate() {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let (started, _) = node.start_chat(&me, &first_message("hi")).await.unwrap();
            node.send_event(Requester::Customer(&me), &started.chat.id, Event::message("hello?"), false).await.unwrap();
            if i % 3 == 0 {
                node.deactivate_chat(Requester::Customer(&me), &started.chat.id, false).await.unwrap();
            }
        }));
    }
    let toggler = {
        let (a, b, sam) = (a.clone(), b.clone(), common::SAM.to_owned());
        tokio::spawn(async move {
            for round in 0..6 {
                let node = if round % 2 == 0 { &a } else { &b };
                let status =
                    if round % 2 == 0 { RoutingStatus::AcceptingChats } else { RoutingStatus::NotAcceptingChats };
                node.set_routing_status(Requester::Agent(&sam), None, status).await.unwrap();
            }
            a.set_routing_status(Requester::Agent(&sam), None, RoutingStatus::AcceptingChats).await.unwrap();
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    toggler.await.unwrap();
    let mut db = a.store.read().await.unwrap();
    let candidates = db.candidates(0).await.unwrap();
    assert_eq!(candidates.len(), 2);
    assert!(candidates.iter().all(|c| c.load <= MAX_CHATS_PER_AGENT), "{candidates:?}");
    let queue = db.queue(0, 1000).await.unwrap();
    let open = CUSTOMERS - CUSTOMERS.div_ceil(3);
    let served: i64 = candidates.iter().map(|c| c.load).sum();
    assert_eq!(served as usize + queue.len(), open, "every open chat is served or waits");
    if !queue.is_empty() {
        assert!(candidates.iter().all(|c| c.load == MAX_CHATS_PER_AGENT), "nobody waits while an agent has room");
    }
    let mut positions = Vec::new();
    for waiting in &queue {
        let chat = b.get_chat(Requester::Customer(&waiting.customer_id), &waiting.chat_id, None).await.unwrap();
        positions.push(chat.thread.unwrap().queue.unwrap().position);
    }
    assert_eq!(positions, (1..=queue.len() as u32).collect::<Vec<_>>());
}

/// The chat's followers, as the domain event of a message names them.
async fn followers_hearing_a_message(node: &Domain, customer_id: &str, chat_id: &str) -> Vec<String> {
    let (_, events) =
        node.send_event(Requester::Customer(customer_id), chat_id, Event::message("hi"), false).await.unwrap();
    match &events[0] {
        DomainEvent::EventAdded { members, .. } => members.followers.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

async fn agents_start_follow_and_tag_chats(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    let me = customer(&a).await;
    let chat = AgentInitialChat {
        chat: first_message("Can I help?"),
        users: Some(vec![UserRef { id: me.clone(), kind: "customer".into() }]),
    };
    let (started, _) = a.agent_start_chat(ALEX, &chat, true).await.unwrap();
    assert!(assigned_to(&started, ALEX), "the starting agent takes the thread");
    let chat_id = started.chat.id.clone();
    assert_eq!(kind(b.agent_start_chat(SAM, &chat, true).await), Some(ErrorType::ChatLimitReached));

    // A follower hears the chat from either node's writes; its users cannot unfollow it.
    b.follow_chat(SAM, &chat_id).await.unwrap();
    assert_eq!(followers_hearing_a_message(&a, &me, &chat_id).await, vec![SAM.to_owned()]);
    assert_eq!(kind(a.unfollow_chat(ALEX, &chat_id).await), Some(ErrorType::Validation));

    // Tags: once each, counted per thread, removed once.
    let thread = started.thread_id.clone();
    assert_eq!(a.tag_thread(ALEX, &chat_id, &thread, "vip", true).await.unwrap().len(), 1);
    assert!(b.tag_thread(SAM, &chat_id, &thread, "vip", true).await.unwrap().is_empty());
    assert_eq!(b.tag_thread(SAM, &chat_id, &thread, "vip", false).await.unwrap().len(), 1);
    assert_eq!(kind(a.tag_thread(ALEX, &chat_id, &thread, "vip", false).await), Some(ErrorType::NotFound));

    // A resumed chat is followed afresh: its followers are told, and hear no more.
    a.deactivate_chat(Requester::Agent(ALEX), &chat_id, false).await.unwrap();
    let resume =
        AgentInitialChat { chat: InitialChat { id: Some(chat_id.clone()), ..Default::default() }, users: None };
    let (_, events) = b.agent_resume_chat(SAM, &resume, true).await.unwrap();
    assert!(events.iter().any(|e| matches!(e, DomainEvent::ChatUnfollowed { agent_ids, .. } if agent_ids == &[SAM])));
    assert!(followers_hearing_a_message(&a, &me, &chat_id).await.is_empty());

    // A customer made by an agent, followed: updates name the follower.
    let (made, events) =
        a.create_customer(&CustomerUpdate { name: Some("Ann".into()), ..Default::default() }).await.unwrap();
    assert!(matches!(&events[0], DomainEvent::CustomerCreated { customer } if customer.name.as_deref() == Some("Ann")));
    b.follow_customer(SAM, &made).await.unwrap();
    let events = a
        .update_customer(&made, &CustomerUpdate { email: Some("ann@example.com".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(matches!(&events[0], DomainEvent::CustomerUpdated { members, .. } if members.followers == [SAM]));
    assert_eq!(kind(a.follow_customer(SAM, "nobody").await), Some(ErrorType::NotFound));
}

async fn chat_listings_filter_by_activity_and_group(db: Db) {
    let clock = Clock::manual(START);
    let node = db.node(&clock).await;
    let mut chats = Vec::new();
    for n in 0..3 {
        let me = customer(&node).await;
        let (started, _) = node.start_chat(&me, &first_message(&format!("q{n}"))).await.unwrap();
        chats.push((me, started.chat.id));
    }
    node.deactivate_chat(Requester::Customer(&chats[0].0), &chats[0].1, false).await.unwrap();
    let agent = Requester::Agent(ALEX);
    let list = |filters: ChatFilters| {
        let node = node.clone();
        async move { node.list_chats(agent, page(10), &filters).await.unwrap() }
    };
    let (active, total) = list(ChatFilters { active: Some(true), ..Default::default() }).await;
    assert_eq!((active.len(), total), (2, 2));
    let (inactive, _) = list(ChatFilters { active: Some(false), ..Default::default() }).await;
    assert_eq!(inactive.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec![chats[0].1.as_str()]);
    assert_eq!(list(ChatFilters { group_ids: Some(vec![0]), ..Default::default() }).await.1, 3);
    assert_eq!(list(ChatFilters { group_ids: Some(vec![9]), ..Default::default() }).await.1, 0);
    assert_eq!(list(ChatFilters { without_threadless: true, ..Default::default() }).await.1, 3);
}

async fn webhooks_are_registered_logged_and_pruned(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    assert!(a.is_administrator(ALEX).await.unwrap() && !b.is_administrator(SAM).await.unwrap());
    let hook = |owner: &str| NewWebhook {
        url: "https://hooks.example/in".into(),
        action: "incoming_event".into(),
        secret_key: "k".into(),
        kind: "license".into(),
        owner_client_id: owner.into(),
        description: None,
        filters: json!({}),
    };
    let mut ids = Vec::new();
    for node in [&a, &b, &a] {
        ids.push(node.register_webhook(hook("app")).await.unwrap());
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(kind(b.register_webhook(hook("app")).await), Some(ErrorType::LimitReached));
    b.register_webhook(hook("other-app")).await.unwrap();
    let listed: Vec<String> = a.webhooks(Some("app")).await.unwrap().into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ids);
    b.unregister_webhook(&ids[0], Some("app")).await.unwrap();
    assert_eq!(kind(a.unregister_webhook(&ids[0], None).await), Some(ErrorType::NotFound));
    assert_eq!(kind(a.unregister_webhook(&ids[1], Some("other-app")).await), Some(ErrorType::NotFound));

    // The delivery log: newest first, per webhook, forgotten after its retention.
    a.record_delivery(&ids[1], "incoming_event", 1, "failed", Some(500), Some("answered 500")).await.unwrap();
    b.record_delivery(&ids[1], "incoming_event", 2, "delivered", Some(200), None).await.unwrap();
    b.record_delivery(&ids[2], "incoming_event", 1, "delivered", Some(200), None).await.unwrap();
    let log = a.deliveries(Some(&ids[1]), 10).await.unwrap();
    let seen: Vec<(i64, &str)> = log.iter().map(|d| (d.attempt, d.outcome.as_str())).collect();
    assert_eq!(seen, [(2, "delivered"), (1, "failed")]);
    assert_eq!(log[1].http_status, Some(500));
    assert_eq!(a.deliveries(None, 2).await.unwrap().len(), 2);
    clock.advance(confab_server::limits::WEBHOOK_LOG_RETENTION + Duration::from_secs(1));
    assert_eq!(b.prune_deliveries().await.unwrap(), 3);
    assert!(a.deliveries(None, 10).await.unwrap().is_empty());
}

/// One thread per way an archive can be found: by text, time, agent, tag, property, event
/// type, survey and greeting. Each filter is evaluated by the database, whose JSON and text
/// functions differ between the backends.
async fn archives_filter_threads_by_everything_they_hold(db: Db) {
    let clock = Clock::manual(START);
    let (a, b) = (db.node(&clock).await, db.node(&clock).await);
    common::add_sam(&a).await;
    let props = |value: serde_json::Value| serde_json::from_value(value).unwrap();

    // T1: a customer's question with a wildcard, answered by Alex, tagged, rated, with chat
    // properties; closed.
    let c1 = customer(&a).await;
    let (started, _) = a.start_chat(&c1, &first_message("My ORDER 50% off is late")).await.unwrap();
    let (chat1, t1) = (started.chat.id.clone(), started.thread_id.clone());
    a.send_event(Requester::Agent(ALEX), &chat1, Event::message("Sure, let me look at your order"), false)
        .await
        .unwrap();
    a.tag_thread(ALEX, &chat1, &t1, "vip", true).await.unwrap();
    a.update_chat_properties(Requester::Agent(ALEX), &chat1, props(json!({"crm": {"tier": "gold", "score": 5}})))
        .await
        .unwrap();
    let survey: Event = serde_json::from_value(json!({"type": "filled_form", "form_id": "postchat", "fields": [
        {"id": "0", "type": "rating", "label": "How was it?", "answer": {"id": "1", "label": "Good"}}
    ]}))
    .unwrap();
    a.send_event(Requester::Customer(&c1), &chat1, survey, false).await.unwrap();
    a.deactivate_chat(Requester::Customer(&c1), &chat1, false).await.unwrap();
    clock.advance(Duration::from_secs(1));
    let between = clock.now().rfc3339();
    clock.advance(Duration::from_secs(1));

    // T2: nobody answered; a thread property.
    let c2 = customer(&a).await;
    let (started, _) = b.start_chat(&c2, &first_message("hello?")).await.unwrap();
    let (chat2, t2) = (started.chat.id.clone(), started.thread_id.clone());
    b.update_thread_properties(Requester::Customer(&c2), &chat2, &t2, props(json!({"crm": {"flag": true}})))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));

    // T3: started by accepting Alex's greeting.
    let c3 = customer(&a).await;
    let (greeting, _) = a.send_greeting(ALEX, &c3, "Hi from Alex", None).await.unwrap();
    let events = b.accept_greeting(&c3, 0, &greeting.unique_id).await.unwrap();
    let DomainEvent::ChatStarted { chat, .. } = &events[1] else { panic!("{events:?}") };
    let t3 = chat.thread.as_ref().unwrap().id.clone();

    let (t1, t2, t3) = (t1.as_str(), t2.as_str(), t3.as_str());
    let query = |filters: serde_json::Value| ArchiveQuery {
        filters: serde_json::from_value(filters).unwrap(),
        highlights: None,
    };
    let found = |filters: serde_json::Value| {
        let (node, query) = (a.clone(), query(filters));
        async move {
            query.check().unwrap();
            let (chats, total) = node.list_archives(ALEX, &query, page(10)).await.unwrap();
            assert_eq!(total as usize, chats.len());
            chats.into_iter().map(|c| c.thread.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(found(json!({})).await, [t3, t2, t1], "newest first");
    assert_eq!(found(json!({"query": "order 50%"})).await, [t1], "ignoring case, `%` literal");
    assert!(found(json!({"query": "50_"})).await.is_empty(), "`_` literal");
    assert_eq!(found(json!({"from": between})).await, [t3, t2]);
    assert_eq!(found(json!({"to": between})).await, [t1]);
    assert_eq!(found(json!({"thread_ids": [t2]})).await, [t2]);
    assert_eq!(found(json!({"group_ids": [0]})).await.len(), 3);
    assert!(found(json!({"group_ids": [1]})).await.is_empty());
    assert_eq!(found(json!({"agents": {"exists": true}})).await, [t3, t1]);
    assert_eq!(found(json!({"agents": {"exists": false}})).await, [t2], "unassigned");
    assert_eq!(found(json!({"agents": {"values": [ALEX, SAM]}})).await, [t3, t1]);
    assert!(found(json!({"agents": {"values": [ALEX, SAM], "require_every_value": true}})).await.is_empty());
    assert_eq!(found(json!({"tags": {"values": ["vip"]}})).await, [t1]);
    assert_eq!(found(json!({"tags": {"exclude_values": ["vip"]}})).await, [t3, t2]);
    assert_eq!(found(json!({"properties": {"crm": {"tier": {"values": ["gold"]}}}})).await, [t1]);
    assert_eq!(found(json!({"properties": {"crm": {"score": {"values": [5]}}}})).await, [t1]);
    assert!(found(json!({"properties": {"crm": {"score": {"values": ["5"]}}}})).await.is_empty(), "typed");
    assert_eq!(found(json!({"properties": {"crm": {"flag": {"values": [true]}}}})).await, [t2], "a thread's");
    assert_eq!(found(json!({"properties": {"crm": {"tier": {"exists": false}}}})).await, [t3, t2]);
    assert_eq!(found(json!({"event_types": {"values": ["filled_form"]}})).await, [t1]);
    let both = json!({"event_types": {"values": ["message", "filled_form"], "require_every_value": true}});
    assert_eq!(found(both).await, [t1]);
    assert_eq!(found(json!({"event_types": {"exclude_values": ["filled_form"]}})).await, [t3, t2]);
    assert_eq!(found(json!({"surveys": [{"type": "post_chat"}]})).await, [t1]);
    assert_eq!(found(json!({"surveys": [{"type": "post_chat", "values": ["1"]}]})).await, [t1]);
    assert!(found(json!({"surveys": [{"type": "post_chat", "values": ["2"]}]})).await.is_empty());
    assert!(found(json!({"surveys": [{"type": "pre_chat"}]})).await.is_empty(), "group 0 has no pre-chat form");
    assert_eq!(found(json!({"surveys": [{"type": "post_chat", "exists": false}]})).await, [t3, t2]);
    assert_eq!(found(json!({"greetings": {"exists": true}})).await, [t3]);
    assert_eq!(found(json!({"greetings": {"values": [0]}})).await, [t3]);
    assert_eq!(found(json!({"greetings": {"exists": false}})).await, [t2, t1]);
    assert_eq!(found(json!({"agent_response": {"exists": true}})).await, [t3, t1]);
    assert_eq!(found(json!({"agent_response": {"first": true, "agents": {"values": [ALEX]}}})).await, [t3, t1]);
    assert_eq!(found(json!({"agent_response": {"exists": false}})).await, [t2]);
    assert_eq!(found(json!({"sales": {"exists": false}})).await.len(), 3, "Confab records no sales");
    assert!(found(json!({"customer_countries": {"values": ["PL"]}})).await.is_empty());

    // Pages, the other order, highlights, the follower's mark.
    let (chats, total) = a.list_archives(ALEX, &query(json!({})), page(2)).await.unwrap();
    assert_eq!((chats.len(), total), (2, 3));
    let asc = Page { order: SortOrder::Asc, ..page(10) };
    let (chats, _) = b.list_archives(ALEX, &query(json!({})), asc).await.unwrap();
    assert_eq!(chats.iter().map(|c| c.thread.id.as_str()).collect::<Vec<_>>(), [t1, t2, t3]);
    assert_eq!(chats[0].thread.tags.as_deref(), Some(&["vip".to_owned()][..]));
    b.follow_chat(SAM, &chat2).await.unwrap();
    let highlighted = ArchiveQuery { highlights: Some(Default::default()), ..query(json!({"query": "ORDER"})) };
    let (chats, _) = a.list_archives(SAM, &highlighted, page(10)).await.unwrap();
    let marks: Vec<&str> = chats[0].thread.highlight.iter().flatten().map(|h| h.highlight.as_str()).collect();
    assert_eq!(marks, ["My <em>ORDER</em> 50% off is late", "Sure, let me look at your <em>order</em>"]);
    assert!(!chats[0].is_followed);
    let (chats, _) = a.list_archives(SAM, &query(json!({"thread_ids": [t2]})), page(10)).await.unwrap();
    assert!(chats[0].is_followed);

    // list_chats filters chat properties the same way.
    let gold = ChatFilters {
        properties: Some(serde_json::from_value(json!({"crm": {"tier": {"values": ["gold"]}}})).unwrap()),
        ..Default::default()
    };
    let (chats, total) = a.list_chats(Requester::Agent(ALEX), page(10), &gold).await.unwrap();
    assert_eq!((chats[0].id.as_str(), total), (chat1.as_str(), 1));
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
    two_nodes_race_for_the_last_free_agent_slot,
    a_freed_slot_takes_the_oldest_queued_chat_and_the_queue_moves_up,
    the_least_loaded_agent_takes_the_chat_and_statuses_follow_routing,
    offline_groups_take_messages_or_refuse_as_configured,
    groups_have_forms_and_tickets_are_stored,
    an_agent_who_answers_takes_the_thread_and_a_resumed_chat_is_routed_again,
    a_transfer_moves_the_threads_routing_and_its_place_in_a_queue,
    routing_under_concurrent_load_keeps_its_rules,
    agents_start_follow_and_tag_chats,
    chat_listings_filter_by_activity_and_group,
    webhooks_are_registered_logged_and_pruned,
    archives_filter_threads_by_everything_they_hold,
);
