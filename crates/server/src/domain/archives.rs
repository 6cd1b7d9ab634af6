//! `list_archives` (Agent Chat Web API v3.6): the threads an agent may see, one entry per
//! thread with its whole chat, filtered, sorted by the thread's creation and paged.
//!
//! What each filter means over Confab's data:
//!
//! - `query`: the thread has a message whose text contains it, ignoring case (SQLite folds
//!   ASCII letters only). With `highlights`, each such message is quoted in the thread's
//!   `highlight` with the match between the tags.
//! - `from` / `to`: the thread was created within them (inclusive).
//! - `thread_ids`: these threads only; alone (no other filter, no paging).
//! - `agents`: the thread's agents are the one it was assigned to and those who wrote in it;
//!   `exists: false` gives unassigned threads.
//! - `tags`, `event_types`: the thread's tags, the types of its events.
//! - `properties`: a property of the chat or of the thread.
//! - `surveys`: a `filled_form` event whose form is the chat group's pre-chat or post-chat
//!   form; `values` are answer ids.
//! - `greetings`: a greeting the customer accepted opened or joined the thread; `values` are
//!   greeting ids, `from` / `to` when it was shown.
//! - `agent_response`: an agent's message in the thread (with `first`, their first one).
//! - `sales`, `goals`, `customer_countries`: Confab records no sales, goals or visitor
//!   geolocation, so every thread has none of them: `exists: false` and `exclude_values` keep
//!   all threads, `exists: true` and `values` keep none.
//!
//! The scope is the agent's (`store::agent_access`), as in `list_chats`.

use super::Domain;
use super::chats::with_tags;
use super::views::{self, access, parse_properties};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{
    MAX_ARCHIVE_QUERY_BYTES, MAX_ARCHIVE_THREAD_IDS, MAX_EVENTS_PER_THREAD_READ, MAX_FILTER_GROUP_IDS,
    MAX_FILTER_VALUES, MAX_HIGHLIGHT_TAG_BYTES, MAX_SURVEY_FILTERS,
};
use crate::store::{Arg, Page, Sql, ThreadRow, agent_access, group_condition, order};
use confab_protocol::archive::{
    AgentResponseFilter, ArchiveFilters, ArchivedChat, GreetingsFilter, GroupsFilter, Highlights, SurveyFilter,
};
use confab_protocol::entity::{EventBody, Highlight, Thread, User};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a `list_archives` listing was asked for: its page ids carry it on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveQuery {
    #[serde(rename = "q")]
    pub filters: ArchiveFilters,
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Highlights>,
}

impl ArchiveQuery {
    /// `validation` for what no page could answer: checked once, on the first request.
    pub fn check(&self) -> Result<()> {
        let f = &self.filters;
        if let Some(ids) = &f.thread_ids {
            let alone = ArchiveFilters { thread_ids: f.thread_ids.clone(), ..ArchiveFilters::default() };
            if *f != alone {
                return Err(Error::validation("`filters.thread_ids` can't be used with other filters"));
            }
            if ids.is_empty() || ids.len() > MAX_ARCHIVE_THREAD_IDS {
                return Err(Error::validation(format!("`filters.thread_ids` holds 1–{MAX_ARCHIVE_THREAD_IDS} ids")));
            }
        }
        if f.group_ids.as_ref().is_some_and(|ids| ids.len() > MAX_FILTER_GROUP_IDS) {
            return Err(Error::validation(format!("`filters.group_ids` holds at most {MAX_FILTER_GROUP_IDS} ids")));
        }
        if f.query.as_ref().is_some_and(|q| q.trim().is_empty() || q.len() > MAX_ARCHIVE_QUERY_BYTES) {
            return Err(Error::validation(format!("`filters.query` must be 1–{MAX_ARCHIVE_QUERY_BYTES} bytes")));
        }
        if f.surveys.as_ref().is_some_and(|s| s.len() > MAX_SURVEY_FILTERS) {
            return Err(Error::validation(format!("`filters.surveys` holds at most {MAX_SURVEY_FILTERS} surveys")));
        }
        if let Some(h) = &self.highlights {
            if h.pre_tag.is_some() != h.post_tag.is_some() {
                return Err(Error::validation("`highlights.pre_tag` and `highlights.post_tag` go together"));
            }
            if [&h.pre_tag, &h.post_tag].iter().any(|t| t.as_ref().is_some_and(|t| t.len() > MAX_HIGHLIGHT_TAG_BYTES)) {
                return Err(Error::validation(format!("highlight tags are at most {MAX_HIGHLIGHT_TAG_BYTES} bytes")));
            }
        }
        // Everything else is checked while the statement is built; build one to find out.
        conditions(&mut Sql::for_checks(), f).map(|_| ())
    }
}

#[derive(sqlx::FromRow)]
struct ArchiveRow {
    #[sqlx(flatten)]
    thread: ThreadRow,
    chat_properties: String,
    group_id: i64,
}

/// An RFC 3339 time of a filter; `validation` naming it otherwise.
fn time(at: &str, text: &str) -> Result<i64> {
    Micros::parse_rfc3339(text)
        .map(|t| t.0)
        .ok_or_else(|| Error::validation(format!("`{at}` must be an RFC 3339 date and time")))
}

/// `AND <column> >= from AND <column> <= to`.
fn time_range(sql: &mut Sql, at: &str, column: &str, from: Option<&String>, to: Option<&String>) -> Result<()> {
    if let Some(from) = from {
        let from = sql.bind(time(&format!("{at}.from"), from)?);
        sql.and(&format!("{column} >= {from}"));
    }
    if let Some(to) = to {
        let to = sql.bind(time(&format!("{at}.to"), to)?);
        sql.and(&format!("{column} <= {to}"));
    }
    Ok(())
}

/// `AND` the group conditions on the chat `c`.
fn groups(sql: &mut Sql, filter: Option<&GroupsFilter>) {
    if let Some(filter) = filter {
        if let Some(values) = &filter.values {
            sql.and(&group_condition("c.group_id", values));
        }
        if let Some(values) = &filter.exclude_values {
            sql.and(&format!("NOT {}", group_condition("c.group_id", values)));
        }
    }
}

fn text(value: &String) -> Result<Arg> {
    Ok(Arg::from(value))
}

/// A filter over something Confab does not record: no thread has any of it.
fn nothing(_: &str) -> String {
    "FALSE".to_owned()
}

fn any_value(value: &serde_json::Value) -> Result<Arg> {
    Ok(Arg::Text(value.to_string()))
}

/// `%<text>%` for `LIKE … ESCAPE '\'`, with the text's own wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Adds the filters as conditions on the thread `t` and its chat `c`.
fn conditions<'s>(sql: &'s mut Sql, f: &ArchiveFilters) -> Result<&'s mut Sql> {
    let json = |sql: &Sql, column: &str, key: &str| -> String {
        sql.pick(&format!("({column} ->> '$.{key}')"), &format!("(({column})::jsonb ->> '{key}')")).to_owned()
    };
    if let Some(query) = &f.query {
        let pattern = sql.bind(contains_pattern(&query.to_lowercase()).as_str());
        let text = json(sql, "x.event", "text");
        sql.and(&format!(
            "EXISTS (SELECT 1 FROM events x WHERE x.thread_id = t.id AND x.kind = 'message'
                     AND LOWER({text}) LIKE {pattern} ESCAPE '\\')"
        ));
    }
    time_range(sql, "filters", "t.created_at", f.from.as_ref(), f.to.as_ref())?;
    if let Some(ids) = &f.thread_ids {
        let list = sql.list(ids);
        sql.and(&format!("t.id IN {list}"));
    }
    if let Some(ids) = &f.group_ids {
        sql.and(&group_condition("c.group_id", ids));
    }
    if let Some(properties) = &f.properties {
        sql.property_filters(properties, &["c.properties", "t.properties"])?;
    }
    if let Some(filter) = &f.agents {
        sql.values_filter("filters.agents", filter, text, |p| {
            format!(
                "(t.agent_id {p} OR EXISTS (SELECT 1 FROM events x JOIN agents a ON a.id = x.author_id
                                            WHERE x.thread_id = t.id AND x.author_id {p}))"
            )
        })?;
    }
    if let Some(filter) = &f.tags {
        sql.values_filter("filters.tags", filter, text, |p| {
            format!("EXISTS (SELECT 1 FROM thread_tags x WHERE x.thread_id = t.id AND x.tag {p})")
        })?;
    }
    if let Some(filter) = &f.event_types {
        if filter.exists.is_some() {
            return Err(Error::validation("`filters.event_types`: give `values` or `exclude_values`"));
        }
        sql.values_filter("filters.event_types", filter, text, |p| {
            format!("EXISTS (SELECT 1 FROM events x WHERE x.thread_id = t.id AND x.kind {p})")
        })?;
    }
    for (name, filter) in [("sales", &f.sales), ("goals", &f.goals)] {
        if let Some(filter) = filter {
            sql.values_filter(&format!("filters.{name}"), filter, any_value, nothing)?;
        }
    }
    if let Some(filter) = &f.customer_countries {
        sql.values_filter("filters.customer_countries", filter, text, nothing)?;
    }
    for (n, survey) in f.surveys.iter().flatten().enumerate() {
        survey_condition(sql, &format!("filters.surveys[{n}]"), survey)?;
    }
    if let Some(greetings) = &f.greetings {
        greetings_condition(sql, greetings)?;
    }
    if let Some(response) = &f.agent_response {
        agent_response_condition(sql, response)?;
    }
    Ok(sql)
}

/// `EXISTS (…)` built from the conditions `build` adds to `SELECT 1 FROM <from> WHERE <on>`;
/// `NOT EXISTS` when `exists` is false.
fn exists_where(
    sql: &mut Sql,
    exists: bool,
    from: &str,
    on: &str,
    build: impl FnOnce(&mut Sql) -> Result<()>,
) -> Result<()> {
    // The conditions are built into the same statement (so placeholders keep counting), then
    // cut out and wrapped.
    let mark = sql.mark();
    build(sql)?;
    let inner = sql.cut(mark);
    let not = if exists { "" } else { "NOT " };
    sql.and(&format!("{not}EXISTS (SELECT 1 FROM {from} WHERE {on}{inner})"));
    Ok(())
}

fn survey_condition(sql: &mut Sql, at: &str, survey: &SurveyFilter) -> Result<()> {
    let form = match survey.kind.as_str() {
        "pre_chat" => "prechat_form",
        "post_chat" => "postchat_form",
        _ => return Err(Error::validation(format!("`{at}.type` must be `pre_chat` or `post_chat`"))),
    };
    let given = [survey.exists.is_some(), survey.values.is_some(), survey.exclude_values.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::validation(format!("`{at}`: give one of `exists`, `values` and `exclude_values`")));
    }
    let form_id = sql.pick("(x.event ->> '$.form_id')", "(x.event::jsonb ->> 'form_id')").to_owned();
    let group_form = sql.pick(&format!("(g.{form} ->> '$.id')"), &format!("(g.{form}::jsonb ->> 'id')")).to_owned();
    let on = format!("x.thread_id = t.id AND x.kind = 'filled_form' AND {form_id} = {group_form}");
    let from = "events x JOIN groups g ON g.id = c.group_id";
    let answers = |sql: &mut Sql, values: &[String]| -> Result<String> {
        if values.is_empty() || values.len() > MAX_FILTER_VALUES {
            return Err(Error::validation(format!("`{at}`: 1–{MAX_FILTER_VALUES} answer ids")));
        }
        let each: Vec<String> = values
            .iter()
            .map(|id| {
                // An answer is an object with the option's `id`, stored as compact JSON.
                let needle = serde_json::to_string(id).expect("strings encode");
                format!("x.event LIKE {} ESCAPE '\\'", sql.bind(contains_pattern(&format!("\"id\":{needle}")).as_str()))
            })
            .collect();
        Ok(format!("({})", each.join(" OR ")))
    };
    let exists = survey.exists != Some(false);
    exists_where(sql, exists, from, &on, |sql| {
        time_range(sql, at, "x.created_at", survey.from.as_ref(), survey.to.as_ref())?;
        groups(sql, survey.groups.as_ref());
        if let Some(values) = &survey.values {
            let any = answers(sql, values)?;
            sql.and(&any);
        }
        if let Some(values) = &survey.exclude_values {
            let any = answers(sql, values)?;
            sql.and(&format!("NOT {any}"));
        }
        Ok(())
    })
}

fn greetings_condition(sql: &mut Sql, filter: &GreetingsFilter) -> Result<()> {
    let given = [filter.exists.is_some(), filter.values.is_some(), filter.exclude_values.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::validation("`filters.greetings`: give one of `exists`, `values` and `exclude_values`"));
    }
    let exists = filter.exists != Some(false);
    exists_where(sql, exists, "greetings x", "x.thread_id = t.id AND x.state = 'accepted'", |sql| {
        time_range(sql, "filters.greetings", "x.shown_at", filter.from.as_ref(), filter.to.as_ref())?;
        groups(sql, filter.groups.as_ref());
        for (values, not) in [(&filter.values, ""), (&filter.exclude_values, "NOT ")] {
            if let Some(values) = values {
                if values.is_empty() || values.len() > MAX_FILTER_VALUES {
                    return Err(Error::validation(format!("`filters.greetings`: 1–{MAX_FILTER_VALUES} ids")));
                }
                let list = sql.list(values.iter().map(|id| Arg::Int(i64::try_from(*id).unwrap_or(i64::MAX))));
                sql.and(&format!("{not}x.template_id IN {list}"));
            }
        }
        Ok(())
    })
}

fn agent_response_condition(sql: &mut Sql, filter: &AgentResponseFilter) -> Result<()> {
    let exists = filter.exists != Some(false);
    let on = "x.thread_id = t.id AND x.kind = 'message'";
    exists_where(sql, exists, "events x JOIN agents a ON a.id = x.author_id", on, |sql| {
        if filter.first == Some(true) {
            sql.and(
                "x.seq = (SELECT MIN(y.seq) FROM events y JOIN agents b ON b.id = y.author_id
                          WHERE y.thread_id = t.id AND y.kind = 'message')",
            );
        }
        if let Some(agents) = &filter.agents {
            for (values, not) in [(&agents.values, ""), (&agents.exclude_values, "NOT ")] {
                if let Some(values) = values {
                    if values.is_empty() || values.len() > MAX_FILTER_VALUES {
                        return Err(Error::validation(format!(
                            "`filters.agent_response.agents`: 1–{MAX_FILTER_VALUES} ids"
                        )));
                    }
                    let list = sql.list(values);
                    sql.and(&format!("{not}x.author_id IN {list}"));
                }
            }
        }
        groups(sql, filter.groups.as_ref());
        Ok(())
    })
}

/// Where `query` occurs in `text` (ignoring case), each match between `pre` and `post`;
/// `None` if it does not.
pub fn highlight(text: &str, query: &str, pre: &str, post: &str) -> Option<String> {
    let wanted: Vec<char> = query.chars().flat_map(char::to_lowercase).collect();
    if wanted.is_empty() {
        return None;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |(at, _)| *at);
    let (mut out, mut found, mut k) = (String::with_capacity(text.len() + 16), false, 0);
    while k < chars.len() {
        let (mut lowered, mut end) = (Vec::with_capacity(wanted.len()), k);
        while lowered.len() < wanted.len() && end < chars.len() {
            lowered.extend(chars[end].1.to_lowercase());
            end += 1;
        }
        if lowered == wanted {
            out.push_str(pre);
            out.push_str(&text[byte_at(k)..byte_at(end)]);
            out.push_str(post);
            (found, k) = (true, end);
        } else {
            out.push(chars[k].1);
            k += 1;
        }
    }
    found.then_some(out)
}

/// The thread's highlights: each message that matches `query`.
fn highlights(thread: &Thread, query: &str, tags: &Highlights) -> Vec<Highlight> {
    let pre = tags.pre_tag.as_deref().unwrap_or("<em>");
    let post = tags.post_tag.as_deref().unwrap_or("</em>");
    thread
        .events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::Message(message) => Some(Highlight {
                kind: "event.message".into(),
                event_id: event.id.clone().unwrap_or_default(),
                field: "text".into(),
                highlight: highlight(&message.text, query, pre, post)?,
            }),
            _ => None,
        })
        .collect()
}

impl Domain {
    /// One page of the threads the agent may see that pass the query's filters, each with its
    /// chat, newest first unless `page.order` says otherwise. Returns the page and the total.
    pub async fn list_archives(
        &self,
        agent_id: &str,
        query: &ArchiveQuery,
        page: Page,
    ) -> Result<(Vec<ArchivedChat>, u64)> {
        let mut db = self.store.read().await?;
        let filtered = |sql: &mut Sql, columns: &str| -> Result<()> {
            let me = sql.bind(agent_id);
            sql.push(&format!(
                "SELECT {columns} FROM threads t JOIN chats c ON c.id = t.chat_id WHERE {}",
                agent_access("c", &me)
            ));
            conditions(sql, &query.filters).map(|_| ())
        };
        let mut count = db.sql();
        filtered(&mut count, "COUNT(*)")?;
        let total = db.count_built(&count).await?;
        let mut sql = db.sql();
        filtered(
            &mut sql,
            "t.id, t.chat_id, t.seq, t.active, t.created_at, t.properties,
             c.properties AS chat_properties, c.group_id",
        )?;
        let (limit, offset) = (sql.bind(i64::from(page.size)), sql.bind(i64::from(page.offset)));
        sql.push(&format!(" ORDER BY t.created_at {o}, t.id {o} LIMIT {limit} OFFSET {offset}", o = order(page.order)));
        let rows: Vec<ArchiveRow> = db.fetch_built(&sql).await?;

        let thread_ids: Vec<String> = rows.iter().map(|r| r.thread.id.clone()).collect();
        let mut chat_ids: Vec<String> = rows.iter().map(|r| r.thread.chat_id.clone()).collect();
        chat_ids.sort();
        chat_ids.dedup();
        let mut users: HashMap<String, Vec<User>> = HashMap::new();
        for (chat_id, user) in db.users_of_chats(&chat_ids).await? {
            users.entry(chat_id).or_default().push(user);
        }
        let mut events = db.thread_events(&thread_ids, true, MAX_EVENTS_PER_THREAD_READ).await?;
        let followed = db.followed_among(agent_id, &chat_ids).await?;
        let mut chats = Vec::with_capacity(rows.len());
        for row in rows {
            let chat_id = row.thread.chat_id.clone();
            let (mine, rest) = events.into_iter().partition(|e| e.thread_id == row.thread.id);
            events = rest;
            let neighbours = db.thread_neighbours(&chat_id, row.thread.seq).await?;
            let chat_users = users.get(&chat_id).cloned().unwrap_or_default();
            let thread = views::thread(row.group_id, row.thread, mine, &chat_users, neighbours);
            let is_followed = followed.contains(&chat_id);
            chats.push(ArchivedChat {
                id: chat_id,
                users: chat_users,
                properties: parse_properties(&row.chat_properties),
                access: access(row.group_id),
                thread,
                is_followed,
            });
        }
        with_tags(&mut db, chats.iter_mut().map(|c| &mut c.thread)).await?;
        if let (Some(tags), Some(words)) = (&query.highlights, &query.filters.query) {
            for chat in &mut chats {
                chat.thread.highlight = Some(highlights(&chat.thread, words, tags));
            }
        }
        Ok((chats, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_wrap_every_match_ignoring_case() {
        assert_eq!(
            highlight("Hello there, HELLO", "hello", "<b>", "</b>").unwrap(),
            "<b>Hello</b> there, <b>HELLO</b>"
        );
        assert_eq!(highlight("Zażółć gęślą", "GĘŚ", "[", "]").unwrap(), "Zażółć [gęś]lą");
        assert_eq!(highlight("nothing here", "else", "[", "]"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn thread_ids_go_alone_and_filters_are_checked_up_front() {
        let query = |filters: serde_json::Value| ArchiveQuery {
            filters: serde_json::from_value(filters).unwrap(),
            highlights: None,
        };
        assert!(query(serde_json::json!({"thread_ids": ["A"]})).check().is_ok());
        for bad in [
            serde_json::json!({"thread_ids": ["A"], "query": "x"}),
            serde_json::json!({"thread_ids": []}),
            serde_json::json!({"from": "yesterday"}),
            serde_json::json!({"tags": {"exists": true, "values": ["a"]}}),
            serde_json::json!({"tags": {"values": []}}),
            serde_json::json!({"event_types": {"exists": true}}),
            serde_json::json!({"properties": {"ns": {"p": {"values": [1.5]}}}}),
            serde_json::json!({"surveys": [{"type": "mid_chat"}]}),
            serde_json::json!({"query": " "}),
        ] {
            assert!(query(bad.clone()).check().is_err(), "{bad}");
        }
    }
}
