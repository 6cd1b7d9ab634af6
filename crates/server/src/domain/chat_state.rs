//! A chat's state beside its events: rich message postbacks (a click on a button), seen
//! markers, and sneak peeks (what a customer is typing, for agents; never stored).

use super::chats::{inactive, not_found};
use super::properties::event_not_found;
use super::{Domain, DomainEvent, Requester};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{MAX_CUSTOM_ID_BYTES, MAX_SNEAK_PEEK_TEXT_BYTES};
use confab_protocol::action::Postback;
use confab_protocol::entity::{Event, EventBody};

impl Domain {
    /// Records a click on a rich message button: the event must be a rich message of that
    /// thread of the chat, with a button whose `postback_id` is the postback's id. Stored per
    /// user (the latest state of each button); pushed to the chat's agents and the user's
    /// other sockets.
    pub async fn send_rich_message_postback(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        postback: Postback,
    ) -> Result<Vec<DomainEvent>> {
        if postback.id.is_empty() || postback.id.len() > MAX_CUSTOM_ID_BYTES {
            return Err(Error::validation(format!("`postback.id` must be 1–{MAX_CUSTOM_ID_BYTES} bytes")));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        tx.lock_chat(requester, chat_id).await?;
        let stored = tx
            .event_in_thread(chat_id, thread_id, event_id)
            .await?
            .filter(|e| requester.is_agent() || e.visibility == "all")
            .ok_or_else(|| event_not_found(event_id))?;
        let event: Event = serde_json::from_str(&stored.event).map_err(|_| event_not_found(event_id))?;
        let EventBody::RichMessage(rich) = &event.body else {
            return Err(Error::validation(format!("Event {event_id} is not a rich message")));
        };
        let has_button = rich
            .elements
            .iter()
            .flat_map(|element| element.buttons.iter().flatten())
            .any(|button| button.postback_id.as_deref() == Some(postback.id.as_str()));
        if !has_button {
            return Err(Error::validation(format!(
                "Event {event_id} has no button with postback id `{}`",
                postback.id
            )));
        }
        let user_id = requester.id();
        tx.upsert_postback(chat_id, thread_id, event_id, user_id, &postback.id, postback.toggled, now).await?;
        let members = tx.members(chat_id).await?;
        let events = vec![DomainEvent::RichMessagePostback {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.to_owned(),
            event_id: event_id.to_owned(),
            user_id: user_id.to_owned(),
            postback,
            members,
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Moves the requester's seen marker in the chat forward to `seen_up_to` (RFC 3339; a
    /// time ahead of the server's clock counts as now). A marker never moves back: an earlier
    /// time changes nothing and pushes nothing. Returns the marker as it stands.
    pub async fn mark_events_as_seen(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        seen_up_to: &str,
    ) -> Result<(String, Vec<DomainEvent>)> {
        let at = Micros::parse_rfc3339(seen_up_to)
            .ok_or_else(|| Error::validation("`seen_up_to` must be an RFC 3339 time"))?
            .min(self.clock.now());
        let mut tx = self.store.write().await?;
        tx.lock_chat(requester, chat_id).await?;
        let current = tx
            .events_seen_up_to(chat_id, requester.id())
            .await?
            .ok_or_else(|| Error::not_found(format!("You are not a user of chat {chat_id}")))?;
        let mut events = Vec::new();
        let standing = if tx.advance_events_seen(chat_id, requester.id(), at).await? {
            let members = tx.members(chat_id).await?;
            events.push(DomainEvent::EventsSeen {
                chat_id: chat_id.to_owned(),
                user_id: requester.id().to_owned(),
                seen_up_to: at.rfc3339(),
                members,
            });
            at
        } else {
            Micros(current.unwrap_or(at.0))
        };
        self.commit(tx, &events).await?;
        Ok((standing.rfc3339(), events))
    }

    /// What the customer is typing in their active chat, for its agents. Nothing is stored; on
    /// PostgreSQL the push reaches the other nodes through the bus like any other.
    pub async fn send_sneak_peek(&self, customer_id: &str, chat_id: &str, text: &str) -> Result<Vec<DomainEvent>> {
        if text.len() > MAX_SNEAK_PEEK_TEXT_BYTES {
            return Err(Error::validation(format!(
                "`sneak_peek_text` is longer than {MAX_SNEAK_PEEK_TEXT_BYTES} bytes"
            )));
        }
        let timestamp = self.clock.now().unix_seconds().max(0) as u64;
        self.announce(Requester::Customer(customer_id), chat_id, |thread_id, members| DomainEvent::SneakPeek {
            chat_id: chat_id.to_owned(),
            thread_id,
            author_id: customer_id.to_owned(),
            text: text.to_owned(),
            timestamp,
            members,
        })
        .await
    }

    /// An agent started or stopped typing in an active chat: for its customer (unless
    /// `agents_only`) and its other agents. Not stored, like a sneak peek.
    pub async fn send_typing_indicator(
        &self,
        agent_id: &str,
        chat_id: &str,
        is_typing: bool,
        agents_only: bool,
    ) -> Result<Vec<DomainEvent>> {
        let timestamp = self.clock.now().unix_seconds().max(0) as u64;
        self.announce(Requester::Agent(agent_id), chat_id, |thread_id, members| DomainEvent::TypingIndicator {
            chat_id: chat_id.to_owned(),
            thread_id,
            author_id: agent_id.to_owned(),
            is_typing,
            agents_only,
            timestamp,
            members,
        })
        .await
    }

    /// A change that is announced, not stored (typing, sneak peeks), in the requester's active
    /// chat. Only the announcement is written, and only when a recipient may be listening on
    /// another node.
    async fn announce(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        event: impl FnOnce(String, super::Members) -> DomainEvent,
    ) -> Result<Vec<DomainEvent>> {
        let mut db = self.store.read().await?;
        let chat = db
            .chat(chat_id)
            .await?
            .filter(|c| requester.is_agent() || c.customer_id == requester.id())
            .ok_or_else(|| not_found(chat_id))?;
        let thread = db.last_thread(&chat.id).await?.filter(|t| t.active).ok_or_else(|| inactive(chat_id))?;
        let members = db.members(chat_id).await?;
        let needs_bus = db.needs_bus();
        drop(db);
        let events = vec![event(thread.id, members)];
        if needs_bus {
            self.commit(self.store.write().await?, &events).await?;
        }
        Ok(events)
    }
}
