//! Statements about greetings, greeting rules and bans.

use super::Conn;
use crate::clock::Micros;
use crate::error::Result;

/// A greeting rule (see `migrations/*/..._greetings.sql`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GreetingRuleRow {
    pub id: i64,
    pub agent_id: String,
    pub text: String,
    pub url_contains: String,
    pub delay_secs: i64,
    pub subtype: String,
}

/// One greeting made for a customer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GreetingRow {
    pub unique_id: String,
    pub template_id: i64,
    pub customer_id: String,
    pub agent_id: String,
    pub rule_id: Option<i64>,
    pub period: Option<i64>,
    /// The greeting's message event, as JSON.
    pub event: String,
    pub subtype: String,
    pub state: String,
    pub due_at: i64,
    pub shown_at: Option<i64>,
    pub created_at: i64,
}

const GREETING_COLUMNS: &str = "unique_id, template_id, customer_id, agent_id, rule_id, period, event, subtype, state, due_at, shown_at, created_at";

impl Conn {
    /// Replaces every greeting rule.
    pub async fn replace_greeting_rules(&mut self, rules: &[GreetingRuleRow]) -> Result<()> {
        exec!(self, "DELETE FROM greeting_rules");
        for rule in rules {
            exec!(
                self,
                "INSERT INTO greeting_rules (id, agent_id, text, url_contains, delay_secs, subtype)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                rule.id,
                &rule.agent_id,
                &rule.text,
                &rule.url_contains,
                rule.delay_secs,
                &rule.subtype
            );
        }
        Ok(())
    }

    pub async fn greeting_rules(&mut self) -> Result<Vec<GreetingRuleRow>> {
        Ok(fetch!(
            self,
            fetch_all GreetingRuleRow,
            "SELECT id, agent_id, text, url_contains, delay_secs, subtype FROM greeting_rules ORDER BY id"
        ))
    }

    /// Stores a greeting; false when its rule already greeted this customer in this period.
    pub async fn insert_greeting(&mut self, row: &GreetingRow) -> Result<bool> {
        let inserted = exec!(
            self,
            "INSERT INTO greetings (unique_id, template_id, customer_id, agent_id, rule_id, period, event, subtype,
                                    state, due_at, shown_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
            &row.unique_id,
            row.template_id,
            &row.customer_id,
            &row.agent_id,
            row.rule_id,
            row.period,
            &row.event,
            &row.subtype,
            &row.state,
            row.due_at,
            row.shown_at,
            row.created_at
        );
        Ok(inserted > 0)
    }

    pub async fn greeting(&mut self, unique_id: &str) -> Result<Option<GreetingRow>> {
        let sql = format!("SELECT {GREETING_COLUMNS} FROM greetings WHERE unique_id = $1");
        Ok(fetch!(self, fetch_optional GreetingRow, &sql, unique_id))
    }

    /// The customer's pending greetings whose time has come, oldest due first.
    pub async fn due_greetings(&mut self, customer_id: &str, now: Micros) -> Result<Vec<GreetingRow>> {
        let sql = format!(
            "SELECT {GREETING_COLUMNS} FROM greetings WHERE customer_id = $1 AND state = 'pending' AND due_at <= $2
             ORDER BY due_at, created_at, unique_id"
        );
        Ok(fetch!(self, fetch_all GreetingRow, &sql, customer_id, now.0))
    }

    /// When the customer's next pending greeting is due.
    pub async fn next_greeting_due(&mut self, customer_id: &str) -> Result<Option<Micros>> {
        let row: Option<(i64,)> = fetch!(
            self,
            fetch_optional(i64,),
            "SELECT due_at FROM greetings WHERE customer_id = $1 AND state = 'pending' ORDER BY due_at LIMIT 1",
            customer_id
        );
        Ok(row.map(|(at,)| Micros(at)))
    }

    /// The greetings the customer is being shown now (one, but for a race).
    pub async fn shown_greetings(&mut self, customer_id: &str) -> Result<Vec<GreetingRow>> {
        let sql = format!(
            "SELECT {GREETING_COLUMNS} FROM greetings WHERE customer_id = $1 AND state = 'shown'
             ORDER BY shown_at DESC, unique_id"
        );
        Ok(fetch!(self, fetch_all GreetingRow, &sql, customer_id))
    }

    /// Moves a greeting from state `from` to `to` (setting `shown_at` when it is shown); false
    /// if it was not in `from` (another request or node got there first).
    pub async fn move_greeting(&mut self, unique_id: &str, from: &str, to: &str, now: Micros) -> Result<bool> {
        let moved = exec!(
            self,
            "UPDATE greetings SET state = $3, shown_at = CASE WHEN $3 = 'shown' THEN $4 ELSE shown_at END
             WHERE unique_id = $1 AND state = $2",
            unique_id,
            from,
            to,
            now.0
        );
        Ok(moved > 0)
    }

    /// `(shown, accepted)`: greetings the customer was shown, and those they accepted.
    pub async fn greeting_counts(&mut self, customer_id: &str) -> Result<(u64, u64)> {
        let (shown, accepted): (i64, i64) = fetch!(
            self,
            fetch_one(i64, i64),
            "SELECT COUNT(shown_at), COUNT(CASE WHEN state = 'accepted' THEN 1 END) FROM greetings WHERE customer_id = $1",
            customer_id
        );
        Ok((shown as u64, accepted as u64))
    }

    pub async fn customer_exists(&mut self, customer_id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            fetch!(self, fetch_optional(String,), "SELECT id FROM customers WHERE id = $1", customer_id);
        Ok(row.is_some())
    }

    /// Bans the customer until `expires_at` (a new ban replaces the old one).
    pub async fn ban_customer(&mut self, customer_id: &str, expires_at: Micros, now: Micros) -> Result<()> {
        exec!(
            self,
            "INSERT INTO customer_bans (customer_id, expires_at, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (customer_id) DO UPDATE SET expires_at = excluded.expires_at, created_at = excluded.created_at",
            customer_id,
            expires_at.0,
            now.0
        );
        Ok(())
    }

    /// Until when the customer is banned, if they are at `now`.
    pub async fn ban_of(&mut self, customer_id: &str, now: Micros) -> Result<Option<Micros>> {
        let row: Option<(i64,)> = fetch!(
            self,
            fetch_optional(i64,),
            "SELECT expires_at FROM customer_bans WHERE customer_id = $1 AND expires_at > $2",
            customer_id,
            now.0
        );
        Ok(row.map(|(at,)| Micros(at)))
    }

    /// Notes the thread an accepted greeting opened or joined.
    pub async fn set_greeting_thread(&mut self, unique_id: &str, thread_id: &str) -> Result<()> {
        exec!(self, "UPDATE greetings SET thread_id = $2 WHERE unique_id = $1", unique_id, thread_id);
        Ok(())
    }
}
