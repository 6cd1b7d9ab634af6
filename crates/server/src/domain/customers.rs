//! Customers and agents: the cookie grant, access tokens, login, agent tokens.
//!
//! Customer access tokens are signed, not stored:
//! `c1.<customer id>.<expiry, unix s>.<nonce>.<mac>`, where `mac` is HMAC-SHA256 over the rest with a key every node reads from the database.
//! Granting one writes nothing (a returning visitor costs one indexed read), and any node can
//! check one without a query. They cannot be revoked before they expire (`CUSTOMER_TOKEN_TTL`).

use super::Domain;
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::store::{AgentSeed, Store, random_secret};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confab_protocol::action::{CustomerUpdate, LoginChat};
use confab_protocol::entity::{Agent, Customer};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const TOKEN_VERSION: &str = "c1";
const IDENTITY_VERSION: &str = "i1";
const TOKEN_KEY_NAME: &str = "customer_token_key";

pub(super) struct TokenKey(Vec<u8>);

impl TokenKey {
    /// The cluster's key, created by the first node to start.
    pub(super) async fn load(store: &Store) -> Result<Self> {
        let mut tx = store.write().await?;
        let key = tx.server_secret(TOKEN_KEY_NAME, &random_secret()).await?;
        tx.commit().await?;
        Ok(TokenKey(key.into_bytes()))
    }

    fn mac(&self, claims: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(claims.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The identity cookie's secret for `customer_id`.
    fn identity_secret(&self, customer_id: &str) -> String {
        self.mac(&format!("{IDENTITY_VERSION}.{customer_id}"))
    }

    /// Whether `secret` is this key's identity secret for `customer_id` (in constant time).
    fn is_identity_secret(&self, customer_id: &str, secret: &str) -> bool {
        let Ok(secret) = URL_SAFE_NO_PAD.decode(secret) else {
            return false;
        };
        let mut check = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        check.update(format!("{IDENTITY_VERSION}.{customer_id}").as_bytes());
        check.verify_slice(&secret).is_ok()
    }

    fn sign(&self, customer_id: &str, expires_at: i64) -> String {
        // The nonce makes every grant's token distinct.
        let nonce: u64 = rand::random();
        let claims = format!("{TOKEN_VERSION}.{customer_id}.{expires_at}.{nonce:x}");
        let mac = self.mac(&claims);
        format!("{claims}.{mac}")
    }

    /// The claims of a token this key signed, expired or not.
    fn verify(&self, token: &str) -> Option<TokenClaims> {
        let (claims, mac) = token.rsplit_once('.')?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        check.update(claims.as_bytes());
        check.verify_slice(&URL_SAFE_NO_PAD.decode(mac).ok()?).ok()?;
        let mut parts = claims.split('.');
        let (TOKEN_VERSION, Some(customer_id), Some(expires_at), Some(_nonce), None) =
            (parts.next()?, parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(TokenClaims { customer_id: customer_id.to_owned(), expires_at: expires_at.parse().ok()? })
    }
}

/// Who a valid customer token names, and until when (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub customer_id: String,
    pub expires_at: i64,
}

/// The result of a cookie grant.
#[derive(Debug, Clone)]
pub struct Grant {
    pub customer_id: String,
    /// The identity cookie's secret (new, or the one presented).
    pub cookie_secret: String,
    pub access_token: String,
    pub expires_in: u64,
}

impl Domain {
    /// The customer whose identity cookies these are, if they match.
    pub async fn known_customer(&self, id: &str, secret: &str) -> Result<Option<String>> {
        if self.customer_tokens.is_identity_secret(id, secret) {
            return Ok(Some(id.to_owned()));
        }
        // A visitor from before identity secrets were derived: their secret is stored hashed.
        self.store.read().await?.customer_by_cookie(id, secret).await
    }

    /// The cookie grant: keeps the visitor's customer id when their cookies match (`known`),
    /// else gives them a new identity. Either way a fresh access token. Writes nothing.
    pub fn grant(&self, known: Option<(String, String)>) -> Grant {
        let (customer_id, cookie_secret) = known.unwrap_or_else(|| {
            let id = uuid::Uuid::new_v4().to_string();
            let secret = self.customer_tokens.identity_secret(&id);
            (id, secret)
        });
        let expires_at = self.clock.now().plus(self.customer_token_ttl).unix_seconds();
        let access_token = self.customer_tokens.sign(&customer_id, expires_at);
        Grant { customer_id, cookie_secret, access_token, expires_in: self.customer_token_ttl.as_secs() }
    }

    /// The customer an unexpired access token names.
    pub fn customer_for_token(&self, token: &str) -> Option<TokenClaims> {
        self.customer_tokens
            .verify(token)
            .filter(|claims| Micros::from_unix_seconds(claims.expires_at) > self.clock.now())
    }

    /// Records a visit (a login), applies the customer fields the client sent, and returns the
    /// customer with statistics and their chats, as `login` answers.
    pub async fn login(
        &self,
        customer_id: &str,
        update: Option<&CustomerUpdate>,
    ) -> Result<(Customer, Vec<LoginChat>)> {
        let name = update.and_then(|u| u.name.as_deref());
        let email = update.and_then(|u| u.email.as_deref());
        let mut tx = self.store.write().await?;
        tx.record_visit(customer_id, name, email, self.clock.now()).await?;
        let mut customer = tx.customer(customer_id).await?.ok_or_else(|| Error::authentication("Unknown customer"))?;
        let chats = tx
            .login_chats(customer_id)
            .await?
            .into_iter()
            .map(|(chat_id, active)| LoginChat { chat_id, has_unread_events: false, has_active_thread: Some(active) })
            .collect();
        tx.commit().await?;
        customer.session_fields = update.and_then(|u| u.session_fields.clone());
        Ok((customer, chats))
    }

    /// Creates the agent if missing (in group 0) and sets its access token.
    pub async fn upsert_agent(&self, seed: &AgentSeed, token: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let new = tx.agent(&seed.id).await?.is_none();
        tx.upsert_agent(seed, token).await?;
        if new {
            tx.add_group_agent(super::DEFAULT_GROUP, &seed.id).await?;
        }
        tx.commit().await
    }

    /// The agent an access token belongs to.
    pub async fn agent_for_token(&self, token: &str) -> Result<Option<Agent>> {
        self.store.read().await?.agent_for_token(token).await
    }

    /// A customer, with statistics.
    pub async fn customer(&self, id: &str) -> Result<Customer> {
        self.store.read().await?.customer(id).await?.ok_or_else(|| Error::not_found(format!("Customer {id} not found")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_secrets_belong_to_one_customer_and_one_key() {
        let key = TokenKey(b"k1".to_vec());
        let secret = key.identity_secret("c-1");
        assert!(key.is_identity_secret("c-1", &secret));
        assert!(!key.is_identity_secret("c-2", &secret), "another customer's id");
        assert!(!TokenKey(b"k2".to_vec()).is_identity_secret("c-1", &secret), "another cluster's key");
        assert!(!key.is_identity_secret("c-1", "guessed") && !key.is_identity_secret("c-1", ""));
    }

    #[test]
    fn a_token_verifies_only_with_its_key_and_unchanged() {
        let key = TokenKey(b"k1".to_vec());
        let token = key.sign("0b6e6a8e-1c1f-4e51-9d0e-6d2f5d1f7a00", 1_900_000_000);
        let claims = key.verify(&token).unwrap();
        assert_eq!(claims.customer_id, "0b6e6a8e-1c1f-4e51-9d0e-6d2f5d1f7a00");
        assert_eq!(claims.expires_at, 1_900_000_000);
        assert_eq!(TokenKey(b"k2".to_vec()).verify(&token), None, "another cluster's key");
        assert_ne!(token, key.sign("0b6e6a8e-1c1f-4e51-9d0e-6d2f5d1f7a00", 1_900_000_000), "every grant is distinct");
        let forged = token.replace("1900000000", "1999999999");
        assert_eq!(key.verify(&forged), None, "a changed expiry");
        for garbage in ["", ".", "c1..", "c1.a.b.c", "Bearer x", &format!("c2{}", &token[2..])] {
            assert_eq!(key.verify(garbage), None, "{garbage:?}");
        }
    }
}
