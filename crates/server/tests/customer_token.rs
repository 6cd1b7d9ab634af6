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
    assert_ne!(first["access_token"], second["access_token"], "every grant is a new token");
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

/// A widget framed by another site, in a browser that blocks third-party cookies: no cookie
/// ever comes back, so it keeps the identity the body returns and sends it with each grant.
#[tokio::test]
async fn a_visitor_without_cookies_keeps_their_identity_in_the_body() {
    let server = TestServer::start().await;
    let grant = |extra: serde_json::Value| {
        let url = format!("{}/v2/customer/token", server.url);
        let mut body = json!({"grant_type":"cookie","organization_id":ORG});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        // A fresh client each time: no cookie jar, as with the cookies blocked.
        async move { reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };

    let first = grant(json!({"keep_identity": true})).await;
    let identity = first["identity"].clone();
    assert_eq!(identity["entity_id"], first["entity_id"], "{first}");
    assert!(identity["secret"].as_str().is_some_and(|s| s.len() >= 20), "{first}");

    let again = grant(json!({"keep_identity": true, "identity": identity})).await;
    assert_eq!(again["entity_id"], first["entity_id"], "the kept identity names the same customer");
    assert_eq!(again["identity"], identity);
    assert_ne!(again["access_token"], first["access_token"]);

    let forged = json!({"entity_id": first["entity_id"], "secret": "guessed"});
    let stranger = grant(json!({"keep_identity": true, "identity": forged})).await;
    assert_ne!(stranger["entity_id"], first["entity_id"], "a guessed secret is a new customer");

    // Only a client that asks gets the secret: the Customer SDK's stays in HttpOnly cookies.
    let plain = grant(json!({})).await;
    assert!(plain.get("identity").is_none(), "{plain}");
    let named_but_not_kept = grant(json!({"identity": identity})).await;
    assert_eq!(named_but_not_kept["entity_id"], first["entity_id"]);
    assert!(named_but_not_kept.get("identity").is_none(), "{named_but_not_kept}");
}

#[tokio::test]
async fn the_v2_endpoint_and_license_ids_are_accepted() {
    let server = TestServer::start().await;
    let body = json!({"grant_type":"cookie","response_type":"token","client_id":"x","license_id":12345678}).to_string();
    let response =
        reqwest::Client::new().post(format!("{}/customer/token", server.url)).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/customer;") && cookie.contains("HttpOnly"), "{cookie}");
    // A loopback origin is a secure context, so the cookies are the ones a third-party frame
    // keeps where third-party cookies are blocked: partitioned by the embedding site (CHIPS).
    assert!(cookie.contains("SameSite=None; Secure; Partitioned"), "{cookie}");
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

/// Posts a cookie grant with extra headers; returns the status, the body and whether a cookie
/// was set.
async fn grant_with(server: &TestServer, headers: &[(&str, &str)]) -> (u16, serde_json::Value, bool) {
    let body = json!({"grant_type":"cookie","organization_id":ORG}).to_string();
    let mut request = reqwest::Client::new().post(format!("{}/v2/customer/token", server.url)).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let sets_cookie = response.headers().get("set-cookie").is_some();
    (status, response.json().await.unwrap(), sets_cookie)
}

#[tokio::test]
async fn a_foreign_origin_gets_no_token_and_no_cookie() {
    // Regression: any website could mint tokens and renew identity cookies in a visitor's
    // browser; the socket refused foreign origins, the token endpoint did not.
    let server = TestServer::start_with(&["--allowed-origin", "https://shop.example"]).await;
    let (status, body, sets_cookie) = grant_with(&server, &[("origin", "https://evil.example")]).await;
    assert_eq!(status, 403);
    assert!(body["identity_exception"].as_str().unwrap().contains("https://evil.example"), "{body}");
    assert!(body.get("access_token").is_none() && !sets_cookie);
    let (status, body, sets_cookie) = grant_with(&server, &[("origin", "https://shop.example")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(sets_cookie);
}

#[tokio::test]
async fn grants_and_new_customers_are_limited_per_client_address() {
    // Regression: anyone could create customers without bound.
    let server = TestServer::start_with(&[
        "--token-grants-per-second",
        "1",
        "--token-grant-burst",
        "6",
        "--new-customers-per-second",
        "1",
        "--new-customer-burst",
        "2",
    ])
    .await;
    let returning = server.visitor();
    assert_eq!(returning.token().await["token_type"], "Bearer");
    // Two new customers, then the third is refused; a returning visitor is not new.
    assert_eq!(grant_with(&server, &[]).await.0, 200);
    let (status, body, sets_cookie) = grant_with(&server, &[]).await;
    assert_eq!((status, body, sets_cookie), (429, json!({"oauth_exception":"too_many_requests"}), false));
    assert_eq!(returning.token().await["token_type"], "Bearer", "known cookies still get tokens");
    // Grants of any kind stop at the grant burst: 4 so far (3 new tries, 1 returning), 2 more.
    assert_eq!(returning.token().await["token_type"], "Bearer");
    assert_eq!(returning.token().await["token_type"], "Bearer");
    assert_eq!(returning.token().await["oauth_exception"], "too_many_requests");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let server = TestServer::start_with(&[
        "--trusted-proxy",
        "127.0.0.1",
        "--new-customers-per-second",
        "1",
        "--new-customer-burst",
        "1",
    ])
    .await;
    let from = |client: &'static str| [("x-forwarded-for", client)];
    assert_eq!(grant_with(&server, &from("203.0.113.1")).await.0, 200);
    assert_eq!(grant_with(&server, &from("203.0.113.1")).await.0, 429);
    assert_eq!(grant_with(&server, &from("203.0.113.2")).await.0, 200, "another client behind the proxy");
    // A client cannot escape its limit by claiming addresses: the proxy appends the real one.
    assert_eq!(grant_with(&server, &from("198.51.100.7, 203.0.113.1")).await.0, 429);
}
