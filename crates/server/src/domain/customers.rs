//! Customers and agents: the cookie grant, access tokens, login, agent tokens.
//!
//! Customer access tokens are signed, not stored:
//! `c1.<customer id>.<expiry, unix s>.<nonce>.<mac>`, where `mac` is HMAC-SHA256 over the rest with a key every node reads from the database.
//! Granting one writes nothing (a returning visitor costs one indexed read), and any node can
//! check one without a query. They cannot be revoked before they expire (`CUSTOMER_TOKEN_TTL`).

use super::chats::is_web_url;
use super::{Domain, DomainEvent, Members};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{
    MAX_CUSTOMER_NAME_BYTES, MAX_EMAIL_BYTES, MAX_PAGE_TITLE_BYTES, MAX_SESSION_FIELD_KEY_BYTES,
    MAX_SESSION_FIELD_VALUE_BYTES, MAX_SESSION_FIELDS,
};
use crate::store::{AgentSeed, Conn, CustomerRow, Store, random_secret};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confab_protocol::ErrorType;
use confab_protocol::action::{CustomerPage, CustomerUpdate, LoginChat};
use confab_protocol::entity::{Agent, Customer, SessionFields, Statistics};
use hmac::{Hmac, Mac};
use serde_json::Value;
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

    /// Refuses a banned customer (`customer_banned`). Records a visit (a login), applies the
    /// customer fields and the page the client sent (the same rules as `update_customer` and
    /// `update_customer_page`), and returns the customer with statistics, their chats, and the
    /// pushes the changes cause. Invalid customer fields fail the login (`validation`); a page
    /// that is not an http(s) page (a local file, say) is simply not counted.
    pub async fn login(
        &self,
        customer_id: &str,
        update: Option<&CustomerUpdate>,
        page: Option<&CustomerPage>,
    ) -> Result<(Customer, Vec<LoginChat>, Vec<DomainEvent>)> {
        if let Some(update) = update {
            validate_update(update)?;
        }
        let page = page.and_then(|page| valid_page(page).ok());
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        if let Some(until) = tx.ban_of(customer_id, now).await? {
            let message = format!("Customer is banned until {}", until.rfc3339());
            return Err(Error::new(confab_protocol::ErrorType::CustomerBanned, message));
        }
        // Counting the visit locks the customer's row (an upsert) until commit.
        tx.record_visit(customer_id, now).await?;
        let mut events = Vec::new();
        if update.is_some() || page.is_some() {
            let members = members_of_customer(&mut tx, customer_id).await?;
            if let Some(update) = update {
                events.extend(apply_update(&mut tx, customer_id, update, &members).await?);
            }
            if let Some((url, title)) = page {
                events.push(apply_page(&mut tx, customer_id, url, title, now, &members).await?);
            }
        }
        let row = tx.customer(customer_id).await?.ok_or_else(|| Error::authentication("Unknown customer"))?;
        let chats = tx
            .login_chats(customer_id)
            .await?
            .into_iter()
            .map(|(chat_id, active)| LoginChat { chat_id, has_unread_events: false, has_active_thread: Some(active) })
            .collect();
        self.commit(tx, &events).await?;
        Ok((customer_entity(row), chats, events))
    }

    /// `update_customer`: sets the fields given (name, email, avatar; session fields are
    /// merged by key) and pushes `customer_updated` to the agents of the customer's chat and
    /// the customer's other sockets. Nothing given, nothing pushed.
    pub async fn update_customer(&self, customer_id: &str, update: &CustomerUpdate) -> Result<Vec<DomainEvent>> {
        validate_update(update)?;
        let mut tx = self.store.write().await?;
        tx.lock_known_customer(customer_id).await?;
        let members = members_of_customer(&mut tx, customer_id).await?;
        let events: Vec<DomainEvent> =
            apply_update(&mut tx, customer_id, update, &members).await?.into_iter().collect();
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// `set_customer_session_fields`: `update_customer` with session fields only.
    pub async fn set_customer_session_fields(
        &self,
        customer_id: &str,
        session_fields: SessionFields,
    ) -> Result<Vec<DomainEvent>> {
        let update = CustomerUpdate { session_fields: Some(session_fields), ..Default::default() };
        self.update_customer(customer_id, &update).await
    }

    /// `update_customer_page`: counts a page view, remembers the page as the customer's last,
    /// and pushes `customer_page_updated` to the agents of their chat and to the customer.
    pub async fn update_customer_page(&self, customer_id: &str, page: &CustomerPage) -> Result<Vec<DomainEvent>> {
        let (url, title) = valid_page(page)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        tx.lock_known_customer(customer_id).await?;
        let members = members_of_customer(&mut tx, customer_id).await?;
        let events = vec![apply_page(&mut tx, customer_id, url, title, now, &members).await?];
        self.commit(tx, &events).await?;
        Ok(events)
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

    /// A customer, with statistics (`get_customer`).
    pub async fn customer(&self, id: &str) -> Result<Customer> {
        let row = self.store.read().await?.customer(id).await?;
        row.map(customer_entity).ok_or_else(|| Error::not_found(format!("Customer {id} not found")))
    }
}

/// A customer's statistics, from their stored counts: every counter is decided here.
impl Conn {
    /// Locks the customer's row until commit; `not_found` if there is no such customer.
    pub(super) async fn lock_known_customer(&mut self, customer_id: &str) -> Result<()> {
        if !self.lock_customer(customer_id).await? {
            return Err(Error::not_found(format!("Customer {customer_id} not found")));
        }
        Ok(())
    }
}

pub fn statistics(row: &CustomerRow) -> Statistics {
    Statistics {
        chats_count: row.chats_count.max(0) as u64,
        threads_count: row.threads_count.max(0) as u64,
        visits_count: row.visits_count.max(0) as u64,
        page_views_count: row.page_views_count.max(0) as u64,
        greetings_shown_count: row.greetings_shown_count.max(0) as u64,
        greetings_accepted_count: row.greetings_accepted_count.max(0) as u64,
    }
}

/// The customer entity (`login`, `get_customer`): their fields and statistics.
/// One entry of the agents file (`--agents-file`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentEntry {
    id: String,
    name: String,
    #[serde(default)]
    job_title: Option<String>,
    token: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    max_chats: Option<u32>,
}

/// Reads the agents file: each agent with their access token. Refuses (naming the entry) an
/// empty id or name, a token shorter than `MIN_AGENT_TOKEN_BYTES`, a role other than `agent` or
/// `administrator`, and an id or a token given twice.
pub fn parse_agents_file(text: &str) -> std::result::Result<Vec<(AgentSeed, String)>, String> {
    use crate::limits::{DEFAULT_MAX_CHATS_PER_AGENT, MAX_CHATS_PER_AGENT_SETTING, MIN_AGENT_TOKEN_BYTES};
    let entries: Vec<AgentEntry> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut agents: Vec<(AgentSeed, String)> = Vec::with_capacity(entries.len());
    for (n, entry) in entries.into_iter().enumerate() {
        let at = format!("agent {n} ({})", entry.id);
        if entry.id.trim().is_empty() || entry.name.trim().is_empty() {
            return Err(format!("{at}: `id` and `name` must not be empty"));
        }
        if entry.token.len() < MIN_AGENT_TOKEN_BYTES {
            return Err(format!("{at}: `token` must be at least {MIN_AGENT_TOKEN_BYTES} bytes"));
        }
        let role = entry.role.unwrap_or_else(|| "agent".to_owned());
        if role != "agent" && role != "administrator" {
            return Err(format!("{at}: `role` must be `agent` or `administrator`"));
        }
        if agents.iter().any(|(seed, token)| seed.id == entry.id || *token == entry.token) {
            return Err(format!("{at}: an id or a token given twice"));
        }
        let max_chats = entry.max_chats.unwrap_or(DEFAULT_MAX_CHATS_PER_AGENT);
        if !(1..=MAX_CHATS_PER_AGENT_SETTING).contains(&max_chats) {
            return Err(format!("{at}: `max_chats` must be 1–{MAX_CHATS_PER_AGENT_SETTING}"));
        }
        let job_title = entry.job_title.unwrap_or_default();
        let seed = AgentSeed { id: entry.id, name: entry.name, job_title, role, max_chats };
        agents.push((seed, entry.token));
    }
    Ok(agents)
}

pub(super) fn customer_entity(row: CustomerRow) -> Customer {
    Customer {
        statistics: Some(statistics(&row)),
        created_at: Some(Micros(row.created_at).rfc3339()),
        ..customer_fields(row)
    }
}

/// The customer's own fields, as `customer_updated` carries them.
fn customer_fields(row: CustomerRow) -> Customer {
    Customer {
        session_fields: Some(serde_json::from_str(&row.session_fields).unwrap_or_default()),
        id: row.id,
        name: row.name,
        email: row.email,
        avatar: row.avatar,
        ..Customer::default()
    }
}

/// Who hears of a customer's changes: the users of their chat (none without one).
async fn members_of_customer(tx: &mut Conn, customer_id: &str) -> Result<Members> {
    let mut members = match tx.chat_of_customer(customer_id).await? {
        Some(chat_id) => tx.members(&chat_id).await?,
        None => Members::default(),
    };
    for follower in tx.customer_followers(customer_id).await? {
        if !members.agents.contains(&follower) && !members.followers.contains(&follower) {
            members.followers.push(follower);
        }
    }
    Ok(members)
}

/// Applies a validated update to a locked customer; the `customer_updated` it causes, if any.
pub(super) async fn apply_update(
    tx: &mut Conn,
    customer_id: &str,
    update: &CustomerUpdate,
    members: &Members,
) -> Result<Option<DomainEvent>> {
    let CustomerUpdate { name, email, avatar, session_fields } = update;
    if name.is_none() && email.is_none() && avatar.is_none() && session_fields.is_none() {
        return Ok(None);
    }
    let merged = match session_fields {
        Some(fields) => {
            let row = tx.customer(customer_id).await?.ok_or_else(|| Error::not_found("Unknown customer"))?;
            let current: SessionFields = serde_json::from_str(&row.session_fields).unwrap_or_default();
            Some(serde_json::to_string(&merge_session_fields(current, fields)?).expect("session fields encode"))
        }
        None => None,
    };
    tx.update_customer(customer_id, name.as_deref(), email.as_deref(), avatar.as_deref(), merged.as_deref()).await?;
    let row = tx.customer(customer_id).await?.ok_or_else(|| Error::not_found("Unknown customer"))?;
    Ok(Some(DomainEvent::CustomerUpdated { customer: customer_fields(row), members: members.clone() }))
}

/// Counts a page view of a locked customer; the `customer_page_updated` it causes.
async fn apply_page(
    tx: &mut Conn,
    customer_id: &str,
    url: &str,
    title: Option<&str>,
    now: Micros,
    members: &Members,
) -> Result<DomainEvent> {
    tx.record_page_view(customer_id, url, title, now).await?;
    Ok(DomainEvent::CustomerPageUpdated {
        customer_id: customer_id.to_owned(),
        url: url.to_owned(),
        title: title.map(str::to_owned),
        opened_at: now.rfc3339(),
        members: Members {
            customers: Vec::new(),
            agents: members.agents.clone(),
            followers: members.followers.clone(),
        },
    })
}

/// Checks the fields of `update_customer` (and `login`'s `customer`).
pub(super) fn validate_update(update: &CustomerUpdate) -> Result<()> {
    if let Some(name) = &update.name
        && name.len() > MAX_CUSTOMER_NAME_BYTES
    {
        return Err(Error::validation(format!("`name` is longer than {MAX_CUSTOMER_NAME_BYTES} bytes")));
    }
    if let Some(email) = &update.email
        && !is_email(email)
    {
        return Err(Error::validation("`email` is not an email address"));
    }
    if let Some(avatar) = &update.avatar
        && !(avatar.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) && is_web_url(avatar))
    {
        return Err(Error::validation("`avatar` must be an https URL"));
    }
    if let Some(fields) = &update.session_fields {
        session_field_pairs(fields)?;
    }
    Ok(())
}

/// An address of the form `local@domain.tld`, without spaces, of at most `MAX_EMAIL_BYTES`.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@')
}

/// Session fields as `(key, value)` pairs: each an object of one key with a string value.
fn session_field_pairs(fields: &SessionFields) -> Result<Vec<(&str, &str)>> {
    fields
        .iter()
        .map(|field| {
            let mut entries = field.iter();
            match (entries.next(), entries.next()) {
                (Some((key, Value::String(value))), None) => Ok((key.as_str(), value.as_str())),
                _ => Err(Error::validation("Each session field must be an object of one key with a string value")),
            }
        })
        .collect()
}

/// `current` with `update`'s keys set (an existing key keeps its place), within the limits on
/// count and sizes (`customer_session_fields_limit_reached`).
fn merge_session_fields(mut current: SessionFields, update: &SessionFields) -> Result<SessionFields> {
    for (key, value) in session_field_pairs(update)? {
        if key.len() > MAX_SESSION_FIELD_KEY_BYTES || value.len() > MAX_SESSION_FIELD_VALUE_BYTES {
            return Err(Error::new(
                ErrorType::CustomerSessionFieldsLimitReached,
                format!(
                    "Session field keys take at most {MAX_SESSION_FIELD_KEY_BYTES} bytes, values \
                     {MAX_SESSION_FIELD_VALUE_BYTES}"
                ),
            ));
        }
        match current.iter_mut().find(|field| field.contains_key(key)) {
            Some(field) => {
                field.insert(key.to_owned(), Value::String(value.to_owned()));
            }
            None => current.push([(key.to_owned(), Value::String(value.to_owned()))].into_iter().collect()),
        }
    }
    if current.len() > MAX_SESSION_FIELDS {
        return Err(Error::new(
            ErrorType::CustomerSessionFieldsLimitReached,
            format!("A customer has at most {MAX_SESSION_FIELDS} session fields"),
        ));
    }
    Ok(current)
}

/// A page a customer opened: an http(s) URL and a title of bounded length.
fn valid_page(page: &CustomerPage) -> Result<(&str, Option<&str>)> {
    let url = page.url.as_deref().ok_or_else(|| Error::validation("`url` is required"))?;
    if !is_web_url(url) {
        return Err(Error::validation("`url` must be an http or https URL"));
    }
    if let Some(title) = &page.title
        && title.len() > MAX_PAGE_TITLE_BYTES
    {
        return Err(Error::validation(format!("`title` is longer than {MAX_PAGE_TITLE_BYTES} bytes")));
    }
    Ok((url, page.title.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_their_shape() {
        for good in ["ada@example.com", "a.b+c@mail.example.co.uk"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "ada", "@example.com", "ada@", "ada@example", "ada@.com", "a da@example.com", "ada@x..com"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn session_fields_merge_by_key_within_the_limits() {
        let field = |k: &str, v: &str| [(k.to_owned(), Value::String(v.to_owned()))].into_iter().collect();
        let merged =
            merge_session_fields(vec![field("a", "1"), field("b", "2")], &vec![field("a", "3"), field("c", "4")]);
        assert_eq!(merged.unwrap(), vec![field("a", "3"), field("b", "2"), field("c", "4")]);
        let full: SessionFields = (0..MAX_SESSION_FIELDS).map(|i| field(&format!("k{i}"), "v")).collect();
        assert!(merge_session_fields(full.clone(), &vec![field("k0", "w")]).is_ok(), "replacing one");
        let over = merge_session_fields(full, &vec![field("new", "v")]).unwrap_err();
        assert_eq!(over.to_api().kind, ErrorType::CustomerSessionFieldsLimitReached);
        let long = merge_session_fields(vec![], &vec![field("k", &"v".repeat(MAX_SESSION_FIELD_VALUE_BYTES + 1))]);
        assert_eq!(long.unwrap_err().to_api().kind, ErrorType::CustomerSessionFieldsLimitReached);
        let two_keys: SessionFields =
            vec![[("a".to_owned(), Value::from("1")), ("b".to_owned(), Value::from("2"))].into_iter().collect()];
        assert_eq!(merge_session_fields(vec![], &two_keys).unwrap_err().to_api().kind, ErrorType::Validation);
    }

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
