//! Statements of `list_archives` (Agent Chat Web API v3.6): the threads an agent may see
//! (`agent_access`), each with its chat, filtered, sorted by the thread's creation and paged.
//! `domain::archives` assembles the entries.
//!
//! What each filter means over Confab's data:
//!
//! - `query`: the thread has a message whose text contains it, ignoring case (SQLite folds
//!   ASCII letters only).
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
//! Every value from the request is bound ([`Sql`]); a bad filter is a `validation` error
//! naming it, found while the statement is built.

use super::chats::{agent_access, group_condition, order};
use super::sql::{Arg, Sql};
use super::{Conn, ThreadRow};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::MAX_FILTER_VALUES;
use confab_protocol::action::SortOrder;
use confab_protocol::archive::{AgentResponseFilter, ArchiveFilters, GreetingsFilter, GroupsFilter, SurveyFilter};

/// A thread found, with what its entry needs of its chat.
#[derive(sqlx::FromRow)]
pub struct ArchiveRow {
    #[sqlx(flatten)]
    pub thread: ThreadRow,
    pub chat_properties: String,
    pub group_id: i64,
    /// The chat's threads just before and after it (threads are numbered without gaps).
    pub previous_thread_id: Option<String>,
    pub next_thread_id: Option<String>,
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
pub(crate) fn contains_pattern(text: &str) -> String {
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

/// `validation` for a filter no statement could run with.
pub fn check_archive_filters(filters: &ArchiveFilters) -> Result<()> {
    conditions(&mut Sql::for_checks(), filters).map(|_| ())
}

impl Conn {
    /// `SELECT <columns>` of the threads the agent may see that pass the filters.
    fn archives(&self, agent_id: &str, filters: &ArchiveFilters, columns: &str) -> Result<Sql> {
        let mut sql = self.sql();
        let me = sql.bind(agent_id);
        sql.push(&format!(
            "SELECT {columns} FROM threads t JOIN chats c ON c.id = t.chat_id WHERE {}",
            agent_access("c", &me)
        ));
        conditions(&mut sql, filters)?;
        Ok(sql)
    }

    pub async fn count_archives(&mut self, agent_id: &str, filters: &ArchiveFilters) -> Result<u64> {
        let sql = self.archives(agent_id, filters, "COUNT(*)")?;
        self.count_built(&sql).await
    }

    /// Up to `limit` threads from `offset`, by creation time.
    pub async fn archive_page(
        &mut self,
        agent_id: &str,
        filters: &ArchiveFilters,
        sort: SortOrder,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ArchiveRow>> {
        let columns = "t.id, t.chat_id, t.seq, t.active, t.created_at, t.properties,
                       c.properties AS chat_properties, c.group_id,
                       (SELECT p.id FROM threads p WHERE p.chat_id = t.chat_id AND p.seq = t.seq - 1) AS previous_thread_id,
                       (SELECT n.id FROM threads n WHERE n.chat_id = t.chat_id AND n.seq = t.seq + 1) AS next_thread_id";
        let mut sql = self.archives(agent_id, filters, columns)?;
        let (limit, offset) = (sql.bind(i64::from(limit)), sql.bind(i64::from(offset)));
        sql.push(&format!(" ORDER BY t.created_at {o}, t.id {o} LIMIT {limit} OFFSET {offset}", o = order(sort)));
        self.fetch_built(&sql).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
