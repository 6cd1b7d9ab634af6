//! `POST /v2/customer/token`: the cookie grant over real HTTP.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_returning_visitor_keeps_the_customer_id_and_gets_a_fresh_token() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let first = visitor.token().await;
    let second = visitor.token().await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 28800);
    assert_eq!(first["entity_id"], second["entity_id"], "same cookies, same customer");
    assert_ne!(first["access_token"], second["access_token"], "tokens are random");
    assert!(first["access_token"].as_str().unwrap().len() >= 40);

    let stranger = server.visitor().token().await;
    assert_ne!(stranger["entity_id"], first["entity_id"], "no cookies, new customer");
}

#[tokio::test]
async fn forged_identity_cookies_get_a_new_customer() {
    let server = TestServer::start().await;
    let victim = server.visitor().token().await;
    let body = json!({"grant_type":"cookie","organization_id":ORG}).to_string();
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v2/customer/token", server.url))
        .header("cookie", format!("__lc_cid={}; __lc_cst=guessed", victim["entity_id"].as_str().unwrap()))
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(response["entity_id"], victim["entity_id"]);
}

#[tokio::test]
async fn the_v2_endpoint_and_license_ids_are_accepted() {
    let server = TestServer::start().await;
    let body = json!({"grant_type":"cookie","response_type":"token","client_id":"x","license_id":12345678}).to_string();
    let response = reqwest::Client::new().post(format!("{}/customer/token", server.url)).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/customer;") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn bad_requests_get_the_documented_exception_bodies() {
    let server = TestServer::start().await;
    let post = |body: String| {
        let url = format!("{}/v2/customer/token", server.url);
        async move {
            let response = reqwest::Client::new().post(url).body(body).send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    assert_eq!(post("not json".into()).await, (400, json!({"oauth_exception":"invalid_request"})));
    assert_eq!(
        post(json!({"grant_type":"password","organization_id":ORG}).to_string()).await,
        (400, json!({"oauth_exception":"unsupported_grant_type"}))
    );
    assert_eq!(
        post(json!({"grant_type":"cookie","organization_id":"00000000-0000-4000-8000-000000000000"}).to_string()).await,
        (401, json!({"identity_exception":"invalid organization_id"}))
    );
}

#[tokio::test]
async fn an_allowed_origin_gets_credentialed_cors_and_others_do_not() {
    let server = TestServer::start_with(&["--allowed-origin", "https://shop.example"]).await;
    let call = |origin: &'static str| {
        let url = format!("{}/v2/customer/token", server.url);
        async move {
            let body = json!({"grant_type":"cookie","organization_id":ORG}).to_string();
            let response = reqwest::Client::new().post(url).header("origin", origin).body(body).send().await.unwrap();
            let allow = response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
            let credentials = response.headers().get("access-control-allow-credentials").is_some();
            (allow, credentials)
        }
    };
    assert_eq!(call("https://shop.example").await, (Some("https://shop.example".into()), true));
    assert_eq!(call("https://evil.example").await.0, None);
}
