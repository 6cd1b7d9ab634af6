//! Agents as accounts: several agents from the agents file, each with their own token and
//! role and chat limit; routing statuses decide who gets new chats, and two agents share them
//! by the rule (fewest active chats first, none beyond an agent's `max_chats`); a multicast to
//! a group reaches that group's agents.

mod common;

use common::*;
use confab_server::domain::parse_agents_file;
use serde_json::{Value, json};

const SAM_TOKEN: &str = "sam-token-0123456789";
const KIM_TOKEN: &str = "kim-token-0123456789";

/// Alex (administrator, groups 0 and 1), Sam (agent, group 0, one chat at most), Kim
/// (administrator, group 1).
async fn with_agents_file() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let agents = dir.path().join("agents.json");
    let list = json!([
        {"id": SAM, "name": "Sam Lee", "job_title": "Support", "token": SAM_TOKEN, "max_chats": 1},
        {"id": KIM, "name": "Kim Park", "token": KIM_TOKEN, "role": "administrator"}
    ]);
    std::fs::write(&agents, list.to_string()).unwrap();
    let groups = dir.path().join("groups.json");
    std::fs::write(&groups, json!([{"id": 1, "name": "Sales", "agents": [ALEX, KIM]}]).to_string()).unwrap();
    let args = ["--agents-file", agents.to_str().unwrap(), "--groups-file", groups.to_str().unwrap()];
    (TestServer::start_with(&args).await, dir)
}

const KIM: &str = "kim@confab.example";

/// Alex starts a chat with a new customer in `group`; its id.
async fn chat_in_group(server: &TestServer, group: u32) -> String {
    let (status, customer) = server.agent("create_customer", json!({"name": "Visitor"})).await;
    assert_eq!(status, 200, "{customer}");
    let users = json!([{"id": customer["customer_id"], "type": "customer"}]);
    let body = json!({"chat": {"users": users, "access": {"group_ids": [group]}}});
    let (status, started) = server.agent("start_chat", body).await;
    assert_eq!(status, 200, "{started}");
    started["chat_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_sees_the_chats_of_their_groups_and_those_they_are_in_an_administrator_all() {
    let (server, _dir) = with_agents_file().await;
    let general = chat_in_group(&server, 0).await;
    let sales = chat_in_group(&server, 1).await;
    let found = |token: &'static str| {
        let server = &server;
        async move {
            let (status, page) = as_agent(server, token, "list_chats", json!({})).await;
            assert_eq!(status, 200, "{page}");
            let mut ids: Vec<String> = page["chats_summary"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut both = vec![general.clone(), sales.clone()];
    both.sort();
    assert_eq!(found(AGENT_TOKEN).await, both, "an administrator sees every group (chats--all)");
    assert_eq!(found(KIM_TOKEN).await, both);
    assert_eq!(found(SAM_TOKEN).await, [general.as_str()], "an agent sees their groups' (chats--access)");
    let archived = |token: &'static str| {
        let server = &server;
        async move { as_agent(server, token, "list_archives", json!({})).await.1["found_chats"].as_u64() }
    };
    assert_eq!((archived(AGENT_TOKEN).await, archived(SAM_TOKEN).await), (Some(2), Some(1)), "archives too");

    // Sam reaches the Sales chat in no way until he is one of its users.
    for (action, body) in [
        ("get_chat", json!({"chat_id": sales})),
        ("list_threads", json!({"chat_id": sales})),
        ("send_event", json!({"chat_id": sales, "event": {"type": "message", "text": "hi"}})),
        ("follow_chat", json!({"id": sales})),
        ("deactivate_chat", json!({"id": sales, "ignore_requester_presence": true})),
    ] {
        let (status, error) = as_agent(&server, SAM_TOKEN, action, body).await;
        assert_eq!((status, error["error"]["type"].as_str()), (403, Some("missing_access")), "{action}: {error}");
    }
    let (status, customer) = server.agent("create_customer", json!({})).await;
    assert_eq!(status, 200);
    let users = json!([{"id": customer["customer_id"], "type": "customer"}]);
    let in_sales = json!({"chat": {"users": users, "access": {"group_ids": [1]}}});
    let (status, error) = as_agent(&server, SAM_TOKEN, "start_chat", in_sales).await;
    assert_eq!((status, error["error"]["type"].as_str()), (403, Some("missing_access")), "{error}");
    let in_general = json!({"chat": {"users": users}});
    assert_eq!(as_agent(&server, SAM_TOKEN, "start_chat", in_general).await.0, 200, "his own group");

    let added = json!({"chat_id": sales, "user_id": SAM, "user_type": "agent", "visibility": "all"});
    let (status, body) = server.agent("add_user_to_chat", added).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(as_agent(&server, SAM_TOKEN, "get_chat", json!({"chat_id": sales})).await.0, 200);
    assert!(found(SAM_TOKEN).await.contains(&sales), "a chat he is in");
}

async fn as_agent(server: &TestServer, token: &str, action: &str, body: Value) -> (u16, Value) {
    server.agent_with_token(action, body, Some(token)).await
}

#[tokio::test]
async fn each_agent_of_the_file_has_their_own_token_and_role() {
    let (server, _dir) = with_agents_file().await;
    let (status, statuses) = as_agent(&server, SAM_TOKEN, "list_routing_statuses", json!({})).await;
    assert_eq!(status, 200, "{statuses}");
    let ids: Vec<&str> = statuses.as_array().unwrap().iter().map(|s| s["agent_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ALEX, KIM, SAM]);
    assert_eq!(as_agent(&server, KIM_TOKEN, "list_chats", json!({})).await.0, 200);
    assert_eq!(as_agent(&server, "sam-token-wrong-0000", "list_chats", json!({})).await.0, 401);

    // Roles: an administrator configures webhooks, an agent may not.
    let url = format!("{}/v3.6/configuration/action/list_webhooks", server.url);
    for (token, status) in [(KIM_TOKEN, 200), (AGENT_TOKEN, 200), (SAM_TOKEN, 403)] {
        let response = reqwest::Client::new().post(&url).bearer_auth(token).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{token}");
    }
}

#[tokio::test]
async fn two_accepting_agents_share_new_chats_and_none_goes_to_who_does_not_accept() {
    let (server, _dir) = with_agents_file().await;
    for token in [AGENT_TOKEN, SAM_TOKEN] {
        assert_eq!(as_agent(&server, token, "set_routing_status", json!({"status": "accepting_chats"})).await.0, 200);
    }
    // Kim does not accept chats: none goes to them.
    let mut visitors = Vec::new();
    for n in 0..4 {
        let (mut rtm, _, _) = Rtm::logged_in(&server).await;
        let started = rtm
            .request(
                "start_chat",
                json!({"chat": {"thread": {"events": [{"type": "message", "text": format!("q{n}")}]}}}),
            )
            .await;
        visitors.push((rtm, started["payload"]["chat_id"].as_str().unwrap().to_owned()));
    }
    let mut load = std::collections::BTreeMap::new();
    for (_, chat_id) in &visitors {
        let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
        let agents: Vec<String> = chat["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["type"] == "agent")
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(agents.len(), 1, "{chat}");
        *load.entry(agents[0].clone()).or_insert(0) += 1;
    }
    // Alex, Sam (fewest first, ties by id), then Alex twice: Sam takes one chat at most.
    assert_eq!(
        load,
        [(ALEX.to_owned(), 3), (SAM.to_owned(), 1)].into_iter().collect(),
        "fewest first, up to max_chats"
    );

    // Sam stops accepting and Alex goes offline: the next chat goes to nobody.
    assert_eq!(
        as_agent(&server, SAM_TOKEN, "set_routing_status", json!({"status": "not_accepting_chats"})).await.0,
        200
    );
    assert_eq!(server.agent("set_routing_status", json!({"status": "offline"})).await.0, 200);
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let started = rtm.request("start_chat", json!({})).await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap();
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert!(chat["users"].as_array().unwrap().iter().all(|u| u["type"] != "agent"), "{chat}");
}

#[test]
fn a_bad_agents_file_is_refused_naming_the_entry() {
    let ok = parse_agents_file(r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef"}]"#).unwrap();
    assert_eq!((ok[0].0.role.as_str(), ok[0].1.as_str()), ("agent", "0123456789abcdef"));
    for (text, says) in [
        (r#"[{"id": "a@x", "name": "A", "token": "short"}]"#, "at least 16 bytes"),
        (r#"[{"id": "", "name": "A", "token": "0123456789abcdef"}]"#, "must not be empty"),
        (r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef", "role": "owner"}]"#, "`role`"),
        (r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef", "max_chats": 0}]"#, "`max_chats` must be 1–100"),
        (r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef", "max_chats": 101}]"#, "`max_chats`"),
        (
            r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef"}, {"id": "a@x", "name": "B", "token": "fedcba9876543210"}]"#,
            "twice",
        ),
        (r#"[{"id": "a@x", "name": "A", "token": "0123456789abcdef", "password": "x"}]"#, "unknown field"),
        (r#"{"id": "a@x"}"#, "invalid type"),
    ] {
        let error = parse_agents_file(text).unwrap_err();
        assert!(error.contains(says), "{text}: {error}");
    }
}

#[tokio::test]
async fn a_multicast_to_a_group_reaches_the_agents_of_that_group_only() {
    let (server, _dir) = with_agents_file().await;
    let mut alex = AgentSocket::subscribe(&server, ALEX);
    let mut kim = AgentSocket::subscribe(&server, KIM);
    let mut sam = AgentSocket::subscribe(&server, SAM);
    let body = json!({"recipients": {"agents": {"groups": [1]}}, "content": {"shift": "late"}});
    let (status, reply) = server.agent("multicast", body).await;
    assert_eq!((status, &reply), (200, &json!({})));
    for socket in [&mut alex, &mut kim] {
        let push = socket.next().await;
        assert_eq!(
            (push["action"].as_str(), &push["payload"]["content"]),
            (Some("incoming_multicast"), &json!({"shift": "late"}))
        );
    }
    sam.silent().await;
    let body = json!({"recipients": {"agents": {"groups": [1, 7]}}, "content": 1});
    let (status, reply) = server.agent("multicast", body).await;
    assert_eq!((status, reply["error"]["type"].as_str()), (404, Some("group_not_found")), "{reply}");
    alex.silent().await;
}
