//! Properties of chats, threads and events: `{namespace: {name: value}}`. An update merges names
//! into what is there; a delete removes names (and a namespace left empty). Either pushes the
//! change (`*_properties_updated` / `*_deleted`) to every member of the chat.
//!
//! A requester changes properties of a chat they may see (a customer: their own); a thread must
//! belong to the chat and an event to the thread, else `not_found`. Threads need not be active:
//! customers rate a chat after it ended (the SDK's `rateChat` is `update_thread_properties` with
//! `{"rating": {"score", "comment"}}` on the latest thread, `cancelRate` deletes those names).

use super::views::parse_properties;
use super::{Domain, DomainEvent, Requester};
use crate::error::{Error, Result};
use crate::limits::{
    MAX_PROPERTIES, MAX_PROPERTIES_BYTES, MAX_PROPERTY_NAME_BYTES, MAX_PROPERTY_NAMESPACE_BYTES,
    MAX_RATING_COMMENT_BYTES,
};
use confab_protocol::entity::{Properties, PropertyNames};
use serde_json::Value;

/// The namespace of a chat rating (protocol.md §7, `rateChat`).
const RATING: &str = "rating";

fn check_key(key: &str, limit: usize, what: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::validation(format!("A property {what} must not be empty")));
    }
    if key.len() > limit {
        return Err(Error::validation(format!("A property {what} is longer than {limit} bytes")));
    }
    Ok(())
}

/// A property value: a string, number or boolean, or an array of them.
fn is_value(value: &Value) -> bool {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        Value::Array(items) => items.iter().all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))),
        Value::Null | Value::Object(_) => false,
    }
}

/// Checks properties a client wants to set: `{namespace: {name: value}}`, keys non-empty and
/// short, values plain, a rating well formed, and the whole within the limits. `{}` passes
/// (an event or a new chat may carry it); an update must name something (`Change::validate`).
pub(super) fn validate(properties: &Properties) -> Result<()> {
    for (namespace, names) in properties {
        check_key(namespace, MAX_PROPERTY_NAMESPACE_BYTES, "namespace")?;
        let Value::Object(names) = names else {
            return Err(Error::validation(format!("Properties of namespace `{namespace}` must be an object")));
        };
        if names.is_empty() {
            return Err(Error::validation(format!("Namespace `{namespace}` names no property")));
        }
        for (name, value) in names {
            check_key(name, MAX_PROPERTY_NAME_BYTES, "name")?;
            if !is_value(value) {
                return Err(Error::validation(format!(
                    "Property `{namespace}.{name}` must be a string, number or boolean (or an array of them)"
                )));
            }
        }
        if namespace == RATING {
            validate_rating(names)?;
        }
    }
    within_limits(properties)
}

/// `{"score": 0|1, "comment": "…"}`: bad (0) or good (1), and a short comment.
fn validate_rating(rating: &serde_json::Map<String, Value>) -> Result<()> {
    for (name, value) in rating {
        match (name.as_str(), value) {
            ("score", Value::Number(n)) if n.as_u64().is_some_and(|s| s <= 1) => {}
            ("score", _) => return Err(Error::validation("A rating's score must be 0 (bad) or 1 (good)")),
            ("comment", Value::String(c)) if c.len() <= MAX_RATING_COMMENT_BYTES => {}
            ("comment", Value::String(_)) => {
                return Err(Error::validation(format!(
                    "A rating's comment is longer than {MAX_RATING_COMMENT_BYTES} bytes"
                )));
            }
            ("comment", _) => return Err(Error::validation("A rating's comment must be a string")),
            (other, _) => return Err(Error::validation(format!("A rating has a score and a comment, not `{other}`"))),
        }
    }
    Ok(())
}

fn validate_names(names: &PropertyNames) -> Result<()> {
    if names.is_empty() || names.values().all(Vec::is_empty) {
        return Err(Error::validation("`properties` must name at least one property to delete"));
    }
    for (namespace, names) in names {
        check_key(namespace, MAX_PROPERTY_NAMESPACE_BYTES, "namespace")?;
        for name in names {
            check_key(name, MAX_PROPERTY_NAME_BYTES, "name")?;
        }
    }
    Ok(())
}

/// Whether a whole set of properties (one entity's) fits the limits.
fn within_limits(properties: &Properties) -> Result<()> {
    let count: usize = properties.values().map(|names| names.as_object().map_or(0, |n| n.len())).sum();
    if count > MAX_PROPERTIES {
        return Err(Error::validation(format!("At most {MAX_PROPERTIES} properties per chat, thread or event")));
    }
    if Value::Object(properties.clone()).to_string().len() > MAX_PROPERTIES_BYTES {
        return Err(Error::validation(format!(
            "Properties of one chat, thread or event take at most {MAX_PROPERTIES_BYTES} bytes"
        )));
    }
    Ok(())
}

/// `current` with `update`'s names set.
pub fn merged(current: Option<Properties>, update: &Properties) -> Result<Properties> {
    let mut properties = current.unwrap_or_default();
    for (namespace, names) in update {
        let entry = properties.entry(namespace.clone()).or_insert_with(|| Value::Object(Default::default()));
        if !entry.is_object() {
            *entry = Value::Object(Default::default());
        }
        let into = entry.as_object_mut().expect("made an object");
        for (name, value) in names.as_object().into_iter().flatten() {
            into.insert(name.clone(), value.clone());
        }
    }
    within_limits(&properties)?;
    Ok(properties)
}

/// `current` without `names` (and without namespaces left empty).
pub fn without(current: Option<Properties>, names: &PropertyNames) -> Properties {
    let mut properties = current.unwrap_or_default();
    for (namespace, names) in names {
        if let Some(Value::Object(values)) = properties.get_mut(namespace) {
            for name in names {
                values.remove(name);
            }
            if values.is_empty() {
                properties.remove(namespace);
            }
        }
    }
    properties
}

/// What a properties change does to the stored properties.
enum Change<'a> {
    Update(&'a Properties),
    Delete(&'a PropertyNames),
}

impl Change<'_> {
    fn validate(&self) -> Result<()> {
        match self {
            Change::Update(properties) if properties.is_empty() => {
                Err(Error::validation("`properties` must name at least one namespace"))
            }
            Change::Update(properties) => validate(properties),
            Change::Delete(names) => validate_names(names),
        }
    }

    fn apply(&self, current: Option<Properties>) -> Result<Properties> {
        match self {
            Change::Update(properties) => merged(current, properties),
            Change::Delete(names) => Ok(without(current, names)),
        }
    }
}

fn json(properties: Properties) -> String {
    Value::Object(properties).to_string()
}

impl Domain {
    pub async fn update_chat_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        properties: Properties,
    ) -> Result<Vec<DomainEvent>> {
        self.chat_properties(requester, chat_id, Change::Update(&properties)).await
    }

    pub async fn delete_chat_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        names: PropertyNames,
    ) -> Result<Vec<DomainEvent>> {
        self.chat_properties(requester, chat_id, Change::Delete(&names)).await
    }

    async fn chat_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        change: Change<'_>,
    ) -> Result<Vec<DomainEvent>> {
        change.validate()?;
        let mut tx = self.store.write().await?;
        let locked = tx.lock_chat(requester, chat_id).await?;
        let properties = change.apply(parse_properties(&locked.chat.properties))?;
        tx.set_chat_properties(chat_id, &json(properties)).await?;
        let members = tx.members(chat_id).await?;
        let chat_id = chat_id.to_owned();
        let event = match change {
            Change::Update(p) => DomainEvent::ChatPropertiesUpdated { chat_id, properties: p.clone(), members },
            Change::Delete(n) => DomainEvent::ChatPropertiesDeleted { chat_id, properties: n.clone(), members },
        };
        let events = vec![event];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    pub async fn update_thread_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        properties: Properties,
    ) -> Result<Vec<DomainEvent>> {
        self.thread_properties(requester, chat_id, thread_id, Change::Update(&properties)).await
    }

    pub async fn delete_thread_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        names: PropertyNames,
    ) -> Result<Vec<DomainEvent>> {
        self.thread_properties(requester, chat_id, thread_id, Change::Delete(&names)).await
    }

    async fn thread_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        change: Change<'_>,
    ) -> Result<Vec<DomainEvent>> {
        change.validate()?;
        let mut tx = self.store.write().await?;
        tx.lock_chat(requester, chat_id).await?;
        let thread = tx.thread(chat_id, thread_id).await?.ok_or_else(|| thread_not_found(thread_id))?;
        let properties = change.apply(parse_properties(&thread.properties))?;
        tx.set_thread_properties(thread_id, &json(properties)).await?;
        let members = tx.members(chat_id).await?;
        let (chat_id, thread_id) = (chat_id.to_owned(), thread_id.to_owned());
        let event = match change {
            Change::Update(p) => {
                DomainEvent::ThreadPropertiesUpdated { chat_id, thread_id, properties: p.clone(), members }
            }
            Change::Delete(n) => {
                DomainEvent::ThreadPropertiesDeleted { chat_id, thread_id, properties: n.clone(), members }
            }
        };
        let events = vec![event];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    pub async fn update_event_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        properties: Properties,
    ) -> Result<Vec<DomainEvent>> {
        self.event_properties(requester, chat_id, thread_id, event_id, Change::Update(&properties)).await
    }

    pub async fn delete_event_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        names: PropertyNames,
    ) -> Result<Vec<DomainEvent>> {
        self.event_properties(requester, chat_id, thread_id, event_id, Change::Delete(&names)).await
    }

    async fn event_properties(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        change: Change<'_>,
    ) -> Result<Vec<DomainEvent>> {
        change.validate()?;
        let mut tx = self.store.write().await?;
        tx.lock_chat(requester, chat_id).await?;
        let stored = tx
            .event_in_thread(chat_id, thread_id, event_id)
            .await?
            .filter(|e| requester.is_agent() || e.visibility == "all")
            .ok_or_else(|| event_not_found(event_id))?;
        // The stored JSON is kept as it is but for its properties (fields a newer version
        // wrote survive).
        let mut event: serde_json::Map<String, Value> =
            serde_json::from_str(&stored.event).map_err(|_| event_not_found(event_id))?;
        let current = match event.remove("properties") {
            Some(Value::Object(properties)) => Some(properties),
            _ => None,
        };
        let properties = change.apply(current)?;
        if !properties.is_empty() {
            event.insert("properties".into(), Value::Object(properties));
        }
        tx.set_event_json(event_id, &Value::Object(event).to_string()).await?;
        let members = tx.members(chat_id).await?;
        let internal = stored.visibility != "all";
        let (chat_id, thread_id, event_id) = (chat_id.to_owned(), thread_id.to_owned(), event_id.to_owned());
        let event = match change {
            Change::Update(p) => DomainEvent::EventPropertiesUpdated {
                chat_id,
                thread_id,
                event_id,
                properties: p.clone(),
                internal,
                members,
            },
            Change::Delete(n) => DomainEvent::EventPropertiesDeleted {
                chat_id,
                thread_id,
                event_id,
                properties: n.clone(),
                internal,
                members,
            },
        };
        let events = vec![event];
        self.commit(tx, &events).await?;
        Ok(events)
    }
}

pub(super) fn thread_not_found(thread_id: &str) -> Error {
    Error::not_found(format!("Thread {thread_id} not found in this chat"))
}

pub(super) fn event_not_found(event_id: &str) -> Error {
    Error::not_found(format!("Event {event_id} not found in this thread"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(value: Value) -> Properties {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn updates_merge_and_deletes_remove_names_and_empty_namespaces() {
        let current = props(json!({"a": {"x": 1, "y": "keep"}}));
        let merged = merged(Some(current), &props(json!({"a": {"x": 2}, "b": {"z": true}}))).unwrap();
        assert_eq!(Value::Object(merged.clone()), json!({"a": {"x": 2, "y": "keep"}, "b": {"z": true}}));
        let names: PropertyNames = [("a".to_owned(), vec!["x".to_owned(), "y".to_owned()])].into();
        assert_eq!(Value::Object(without(Some(merged), &names)), json!({"b": {"z": true}}));
    }

    #[test]
    fn bad_properties_are_refused() {
        assert!(Change::Update(&props(json!({}))).validate().is_err(), "an update names something");
        assert!(validate(&props(json!({}))).is_ok(), "an event may carry empty properties");
        for bad in [
            json!({"": {"x": 1}}),
            json!({"a": {"": 1}}),
            json!({"a": 1}),
            json!({"a": {}}),
            json!({"a": {"x": {"nested": 1}}}),
            json!({"a": {"x": null}}),
            json!({"rating": {"score": 2}}),
            json!({"rating": {"score": -1}}),
            json!({"rating": {"score": "1"}}),
            json!({"rating": {"comment": "x".repeat(MAX_RATING_COMMENT_BYTES + 1)}}),
            json!({"rating": {"stars": 5}}),
            json!({"a": {"x": "y".repeat(MAX_PROPERTIES_BYTES)}}),
            json!({"a".repeat(MAX_PROPERTY_NAMESPACE_BYTES + 1): {"x": 1}}),
        ] {
            assert!(validate(&props(bad.clone())).is_err(), "{bad}");
        }
        assert!(validate(&props(json!({"rating": {"score": 1, "comment": "great"}}))).is_ok());
        assert!(validate(&props(json!({"ns": {"tags": ["a", "b"], "n": 1.5, "b": false}}))).is_ok());
    }

    #[test]
    fn too_many_properties_in_all_are_refused_on_merge() {
        let mut current = Properties::new();
        let names: serde_json::Map<String, Value> = (0..MAX_PROPERTIES).map(|i| (format!("p{i}"), json!(i))).collect();
        current.insert("a".into(), Value::Object(names));
        assert!(merged(Some(current.clone()), &props(json!({"a": {"p0": 7}}))).is_ok(), "replacing one");
        assert!(merged(Some(current), &props(json!({"b": {"one_more": 1}}))).is_err());
    }
}
