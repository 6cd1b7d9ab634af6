//! What browsers load, over a real listener: the loader compressed for every page view, the
//! widget's files sent as the precompressed copies beside them, and the demo checkout page
//! under a strict policy with a fresh nonce for each response.

mod common;

use common::TestServer;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_SECURITY_POLICY};

const LOADER: &str = include_str!("../../../loader/confab.min.js");

#[tokio::test]
async fn the_loader_is_sent_compressed_to_browsers_that_take_it_and_plain_to_others() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/confab.js", server.url);

    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.headers().get(CONTENT_ENCODING), None);
    assert_eq!(plain.text().await.unwrap(), LOADER);

    for encoding in ["gzip", "br"] {
        let compressed = client.get(&url).header(ACCEPT_ENCODING, encoding).send().await.unwrap();
        assert_eq!(compressed.headers().get(CONTENT_ENCODING).unwrap(), encoding);
        let body = compressed.bytes().await.unwrap();
        // As served, within the loader's budget (bench/sizes.sh).
        assert!(body.len() <= 2048, "{encoding}: {} of {} bytes", body.len(), LOADER.len());
    }
}

#[tokio::test]
async fn widget_files_are_sent_as_their_precompressed_copies() {
    let widget = tempfile::tempdir().unwrap();
    std::fs::write(widget.path().join("confab_widget.js"), "export default 1;").unwrap();
    std::fs::write(widget.path().join("confab_widget.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(widget.path().join("confab_widget.js.br"), b"brotli bytes").unwrap();
    let server = TestServer::start_with(&["--widget-dir", widget.path().to_str().unwrap()]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/widget/confab_widget.js", server.url);

    for (accepts, encoding, body) in [("gzip", "gzip", "gzip bytes"), ("gzip, br", "br", "brotli bytes")] {
        let response = client.get(&url).header(ACCEPT_ENCODING, accepts).send().await.unwrap();
        assert_eq!(response.headers().get(CONTENT_ENCODING).unwrap(), encoding, "{accepts}");
        assert!(response.headers().contains_key(CONTENT_SECURITY_POLICY), "the widget's own policy");
        assert_eq!(response.text().await.unwrap(), body);
    }
    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.headers().get(CONTENT_ENCODING), None);
    assert_eq!(plain.text().await.unwrap(), "export default 1;");
}

#[tokio::test]
async fn the_checkout_page_has_a_strict_policy_with_a_fresh_nonce_each_time() {
    let server = TestServer::start().await;
    let site = format!("http://{}/checkout.html", server.server.as_ref().unwrap().site_addr.unwrap());
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = reqwest::get(&site).await.unwrap();
        let csp = response.headers().get(CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
        let page = response.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
        assert_eq!(nonce.len(), 32);
        assert!(csp.contains(&format!("style-src 'nonce-{nonce}';")), "{csp}");
        assert!(csp.contains("require-trusted-types-for 'script'; trusted-types 'none'"), "{csp}");
        assert!(page.contains(&format!(r#"<script src="{}/confab.js" nonce="{nonce}""#, server.url)), "{page}");
        assert!(page.contains(&format!(r#"<style nonce="{nonce}">"#)));
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
}
