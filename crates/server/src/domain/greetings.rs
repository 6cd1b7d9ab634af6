//! Greetings (protocol.md §9.6, §12; SDK docs `acceptGreeting`, `cancelGreeting`) and the
//! operations that end a customer's sessions: bans and remote logouts.
//!
//! A greeting is an invitation to chat, shown before the customer writes. It comes from an
//! agent (`send_greeting`, a Confab extension of the Agent Web API) or from a greeting rule
//! (text, agent, "the page URL contains", a delay on the page), evaluated when the customer
//! logs in and when their page changes. A greeting is `pending` until its delay has passed
//! (the node's `greeter` wakes on the server's `Clock`), then `shown` (`incoming_greeting`),
//! then `accepted` or `canceled`. Showing a greeting cancels the one shown before it
//! (`greeting_canceled`, as the SDK docs describe). A rule greets a customer at most once per
//! `GREETING_RULE_PERIOD`: a unique index decides, even between nodes.
//!
//! **Accepting starts the chat.** The SDK docs say `acceptGreeting` tells the server that the
//! customer saw the greeting and took it up; Confab then opens the conversation the greeting
//! invited to: the greeting's agent joins the customer's chat and the greeting's message
//! becomes its first event (a new chat, or a new thread of their inactive chat, or the next
//! event of their active one). Every socket of the customer gets `greeting_accepted` and
//! `incoming_chat` (or `user_added_to_chat` / `incoming_event`) as ordinary pushes, without
//! the request's id, so the SDK emits them as events; the response settles the request.
//!
//! Counts (`greeting_counts`): shown = greetings ever shown to the customer, accepted = those
//! they accepted; both feed `customer.statistics`.

use super::chats::members_of;
use super::views::{access, parse_properties};
use super::{Domain, DomainEvent, Requester};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{
    GREETING_RULE_PERIOD, GREETING_RULES_CACHE_TTL, MAX_BAN_DAYS, MAX_GREETING_DELAY, MAX_GREETING_RULES,
    MAX_MESSAGE_TEXT_BYTES,
};
use crate::store::{Conn, GreetingRow, GreetingRuleRow, random_id};
use confab_protocol::ErrorType;
use confab_protocol::action::InitialChat;
use confab_protocol::entity::{Agent, Chat, Event, Greeting, User};
use confab_protocol::push::reason;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The template id of a greeting an agent sends by hand (rules' greetings carry the rule's id).
pub const AGENT_GREETING_TEMPLATE_ID: u64 = 0;

/// The greeting subtypes (SDK v4: `greeting` by default, or `announcement`).
const SUBTYPES: [&str; 2] = ["greeting", "announcement"];

/// One greeting rule, as `--greetings-file` lists them (a JSON array). Rules are numbered
/// 1, 2, … in the file's order; the number is the greetings' template id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreetingRule {
    /// The greeting's message.
    pub text: String,
    /// The agent it comes from.
    pub agent_id: String,
    /// Shown on pages whose URL contains this; empty: on every page.
    #[serde(default)]
    pub url_contains: String,
    /// Seconds on the page before it is shown.
    #[serde(default)]
    pub delay_secs: u64,
    /// `greeting` (default) or `announcement`.
    #[serde(default)]
    pub subtype: Option<String>,
}

/// The greetings after a login or a page change.
#[derive(Debug, Clone, Default)]
pub struct PageGreetings {
    /// Greetings shown or canceled by it, for fan-out.
    pub events: Vec<DomainEvent>,
    /// The greeting the customer is shown now (`login`'s `greeting`).
    pub current: Option<Greeting>,
    /// When the customer's next pending greeting is due: the greeter's next alarm.
    pub next_due: Option<Micros>,
}

fn greeting_not_found(unique_id: &str) -> Error {
    Error::new(ErrorType::GreetingNotFound, format!("Greeting {unique_id} not found"))
}

fn check_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::validation("Greeting text must not be empty"));
    }
    if text.len() > MAX_MESSAGE_TEXT_BYTES {
        return Err(Error::validation(format!("Greeting text is longer than {MAX_MESSAGE_TEXT_BYTES} bytes")));
    }
    Ok(())
}

fn check_subtype(subtype: Option<&str>) -> Result<&'static str> {
    match subtype {
        None => Ok(SUBTYPES[0]),
        Some(given) => SUBTYPES
            .into_iter()
            .find(|s| *s == given)
            .ok_or_else(|| Error::validation(format!("`subtype` must be one of {SUBTYPES:?}"))),
    }
}

/// The greeting's message event, as the customer sees it.
fn greeting_event(unique_id: &str, agent_id: &str, text: &str, now: Micros) -> Event {
    let mut event = Event::message(text);
    event.id = Some(unique_id.to_owned());
    event.author_id = Some(agent_id.to_owned());
    event.created_at = Some(now.rfc3339());
    event.visibility = Some("all".into());
    event
}

impl Conn {
    /// The greeting as the wire shows it.
    async fn wire_greeting(&mut self, row: &GreetingRow, displayed_first_time: bool) -> Result<Greeting> {
        let agent = self
            .agent(&row.agent_id)
            .await?
            .unwrap_or_else(|| Agent { id: row.agent_id.clone(), ..Default::default() });
        let event = serde_json::from_str(&row.event).map_err(|e| Error::validation(format!("Stored greeting: {e}")))?;
        Ok(Greeting {
            id: row.template_id as u64,
            unique_id: row.unique_id.clone(),
            displayed_first_time,
            accepted: Some(row.state == "accepted"),
            subtype: Some(row.subtype.clone()),
            event,
            agent: Agent { is_bot: Some(false), ..agent },
            addon: None,
        })
    }

    /// Shows the customer's newest greeting whose time has come (the older ones due with it are
    /// dropped unseen) and cancels the one shown before it.
    async fn show_due_greetings(&mut self, customer_id: &str, now: Micros) -> Result<Vec<DomainEvent>> {
        let due = self.due_greetings(customer_id, now).await?;
        let Some((newest, older)) = due.split_last() else {
            return Ok(Vec::new());
        };
        if !self.move_greeting(&newest.unique_id, "pending", "shown", now).await? {
            return Ok(Vec::new()); // another socket or node showed it
        }
        for unseen in older {
            self.move_greeting(&unseen.unique_id, "pending", "canceled", now).await?;
        }
        let mut events = Vec::new();
        for shown in self.shown_greetings(customer_id).await? {
            if shown.unique_id != newest.unique_id
                && self.move_greeting(&shown.unique_id, "shown", "canceled", now).await?
            {
                events.push(DomainEvent::GreetingCanceled {
                    customer_id: customer_id.to_owned(),
                    unique_id: shown.unique_id,
                });
            }
        }
        let shown = GreetingRow { state: "shown".into(), shown_at: Some(now.0), ..newest.clone() };
        let greeting = self.wire_greeting(&shown, true).await?;
        events.push(DomainEvent::GreetingShown { customer_id: customer_id.to_owned(), greeting });
        Ok(events)
    }

    /// The greeting the customer is being shown, if any.
    async fn current_greeting(&mut self, customer_id: &str) -> Result<Option<Greeting>> {
        match self.shown_greetings(customer_id).await?.first() {
            Some(row) => Ok(Some(self.wire_greeting(row, false).await?)),
            None => Ok(None),
        }
    }
}

impl Domain {
    /// Replaces the greeting rules (on start, from `--greetings-file`).
    pub async fn set_greeting_rules(&self, rules: &[GreetingRule]) -> Result<()> {
        if rules.len() > MAX_GREETING_RULES {
            return Err(Error::validation(format!("At most {MAX_GREETING_RULES} greeting rules")));
        }
        let mut tx = self.store.write().await?;
        let mut rows = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            check_text(&rule.text)?;
            let subtype = check_subtype(rule.subtype.as_deref())?;
            if Duration::from_secs(rule.delay_secs) > MAX_GREETING_DELAY {
                return Err(Error::validation(format!("A greeting's delay is at most {MAX_GREETING_DELAY:?}")));
            }
            if tx.agent(&rule.agent_id).await?.is_none() {
                return Err(Error::not_found(format!("Agent {} not found", rule.agent_id)));
            }
            rows.push(GreetingRuleRow {
                id: i as i64 + 1,
                agent_id: rule.agent_id.clone(),
                text: rule.text.clone(),
                url_contains: rule.url_contains.clone(),
                delay_secs: rule.delay_secs as i64,
                subtype: subtype.to_owned(),
            });
        }
        tx.replace_greeting_rules(&rows).await?;
        tx.commit().await?;
        // This node reads the new rules at once; others within `GREETING_RULES_CACHE_TTL`.
        *self.greeted_pages.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// An agent greets a customer at once (`send_greeting`). `not_found` for an unknown
    /// customer (one who never logged in).
    pub async fn send_greeting(
        &self,
        agent_id: &str,
        customer_id: &str,
        text: &str,
        subtype: Option<&str>,
    ) -> Result<(Greeting, Vec<DomainEvent>)> {
        check_text(text)?;
        let subtype = check_subtype(subtype)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        if !tx.customer_exists(customer_id).await? {
            return Err(Error::not_found(format!("Customer {customer_id} not found")));
        }
        let unique_id = random_id(10);
        let event = greeting_event(&unique_id, agent_id, text, now);
        let row = GreetingRow {
            unique_id: unique_id.clone(),
            template_id: AGENT_GREETING_TEMPLATE_ID as i64,
            customer_id: customer_id.to_owned(),
            agent_id: agent_id.to_owned(),
            rule_id: None,
            period: None,
            event: serde_json::to_string(&event).expect("events always encode"),
            subtype: subtype.to_owned(),
            state: "pending".into(),
            due_at: now.0,
            shown_at: None,
            created_at: now.0,
        };
        tx.insert_greeting(&row).await?;
        let events = tx.show_due_greetings(customer_id, now).await?;
        let greeting = events
            .iter()
            .find_map(|e| match e {
                DomainEvent::GreetingShown { greeting, .. } if greeting.unique_id == unique_id => {
                    Some(greeting.clone())
                }
                _ => None,
            })
            .ok_or_else(|| Error::new(ErrorType::Internal, "The greeting was not shown"))?;
        self.commit(tx, &events).await?;
        Ok((greeting, events))
    }

    /// Evaluates the greeting rules for the page the customer is on (at login, and on
    /// `update_customer_page`): makes the greetings of the rules that match, shows those due,
    /// and says which greeting the customer sees now and when the next one is due.
    pub async fn greet_on_page(&self, customer_id: &str, url: Option<&str>) -> Result<PageGreetings> {
        let now = self.clock.now();
        let url = url.unwrap_or("");
        // The common case (no rule matches, nothing due) writes nothing.
        let matching: Vec<GreetingRuleRow> = {
            let mut db = self.store.read().await?;
            let matching: Vec<_> =
                db.greeting_rules().await?.into_iter().filter(|r| url.contains(r.url_contains.as_str())).collect();
            if matching.is_empty() {
                let next_due = db.next_greeting_due(customer_id).await?;
                if next_due.is_none_or(|due| due > now) {
                    return Ok(PageGreetings {
                        events: Vec::new(),
                        current: db.current_greeting(customer_id).await?,
                        next_due,
                    });
                }
            }
            matching
        };
        let period = now.0 / GREETING_RULE_PERIOD.as_micros() as i64;
        let mut tx = self.store.write().await?;
        for rule in matching {
            let unique_id = random_id(10);
            let event = greeting_event(&unique_id, &rule.agent_id, &rule.text, now);
            let row = GreetingRow {
                unique_id,
                template_id: rule.id,
                customer_id: customer_id.to_owned(),
                agent_id: rule.agent_id,
                rule_id: Some(rule.id),
                period: Some(period),
                event: serde_json::to_string(&event).expect("events always encode"),
                subtype: rule.subtype,
                state: "pending".into(),
                due_at: now.plus(Duration::from_secs(rule.delay_secs as u64)).0,
                shown_at: None,
                created_at: now.0,
            };
            tx.insert_greeting(&row).await?;
        }
        let events = tx.show_due_greetings(customer_id, now).await?;
        let current = match events.iter().rev().find_map(|e| match e {
            DomainEvent::GreetingShown { greeting, .. } => Some(greeting.clone()),
            _ => None,
        }) {
            Some(shown) => Some(shown),
            None => tx.current_greeting(customer_id).await?,
        };
        let next_due = tx.next_greeting_due(customer_id).await?;
        self.commit(tx, &events).await?;
        Ok(PageGreetings { events, current, next_due })
    }

    /// Whether a greeting rule matches a page at `url` (for any visitor: the loader's question
    /// before it loads the widget on a site that shows greetings).
    /// Read from the rules as they were at most `GREETING_RULES_CACHE_TTL` ago.
    pub async fn greets_page(&self, url: &str) -> Result<bool> {
        let now = self.clock.now();
        let fresh = |read_at: Micros| now < read_at.plus(GREETING_RULES_CACHE_TTL);
        let cached = self.greeted_pages.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let patterns = match cached {
            Some((read_at, patterns)) if fresh(read_at) => patterns,
            _ => {
                let rules = self.store.read().await?.greeting_rules().await?;
                let patterns = std::sync::Arc::new(rules.into_iter().map(|r| r.url_contains).collect::<Vec<_>>());
                *self.greeted_pages.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, patterns.clone()));
                patterns
            }
        };
        Ok(patterns.iter().any(|pattern| url.contains(pattern.as_str())))
    }

    /// Shows the customer's greetings whose delay has passed (the greeter calls this when their
    /// time comes); returns the events and when the next one is due.
    pub async fn show_due_greetings(&self, customer_id: &str) -> Result<(Vec<DomainEvent>, Option<Micros>)> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let events = tx.show_due_greetings(customer_id, now).await?;
        let next_due = tx.next_greeting_due(customer_id).await?;
        self.commit(tx, &events).await?;
        Ok((events, next_due))
    }

    /// The greeting the customer is shown now, if any.
    pub async fn current_greeting(&self, customer_id: &str) -> Result<Option<Greeting>> {
        self.store.read().await?.current_greeting(customer_id).await
    }

    /// The customer's shown greeting `unique_id` (of template `greeting_id`, when given), in a
    /// state that may still be answered.
    async fn answerable(
        tx: &mut Conn,
        customer_id: &str,
        unique_id: &str,
        greeting_id: Option<u64>,
    ) -> Result<GreetingRow> {
        let row = tx
            .greeting(unique_id)
            .await?
            .filter(|g| g.customer_id == customer_id && g.state != "pending")
            .filter(|g| greeting_id.is_none_or(|id| g.template_id as u64 == id))
            .ok_or_else(|| greeting_not_found(unique_id))?;
        match row.state.as_str() {
            "shown" => Ok(row),
            state => Err(Error::validation(format!("Greeting {unique_id} was already {state}"))),
        }
    }

    /// The customer accepts a greeting: it is counted, every socket of theirs learns it, and
    /// the chat it invited to starts (see the module's notes).
    pub async fn accept_greeting(
        &self,
        customer_id: &str,
        greeting_id: u64,
        unique_id: &str,
    ) -> Result<Vec<DomainEvent>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let row = Self::answerable(&mut tx, customer_id, unique_id, Some(greeting_id)).await?;
        if !tx.move_greeting(unique_id, "shown", "accepted", now).await? {
            return Err(Error::validation(format!("Greeting {unique_id} was already answered")));
        }
        let mut events = vec![DomainEvent::GreetingAccepted {
            customer_id: customer_id.to_owned(),
            unique_id: unique_id.to_owned(),
        }];
        let stored: Event =
            serde_json::from_str(&row.event).map_err(|e| Error::validation(format!("Stored greeting: {e}")))?;
        let message = Event { id: None, created_at: None, author_id: None, seq: None, ..stored };
        events.extend(self.chat_from_greeting(&mut tx, customer_id, unique_id, &row.agent_id, message, now).await?);
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Opens (or continues) the customer's chat with the greeting's agent and message, and
    /// notes the thread on the greeting (`list_archives` `filters.greetings`).
    async fn chat_from_greeting(
        &self,
        tx: &mut Conn,
        customer_id: &str,
        unique_id: &str,
        agent_id: &str,
        message: Event,
        now: Micros,
    ) -> Result<Vec<DomainEvent>> {
        let (chat_id, properties, group) = match tx.chat_of_customer(customer_id).await? {
            None => {
                let chat_id = random_id(10);
                if !tx.insert_chat(&chat_id, customer_id, "{}", now).await? {
                    return Err(Error::new(ErrorType::ChatLimitReached, "The customer's chat was started meanwhile"));
                }
                tx.add_chat_user(&chat_id, customer_id, "customer").await?;
                (chat_id, "{}".to_owned(), i64::from(super::DEFAULT_GROUP))
            }
            Some(chat_id) => {
                let locked = tx.lock_chat(Requester::Customer(customer_id), &chat_id).await?;
                if let Some(thread_id) = locked.active_thread().map(str::to_owned) {
                    // The conversation is on: the agent joins it and the greeting is its next event.
                    let mut events = Vec::with_capacity(2);
                    let joined = tx.add_chat_user(&chat_id, agent_id, "agent").await?;
                    let event = tx.append_event(&chat_id, &thread_id, agent_id, message, now).await?;
                    tx.set_greeting_thread(unique_id, &thread_id).await?;
                    let members = tx.members(&chat_id).await?;
                    if joined {
                        let mut agent = tx
                            .agent(agent_id)
                            .await?
                            .unwrap_or_else(|| Agent { id: agent_id.to_owned(), ..Default::default() });
                        agent.present = Some(true);
                        events.push(DomainEvent::UserAdded {
                            chat_id: chat_id.clone(),
                            thread_id: thread_id.clone(),
                            user: User::Agent(agent),
                            requester_id: customer_id.to_owned(),
                            agents_only: false,
                            members: members.clone(),
                        });
                    }
                    events.push(DomainEvent::EventAdded { chat_id, thread_id, event, members });
                    return Ok(events);
                }
                (chat_id, locked.chat.properties, locked.chat.group_id)
            }
        };
        tx.add_chat_user(&chat_id, agent_id, "agent").await?;
        let (thread, _, users) = tx
            .open_thread(Requester::Agent(agent_id), &chat_id, group, &InitialChat::default(), vec![message], now)
            .await?;
        tx.set_greeting_thread(unique_id, &thread.id).await?;
        let members = members_of(&users);
        let chat = Chat {
            id: chat_id,
            users,
            properties: parse_properties(&properties),
            access: access(group),
            thread: Some(thread),
        };
        Ok(vec![DomainEvent::ChatStarted { chat, requester_id: customer_id.to_owned(), members }])
    }

    /// The customer dismisses a greeting (`greeting_canceled` to every socket of theirs).
    pub async fn cancel_greeting(&self, customer_id: &str, unique_id: &str) -> Result<Vec<DomainEvent>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        Self::answerable(&mut tx, customer_id, unique_id, None).await?;
        if !tx.move_greeting(unique_id, "shown", "canceled", now).await? {
            return Err(Error::validation(format!("Greeting {unique_id} was already answered")));
        }
        let events = vec![DomainEvent::GreetingCanceled {
            customer_id: customer_id.to_owned(),
            unique_id: unique_id.to_owned(),
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// `(shown, accepted)`: the greetings the customer was shown, and those they accepted.
    pub async fn greeting_counts(&self, customer_id: &str) -> Result<(u64, u64)> {
        self.store.read().await?.greeting_counts(customer_id).await
    }

    /// Bans the customer for `days` (Agent Web API `ban_customer`): every socket of theirs, on
    /// every node, gets `customer_banned` and closes; their logins and token grants are
    /// refused until the ban ends (by the server's clock).
    pub async fn ban_customer(&self, customer_id: &str, days: u32) -> Result<Vec<DomainEvent>> {
        if days == 0 || days > MAX_BAN_DAYS {
            return Err(Error::validation(format!("`ban.days` must be 1 to {MAX_BAN_DAYS}")));
        }
        let now = self.clock.now();
        let until = now.plus(Duration::from_secs(u64::from(days) * 24 * 60 * 60));
        let mut tx = self.store.write().await?;
        if !tx.customer_exists(customer_id).await? {
            return Err(Error::not_found(format!("Customer {customer_id} not found")));
        }
        tx.ban_customer(customer_id, until, now).await?;
        let events = vec![DomainEvent::CustomerDisconnected {
            customer_id: customer_id.to_owned(),
            reason: reason::CUSTOMER_BANNED.to_owned(),
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Until when the customer is banned, if they are now.
    pub async fn ban_of(&self, customer_id: &str) -> Result<Option<Micros>> {
        self.store.read().await?.ban_of(customer_id, self.clock.now()).await
    }

    /// Ends every session of the customer (`logout_customer`, a Confab extension): their
    /// sockets, on every node, get `logged_out_remotely` and close.
    pub async fn logout_customer(&self, customer_id: &str) -> Result<Vec<DomainEvent>> {
        let mut tx = self.store.write().await?;
        if !tx.customer_exists(customer_id).await? {
            return Err(Error::not_found(format!("Customer {customer_id} not found")));
        }
        let events = vec![DomainEvent::CustomerDisconnected {
            customer_id: customer_id.to_owned(),
            reason: reason::LOGGED_OUT_REMOTELY.to_owned(),
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }
}
