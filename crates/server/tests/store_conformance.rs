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
use confab_server::domain::{Domain, DomainEvent, Requester};
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
    assert_eq!(kind(b.login(&me, None).await), Some(ErrorType::CustomerBanned));
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(b.ban_of(&me).await.unwrap(), None);
    b.login(&me, None).await.unwrap();
    let events = b.logout_customer(&me).await.unwrap();
    assert!(
        matches!(&events[..], [DomainEvent::CustomerDisconnected { reason, .. }] if reason == "logged_out_remotely")
    );
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
    greetings_are_shown_answered_and_counted,
    a_rule_greets_once_per_period_even_from_two_nodes,
    bans_hold_until_they_end_by_the_servers_clock,
);
