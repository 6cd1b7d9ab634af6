//! A database written by the previous schema (text timestamps, per-thread event numbers,
//! stored customer tokens) is upgraded in place on start, keeping every conversation: the
//! `.data/` of an existing `make demo` keeps working.

use confab_protocol::action::SortOrder;
use confab_protocol::entity::Event;
use confab_server::clock::{Clock, Micros};
use confab_server::domain::{Domain, Requester};
use confab_server::store::{Page, Store};
use sqlx::Connection;
use std::path::Path;
use std::time::Duration;

const OLD_SCHEMA: &str = include_str!("../migrations/sqlite/0001_init.sql");

/// Writes a database as the previous version left it.
async fn old_database(path: &Path) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_init.sql"), OLD_SCHEMA).unwrap();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(dir.path()).await.unwrap().run(&mut db).await.unwrap();
    let customer = format!(
        "INSERT INTO customers (id, cookie_secret, name, visits_count, created_at) VALUES ('c1', '{}', 'Ann', 3, '2026-11-20T10:00:00.000000Z')",
        confab_server::store::hash_secret("her-old-cookie-secret")
    );
    let statements = [
        customer.as_str(),
        "INSERT INTO customer_tokens (token_hash, customer_id, expires_at) VALUES ('t', 'c1', 1)",
        "INSERT INTO agents (id, name, job_title, token_hash) VALUES ('alex@confab.example', 'Alex Morgan', 'Support Agent', 'x')",
        "INSERT INTO chats (id, customer_id, created_at, properties) VALUES ('CHAT', 'c1', '2026-11-20T10:00:01.000000Z', '{}')",
        "INSERT INTO chat_users (chat_id, user_id, user_type) VALUES ('CHAT', 'c1', 'customer'), ('CHAT', 'alex@confab.example', 'agent')",
        "INSERT INTO threads (id, chat_id, seq, active, created_at, properties) VALUES
            ('T1', 'CHAT', 1, 0, '2026-11-20T10:00:01.000000Z', '{}'),
            ('T2', 'CHAT', 2, 1, '2026-11-21T09:00:00.000000Z', '{}')",
        r#"INSERT INTO events (id, chat_id, thread_id, seq, author_id, created_at, custom_id, event) VALUES
            ('T1_1', 'CHAT', 'T1', 1, 'c1', '2026-11-20T10:00:01.000000Z', 'k1', '{"id":"T1_1","created_at":"2026-11-20T10:00:01.000000Z","author_id":"c1","custom_id":"k1","visibility":"all","type":"message","text":"hello"}'),
            ('T1_2', 'CHAT', 'T1', 2, 'alex@confab.example', '2026-11-20T10:00:05.000000Z', NULL, '{"id":"T1_2","created_at":"2026-11-20T10:00:05.000000Z","author_id":"alex@confab.example","visibility":"all","type":"message","text":"Hi! How can I help?"}'),
            ('T2_1', 'CHAT', 'T2', 1, 'c1', '2026-11-21T09:00:00.000000Z', NULL, '{"id":"T2_1","created_at":"2026-11-21T09:00:00.000000Z","author_id":"c1","visibility":"all","type":"message","text":"back again"}')"#,
    ];
    for statement in statements {
        sqlx::query(statement).execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn an_old_database_is_upgraded_in_place_and_keeps_every_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confab.db");
    old_database(&path).await;

    let store = Store::open(&format!("sqlite://{}", path.display())).await.expect("upgrades");
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    let domain = Domain::new(store, clock, Duration::from_secs(3600)).await.unwrap();
    let customer = Requester::Customer("c1");

    let page = Page { offset: 0, order: SortOrder::Asc, size: 10, by_events: false };
    let (threads, total) = domain.list_threads(customer, "CHAT", page).await.unwrap();
    assert_eq!(total, 2);
    let events: Vec<(String, u64, String)> = threads
        .iter()
        .flat_map(|t| &t.events)
        .map(|e| (e.text().unwrap().to_owned(), e.seq.unwrap(), e.created_at.clone().unwrap()))
        .collect();
    assert_eq!(
        events,
        [
            ("hello".to_owned(), 1, "2026-11-20T10:00:01.000000Z".to_owned()),
            ("Hi! How can I help?".to_owned(), 2, "2026-11-20T10:00:05.000000Z".to_owned()),
            ("back again".to_owned(), 3, "2026-11-21T09:00:00.000000Z".to_owned()),
        ],
        "one sequence across the chat's threads, in their order"
    );
    assert_eq!(threads[0].created_at, "2026-11-20T10:00:01.000000Z", "times survive the move to microseconds");
    assert!(threads[1].active && !threads[0].active);

    // The next event continues the chat's sequence in the active thread.
    let (stored, _) = domain.send_event(customer, "CHAT", Event::message("new"), false).await.unwrap();
    assert_eq!((stored.seq, stored.id.as_deref()), (Some(4), Some("T2_4")));
    let customer = domain.customer("c1").await.unwrap();
    assert_eq!(customer.name.as_deref(), Some("Ann"));
    assert_eq!(customer.statistics.unwrap().threads_count, 2);
    assert_eq!(customer.created_at.as_deref(), Some("2026-11-20T10:00:00.000000Z"));
    // Her browser's identity cookies, issued before secrets were derived, still name her.
    assert_eq!(domain.known_customer("c1", "her-old-cookie-secret").await.unwrap().as_deref(), Some("c1"));
    assert_eq!(domain.known_customer("c1", "a guess").await.unwrap(), None);
    // Routing came later: the old chat is in group 0, whose agents are the agents there were,
    // offline until they say otherwise; group 0 has its default forms.
    let chat = domain.get_chat(Requester::Customer("c1"), "CHAT", None).await.unwrap();
    assert_eq!(chat.access.and_then(|a| a.group_ids), Some(vec![0]));
    assert_eq!(
        domain.routing_statuses(Some(&[0])).await.unwrap(),
        [("alex@confab.example".to_owned(), confab_protocol::agent::RoutingStatus::Offline)]
    );
    assert!(domain.get_form(0, confab_protocol::action::FormType::Ticket).await.unwrap().enabled);
}
