//! The routing and ticket wire types: the Agent Web API's routing statuses, and the ticket
//! endpoint's bodies, as the references write them.

use confab_protocol::agent::{AgentRoutingStatus, ListRoutingStatusesRequest, RoutingStatus, SetRoutingStatusRequest};
use confab_protocol::ticket::{TicketErrors, TicketRequest};
use serde_json::json;

#[test]
fn routing_statuses_read_and_write_as_the_reference_shows() {
    let req: SetRoutingStatusRequest =
        serde_json::from_value(json!({"status": "accepting_chats", "agent_id": "smith@example.com"})).unwrap();
    assert_eq!((req.status, req.agent_id.as_deref()), (RoutingStatus::AcceptingChats, Some("smith@example.com")));
    for status in [RoutingStatus::AcceptingChats, RoutingStatus::NotAcceptingChats, RoutingStatus::Offline] {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
        assert_eq!(RoutingStatus::parse(status.as_str()), Some(status));
    }
    assert!(serde_json::from_value::<SetRoutingStatusRequest>(json!({"status": "away"})).is_err());
    // Fields Confab does not use are tolerated (integrations send them).
    let extra: SetRoutingStatusRequest = serde_json::from_value(json!({"status": "offline", "x": 1})).unwrap();
    assert_eq!(extra.status, RoutingStatus::Offline);
    let list: ListRoutingStatusesRequest = serde_json::from_value(json!({"filters": {"group_ids": [0]}})).unwrap();
    assert_eq!(list.filters.unwrap().group_ids, Some(vec![0]));
    let answer =
        vec![AgentRoutingStatus { agent_id: "smith@example.com".into(), status: RoutingStatus::AcceptingChats }];
    assert_eq!(
        serde_json::to_value(answer).unwrap(),
        json!([{"agent_id": "smith@example.com", "status": "accepting_chats"}])
    );
}

#[test]
fn tickets_read_what_sdk_v2_sends_and_errors_have_the_documented_shape() {
    let body = json!({
        "licence_id": 123, "ticket_message": "Your message: hi", "offline_message": "Your name: Ann\nYour message: hi",
        "visitor_id": "v-1", "requester": {"name": "Ann", "mail": "ann@example.com"}, "group": 2,
        "source": {"url": "https://shop.example/"}, "timezone": "Europe/Warsaw", "subject": "Hello"
    });
    let ticket: TicketRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(ticket.requester.as_ref().unwrap().mail.as_deref(), Some("ann@example.com"));
    assert_eq!(serde_json::to_value(&ticket).unwrap(), body, "round trips");
    assert_eq!(
        serde_json::to_value(TicketErrors::one("incorrect requester structure", "mail is required")).unwrap(),
        json!({"errors": [{"incorrect requester structure": ["mail is required"]}]})
    );
}
