//! The Customer SDK's methods through the native SDK against the real server, beyond chats and
//! history (`sdk_native.rs`) and uploads (`sdk_upload.rs`): each call resolves with what the
//! server did, and the pushes it causes arrive as typed events.

mod common;

use common::*;
use confab_sdk::protocol::action::{CustomerUpdate, FormType};
use confab_sdk::{ClientEvent, Config, Events, Rating};
use futures::StreamExt;
use serde_json::json;

/// The next event that is not `customer_id` or `user_data`.
async fn next_event(events: &mut Events) -> ClientEvent {
    loop {
        match tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open") {
            ClientEvent::CustomerId(_) | ClientEvent::UserData(_) => continue,
            event => return event,
        }
    }
}

async fn connected(server: &TestServer) -> (confab_sdk::Client, Events) {
    let (client, mut events) = confab_sdk::native::connect(Config::new(&server.url, ORG));
    assert!(matches!(next_event(&mut events).await, ClientEvent::Connected { .. }));
    (client, events)
}

fn props(value: serde_json::Value) -> confab_sdk::protocol::Properties {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn properties_rating_and_seen_markers_through_the_sdk() {
    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;
    let chat = client.start_chat(Some("hello")).await.unwrap();
    let thread = chat.thread.unwrap();
    let event_id = thread.events[0].id.clone().unwrap();

    client.update_chat_properties(&chat.id, props(json!({"shop": {"cart": 3}}))).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ChatPropertiesUpdated(_)));
    client.update_thread_properties(&chat.id, &thread.id, props(json!({"shop": {"step": "pay"}}))).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ThreadPropertiesUpdated(_)));
    client
        .update_event_properties(&chat.id, &thread.id, &event_id, props(json!({"shop": {"liked": true}})))
        .await
        .unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::EventPropertiesUpdated(_)));
    let names = [("shop".to_owned(), vec!["cart".to_owned()])].into();
    client.delete_chat_properties(&chat.id, names).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ChatPropertiesDeleted(_)));
    let read = client.get_chat(&chat.id, None).await.unwrap();
    assert!(read.properties.unwrap_or_default().get("shop").is_none(), "the emptied namespace is gone");
    let names = [("shop".to_owned(), vec!["step".to_owned()])].into();
    client.delete_thread_properties(&chat.id, &thread.id, names).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ThreadPropertiesDeleted(_)));
    let names = [("shop".to_owned(), vec!["liked".to_owned()])].into();
    client.delete_event_properties(&chat.id, &thread.id, &event_id, names).await.unwrap();
    let ClientEvent::EventPropertiesDeleted(deleted) = next_event(&mut events).await else { panic!("deleted") };
    assert_eq!(deleted.event_id, event_id);
    let read = client.get_chat(&chat.id, None).await.unwrap().thread.unwrap();
    assert!(read.properties.unwrap_or_default().get("shop").is_none());
    assert!(read.events[0].properties.clone().unwrap_or_default().get("shop").is_none());
    let names = [("shop".to_owned(), vec!["liked".to_owned()])].into();
    let unknown = client.delete_event_properties(&chat.id, &thread.id, "NOSUCH_9", names).await.unwrap_err();
    assert_eq!(unknown.code(), "NOT_FOUND");

    // The customer rates the ended chat, then takes the rating back.
    client.deactivate_chat(&chat.id).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ChatDeactivated(_)));
    client.rate_chat(&chat.id, Rating { score: 1, comment: Some("Quick and kind".into()) }).await.unwrap();
    let ClientEvent::ThreadPropertiesUpdated(rated) = next_event(&mut events).await else { panic!("rating pushed") };
    assert_eq!(rated.properties["rating"], json!({"score": 1, "comment": "Quick and kind"}));
    client.cancel_rate(&chat.id, &["score", "comment"]).await.unwrap();
    assert!(matches!(next_event(&mut events).await, ClientEvent::ThreadPropertiesDeleted(_)));

    client.mark_events_as_seen(&chat.id, "2030-01-01T00:00:00.000000Z").await.unwrap();
    let ClientEvent::EventsMarkedAsSeen(seen) = next_event(&mut events).await else { panic!("seen marker pushed") };
    assert_eq!(seen.chat_id, chat.id);
    let error = client.mark_events_as_seen(&chat.id, "yesterday").await.unwrap_err();
    assert_eq!(error.code(), "VALIDATION");
}

#[tokio::test]
async fn the_customer_groups_forms_and_link_previews_through_the_sdk() {
    let server = TestServer::start().await;
    let (client, _events) = connected(&server).await;
    let update =
        CustomerUpdate { name: Some("Ann".into()), email: Some("ann@example.com".into()), ..Default::default() };
    client.update_customer(update).await.unwrap();
    client.set_customer_session_fields(vec![json!({"plan": "pro"}).as_object().unwrap().clone()]).await.unwrap();
    let page = confab_sdk::protocol::action::CustomerPage {
        url: Some("https://shop.example/cart".into()),
        title: Some("Cart".into()),
    };
    client.update_customer_page(page).await.unwrap();
    let me = client.get_customer().await.unwrap();
    assert_eq!((me.name.as_deref(), me.email.as_deref()), (Some("Ann"), Some("ann@example.com")));
    let stats = me.statistics.unwrap();
    assert!(stats.visits_count >= 1 && stats.page_views_count >= 1, "{stats:?}");

    let statuses = client.list_group_statuses(None).await.unwrap();
    assert_eq!(statuses.get(&0), Some(&confab_sdk::protocol::action::GroupStatus::Offline));
    assert_eq!(client.list_group_statuses(Some(vec![77])).await.unwrap_err().code(), "GROUP_NOT_FOUND");
    assert_eq!(client.get_predicted_agent(None).await.unwrap_err().code(), "GROUP_OFFLINE");
    let ticket = client.get_form(0, FormType::Ticket).await.unwrap();
    assert!(ticket.enabled && !ticket.form.unwrap().fields.is_empty());

    // Link previews refuse what the server must not fetch.
    for url in ["http://10.0.0.1/", "file:///etc/passwd"] {
        assert_eq!(client.get_url_info(url).await.unwrap_err().code(), "VALIDATION", "{url}");
    }
}

#[tokio::test]
async fn a_greeting_is_shown_and_accepting_it_starts_the_chat_through_the_sdk() {
    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;
    let me = client.get_customer().await.unwrap().id;
    let (status, sent) = server.agent("send_greeting", json!({"customer_id": me, "text": "Need a hand?"})).await;
    assert_eq!(status, 200, "{sent}");
    let ClientEvent::IncomingGreeting(greeting) = next_event(&mut events).await else { panic!("greeting pushed") };
    assert_eq!(greeting.event.text(), Some("Need a hand?"));
    client.accept_greeting(greeting.id, &greeting.unique_id).await.unwrap();
    let mut accepted = false;
    let mut chat = None;
    while !(accepted && chat.is_some()) {
        match next_event(&mut events).await {
            ClientEvent::GreetingAccepted { .. } => accepted = true,
            ClientEvent::IncomingChat(incoming) => chat = Some(incoming.chat),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(chat.unwrap().thread.unwrap().events[0].text(), Some("Need a hand?"));
    assert_eq!(client.cancel_greeting(&greeting.unique_id).await.unwrap_err().code(), "VALIDATION");

    // A second greeting, turned down.
    let (status, _) = server.agent("send_greeting", json!({"customer_id": me, "text": "Still there?"})).await;
    assert_eq!(status, 200);
    let ClientEvent::IncomingGreeting(second) = next_event(&mut events).await else { panic!("second greeting") };
    client.cancel_greeting(&second.unique_id).await.unwrap();
    let ClientEvent::GreetingCanceled { unique_id } = next_event(&mut events).await else { panic!("canceled") };
    assert_eq!(unique_id, second.unique_id);
    assert_eq!(client.get_customer().await.unwrap().statistics.unwrap().greetings_accepted_count, 1);
}

/// A chat the SDK started, which Alex has joined by sending `event`; returns the chat, its
/// thread and Alex's event id.
async fn chat_joined_by_alex(
    server: &TestServer,
    client: &confab_sdk::Client,
    events: &mut Events,
    event: serde_json::Value,
) -> (String, String, String) {
    let chat = client.start_chat(Some("hello")).await.unwrap();
    let (status, sent) = server.agent("send_event", json!({"chat_id": chat.id, "event": event})).await;
    assert_eq!(status, 200, "{sent}");
    let ClientEvent::UserAddedToChat(added) = next_event(events).await else { panic!("Alex joins first") };
    assert_eq!(added.user.id(), ALEX);
    let ClientEvent::IncomingEvent(incoming) = next_event(events).await else { panic!("then his event") };
    let event_id = incoming.event.id.clone().unwrap();
    assert_eq!(Some(event_id.as_str()), sent["event_id"].as_str());
    (chat.id, incoming.thread_id, event_id)
}

#[tokio::test]
async fn what_agents_do_arrives_as_typed_events_through_the_sdk() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (client, mut events) = connected(&server).await;
    let me = client.get_customer().await.unwrap().id;
    let (chat_id, thread_id, _) =
        chat_joined_by_alex(&server, &client, &mut events, json!({"type": "message", "text": "Hi!"})).await;

    let typing = json!({"chat_id": chat_id, "is_typing": true});
    assert_eq!(server.agent("send_typing_indicator", typing).await.0, 200);
    let ClientEvent::IncomingTypingIndicator(typing) = next_event(&mut events).await else { panic!("typing") };
    assert_eq!((typing.chat_id.as_str(), typing.typing_indicator.author_id.as_str()), (chat_id.as_str(), ALEX));
    assert!(typing.typing_indicator.is_typing);

    let sam = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent"});
    let visible = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent", "visibility": "all"});
    assert_eq!(server.agent("add_user_to_chat", visible).await.0, 200);
    let ClientEvent::UserAddedToChat(added) = next_event(&mut events).await else { panic!("Sam added") };
    assert_eq!((added.user.id(), added.thread_id.as_deref()), (SAM, Some(thread_id.as_str())));
    assert_eq!(server.agent("remove_user_from_chat", sam).await.0, 200);
    let ClientEvent::UserRemovedFromChat(removed) = next_event(&mut events).await else { panic!("Sam removed") };
    assert_eq!(removed.user_id, SAM);

    // Alex hands the chat to Sam (online, not accepting chats): the transfer, then Sam in, then
    // Alex out.
    let online = json!({"agent_id": SAM, "status": "not_accepting_chats"});
    assert_eq!(server.agent("set_routing_status", online).await.0, 200);
    let transfer = json!({"id": chat_id, "target": {"type": "agent", "ids": [SAM]}});
    assert_eq!(server.agent("transfer_chat", transfer).await.0, 200);
    let ClientEvent::ChatTransferred(moved) = next_event(&mut events).await else { panic!("transferred") };
    assert_eq!(moved.transferred_to.agent_ids, Some(vec![SAM.to_owned()]));
    assert_eq!(moved.requester_id.as_deref(), Some(ALEX));
    let ClientEvent::UserAddedToChat(added) = next_event(&mut events).await else { panic!("Sam in") };
    assert_eq!(added.user.id(), SAM);
    let ClientEvent::UserRemovedFromChat(removed) = next_event(&mut events).await else { panic!("Alex out") };
    assert_eq!(removed.user_id, ALEX);

    let multicast = json!({"recipients": {"customers": {"ids": [me]}}, "content": {"sale": "20%"}, "type": "promo"});
    assert_eq!(server.agent("multicast", multicast).await.0, 200);
    let ClientEvent::IncomingMulticast(multicast) = next_event(&mut events).await else { panic!("multicast") };
    assert_eq!(multicast.content, json!({"sale": "20%"}));
    assert_eq!((multicast.author_id.as_deref(), multicast.kind.as_deref()), (Some(ALEX), Some("promo")));
}

#[tokio::test]
async fn postbacks_sneak_peeks_and_tickets_through_the_sdk() {
    use confab_sdk::protocol::action::Postback;
    use confab_sdk::protocol::entity::{FilledFormBody, FilledFormField};
    use confab_sdk::ticket::TicketForm;

    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;
    let rich = json!({"type": "rich_message", "template_id": "quick_replies", "elements": [{
        "title": "Which plan?",
        "buttons": [{"type": "message", "text": "Pro", "postback_id": "pick_pro", "value": "pro"}]
    }]});
    let (chat_id, thread_id, rich_id) = chat_joined_by_alex(&server, &client, &mut events, rich).await;
    let mut alex = AgentSocket::subscribe(&server, ALEX);

    let click = Postback { id: "pick_pro".into(), toggled: true };
    client.send_rich_message_postback(&chat_id, &thread_id, &rich_id, click.clone()).await.unwrap();
    let ClientEvent::IncomingRichMessagePostback(mine) = next_event(&mut events).await else { panic!("postback") };
    assert_eq!((mine.event_id.as_str(), &mine.postback), (rich_id.as_str(), &click));
    let theirs = alex.next().await;
    assert_eq!(theirs["action"], "incoming_rich_message_postback");
    assert_eq!(theirs["payload"]["postback"], json!({"id": "pick_pro", "toggled": true}));
    let unknown = Postback { id: "no_such_button".into(), toggled: true };
    let refused = client.send_rich_message_postback(&chat_id, &thread_id, &rich_id, unknown).await.unwrap_err();
    assert_eq!(refused.code(), "VALIDATION");

    // What the visitor is typing reaches Alex, not the visitor's own sockets.
    client.set_sneak_peek(&chat_id, "is the pro plan month");
    let peek = alex.next().await;
    assert_eq!(peek["action"], "incoming_sneak_peek", "{peek}");
    assert_eq!(peek["payload"]["sneak_peek"]["text"], "is the pro plan month");
    alex.silent().await;

    let field = |kind: &str, label: &str, answer: &str| FilledFormField {
        id: None,
        kind: kind.into(),
        label: label.into(),
        answer: Some(answer.into()),
        answers: None,
    };
    let filled = |fields| TicketForm {
        filled_form: FilledFormBody { form_id: "ticket".into(), fields },
        group_id: Some(0),
        time_zone: Some("Europe/Warsaw".into()),
    };
    let ticket = client
        .send_ticket_form(filled(vec![
            field("email", "Your email:", "ann@example.com"),
            field("textarea", "Your message:", "Where is my order?"),
        ]))
        .await
        .unwrap();
    let stored = server.server.as_ref().unwrap().state.domain.ticket(ticket["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(stored, Some((0, "ann@example.com".into(), "Your message: Where is my order?".into())));
    let missing_mail = client.send_ticket_form(filled(vec![field("textarea", "Your message:", "Hi")])).await;
    assert_eq!(missing_mail.unwrap_err().code(), "VALIDATION");
}

#[tokio::test]
async fn disconnect_holds_until_connect_and_the_chat_is_still_there() {
    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;
    let chat = client.start_chat(Some("before the break")).await.unwrap();

    client.disconnect();
    // A call racing the disconnect is sent and lost with the socket; later ones fail at once.
    let racing = client.get_customer().await.unwrap_err();
    assert!(["CONNECTION_LOST", "NO_CONNECTION"].contains(&racing.code().as_str()), "{racing}");
    assert_eq!(client.get_customer().await.unwrap_err().code(), "NO_CONNECTION");
    // Nothing reconnects on its own.
    while let Ok(event) = tokio::time::timeout(std::time::Duration::from_millis(300), events.next()).await {
        assert!(matches!(event, Some(ClientEvent::UserData(_))), "silent, not {event:?}");
    }

    client.connect();
    let ClientEvent::Connected { chats, .. } = next_event(&mut events).await else { panic!("connected again") };
    assert_eq!(chats.iter().map(|c| c.chat_id.as_str()).collect::<Vec<_>>(), [chat.id.as_str()]);
    let texts = client.get_chat(&chat.id, None).await.unwrap().thread.unwrap();
    assert_eq!(texts.events[0].text(), Some("before the break"));
}

#[tokio::test]
async fn availability_and_the_queue_arrive_as_typed_events_through_the_sdk() {
    use confab_sdk::Availability;
    use confab_server::limits::DEFAULT_MAX_CHATS_PER_AGENT;
    let server = TestServer::start().await;
    let set_status = |status: &'static str| {
        let server = &server;
        async move { assert_eq!(server.agent("set_routing_status", json!({"status": status})).await.0, 200) }
    };
    let (_watcher, mut watching) = confab_sdk::native::connect(Config::new(&server.url, ORG));
    let ClientEvent::Connected { availability, .. } = next_event(&mut watching).await else { panic!("connected") };
    assert_eq!(availability, Availability::Offline, "the only agent is offline");
    set_status("accepting_chats").await;
    let ClientEvent::AvailabilityUpdated { availability } = next_event(&mut watching).await else { panic!("online") };
    assert_eq!(availability, Availability::Online);

    // Alex takes as many chats as he may; the next two visitors wait in line.
    let mut served = Vec::new();
    for _ in 0..DEFAULT_MAX_CHATS_PER_AGENT {
        let (client, events) = connected(&server).await;
        served.push((client.start_chat(Some("hi")).await.unwrap().id, client, events));
    }
    let mut in_line = Vec::new();
    for position in [1, 2] {
        let (client, events) = connected(&server).await;
        let chat = client.start_chat(Some("anyone there?")).await.unwrap();
        assert_eq!(chat.thread.as_ref().unwrap().queue.as_ref().unwrap().position, position);
        in_line.push((chat, client, events));
    }
    assert_eq!(server.agent("deactivate_chat", json!({"id": served[0].0})).await.0, 200);
    let (chat, _, events) = &mut in_line[1];
    let moved = loop {
        match next_event(events).await {
            ClientEvent::QueuePositionUpdated(moved) => break moved,
            ClientEvent::AvailabilityUpdated { .. } => continue,
            other => panic!("expected the queue to move, got {other:?}"),
        }
    };
    assert_eq!((moved.chat_id.as_str(), moved.queue.position), (chat.id.as_str(), 1));

    // Filling up and freeing a slot kept the group online (online_for_queue, then online).
    set_status("offline").await;
    loop {
        match next_event(&mut watching).await {
            ClientEvent::AvailabilityUpdated { availability: Availability::Offline } => break,
            ClientEvent::AvailabilityUpdated { availability: Availability::Online } => continue,
            other => panic!("expected availability, got {other:?}"),
        }
    }
}
