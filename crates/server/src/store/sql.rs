//! Statements built at run time, for listings whose filters the request chooses (`list_chats`
//! property filters, `list_archives`): the text grows condition by condition, and every value
//! from the request is bound to a placeholder, never spliced into the text.
//!
//! [`Sql::values_filter`] turns the Agent Chat API's set filters (`exists`, `values`,
//! `exclude_values`, `require_every_value`) into conditions over any set a caller describes;
//! [`Sql::property_filters`] does it for properties, whose values compare as JSON text on both
//! backends (SQLite's `->`, PostgreSQL's `jsonb -> … ::text` render scalars alike).

use super::Conn;
use crate::error::{Error, Result};
use crate::limits::MAX_FILTER_VALUES;
use confab_protocol::archive::{PropertyFilters, ValuesFilter};
use serde_json::Value;
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Arg::Text(text.clone())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

/// A statement being built, with its bound values (`$1` is the first).
#[derive(Debug)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
    postgres: bool,
}

impl Sql {
    /// A statement built only to check a request's filters (never run).
    pub fn for_checks() -> Self {
        Sql { text: String::new(), args: Vec::new(), postgres: false }
    }

    /// The text's length: where [`Sql::cut`] cuts.
    pub fn mark(&self) -> usize {
        self.text.len()
    }

    /// Takes the text after `mark` out (its placeholders stay bound), to wrap it.
    pub fn cut(&mut self, mark: usize) -> String {
        self.text.split_off(mark)
    }

    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Binds `arg`; its placeholder.
    pub fn bind(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// Binds each of `args`; `($n, $n+1, …)`.
    pub fn list<A: Into<Arg>>(&mut self, args: impl IntoIterator<Item = A>) -> String {
        let placeholders: Vec<String> = args.into_iter().map(|arg| self.bind(arg)).collect();
        format!("({})", placeholders.join(", "))
    }

    /// Appends ` AND <condition>`.
    pub fn and(&mut self, condition: &str) {
        self.text.push_str(" AND ");
        self.text.push_str(condition);
    }

    /// The text for this backend, where the dialects differ.
    pub fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        if self.postgres { postgres } else { sqlite }
    }

    /// Adds the condition of a set filter named `name`: `set(predicate)` is the SQL that
    /// holds when some member `v` of the set satisfies `v <predicate>` (`IS NOT NULL`,
    /// `= $3`, `IN ($3, $4)`). `validation` unless exactly one of `exists`, `values` and
    /// `exclude_values` is given, or for a list empty or longer than `MAX_FILTER_VALUES`.
    pub fn values_filter<T>(
        &mut self,
        name: &str,
        filter: &ValuesFilter<T>,
        to_arg: impl Fn(&T) -> Result<Arg>,
        set: impl Fn(&str) -> String,
    ) -> Result<()> {
        let given = [filter.exists.is_some(), filter.values.is_some(), filter.exclude_values.is_some()];
        if given.iter().filter(|given| **given).count() != 1 {
            return Err(Error::validation(format!("`{name}`: give one of `exists`, `values` and `exclude_values`")));
        }
        let every = filter.require_every_value == Some(true);
        let condition = match (filter.exists, &filter.values, &filter.exclude_values) {
            (Some(true), _, _) => set("IS NOT NULL"),
            (Some(false), _, _) => format!("NOT {}", set("IS NOT NULL")),
            (_, Some(values), _) => self.has_values(name, values, every, &to_arg, &set)?,
            (_, _, Some(values)) => format!("NOT {}", self.has_values(name, values, every, &to_arg, &set)?),
            (None, None, None) => unreachable!("one was given"),
        };
        self.and(&condition);
        Ok(())
    }

    /// `(…)`: the set has one of `values`, or (`every`) all of them.
    fn has_values<T>(
        &mut self,
        name: &str,
        values: &[T],
        every: bool,
        to_arg: &impl Fn(&T) -> Result<Arg>,
        set: &impl Fn(&str) -> String,
    ) -> Result<String> {
        if values.is_empty() || values.len() > MAX_FILTER_VALUES {
            return Err(Error::validation(format!("`{name}`: 1–{MAX_FILTER_VALUES} values")));
        }
        let args = values.iter().map(to_arg).collect::<Result<Vec<Arg>>>()?;
        if every {
            let each: Vec<String> = args.into_iter().map(|arg| set(&format!("= {}", self.bind(arg)))).collect();
            Ok(format!("({})", each.join(" AND ")))
        } else {
            let list = self.list(args);
            Ok(format!("({})", set(&format!("IN {list}"))))
        }
    }

    /// The JSON text of property `namespace.name` of the JSON object in `column`; NULL if
    /// it has none.
    fn property(&mut self, column: &str, namespace: &str, name: &str) -> String {
        if self.postgres {
            let (namespace, name) = (self.bind(namespace), self.bind(name));
            format!("(({column})::jsonb -> {namespace} -> {name})::text")
        } else {
            let path = self.bind(format!("$.\"{namespace}\".\"{name}\"").as_str());
            format!("({column} -> {path})")
        }
    }

    /// Adds `filters.properties`: each property filter holds for a chat when it holds for the
    /// property in any of `columns` (JSON objects of properties).
    pub fn property_filters(&mut self, filters: &PropertyFilters, columns: &[&str]) -> Result<()> {
        for (namespace, properties) in filters {
            for (name, filter) in properties {
                let at = format!("filters.properties.{namespace}.{name}");
                if [namespace, name].iter().any(|part| part.is_empty() || part.contains(['"', '\\'])) {
                    return Err(Error::validation(format!("`{at}`: not a property name")));
                }
                if filter.require_every_value.is_some() {
                    return Err(Error::validation(format!("`{at}`: a property has one value")));
                }
                let expressions: Vec<String> =
                    columns.iter().map(|column| self.property(column, namespace, name)).collect();
                let set = |predicate: &str| {
                    let each: Vec<String> = expressions.iter().map(|e| format!("{e} {predicate}")).collect();
                    format!("({})", each.join(" OR "))
                };
                self.values_filter(&at, filter, |value| property_value(&at, value), set)?;
            }
        }
        Ok(())
    }
}

/// A property value as the JSON text it is stored as: strings, integers and booleans only.
fn property_value(at: &str, value: &Value) -> Result<Arg> {
    match value {
        Value::String(_) | Value::Bool(_) => Ok(Arg::Text(value.to_string())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Arg::Text(value.to_string())),
        _ => Err(Error::validation(format!("`{at}`: values are strings, integers or booleans"))),
    }
}

impl Conn {
    /// An empty statement for this backend.
    pub fn sql(&self) -> Sql {
        Sql { text: String::new(), args: Vec::new(), postgres: matches!(self, Conn::Postgres(_)) }
    }

    /// Runs a built statement and maps its rows to `T`.
    pub async fn fetch_built<T>(&mut self, sql: &Sql) -> Result<Vec<T>>
    where
        T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        // The same binding on either backend; only the connection's type differs.
        macro_rules! fetch_all {
            ($connection:expr) => {{
                let mut query = sqlx::query_as::<_, T>(&sql.text);
                for arg in &sql.args {
                    query = match arg {
                        Arg::Text(text) => query.bind(text.as_str()),
                        Arg::Int(n) => query.bind(*n),
                    };
                }
                query.fetch_all($connection).await?
            }};
        }
        Ok(match self {
            Conn::Sqlite(c) => fetch_all!(c.connection()),
            Conn::Postgres(c) => fetch_all!(c.connection()),
        })
    }

    /// The one number a built `SELECT COUNT(*) …` answers.
    pub async fn count_built(&mut self, sql: &Sql) -> Result<u64> {
        let rows: Vec<(i64,)> = self.fetch_built(sql).await?;
        Ok(rows.first().map_or(0, |(count,)| *count as u64))
    }
}
