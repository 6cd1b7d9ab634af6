//! Statements about who follows a chat or a customer (Agent Chat API `follow_chat`,
//! `follow_customer`) and the tags of threads (`tag_thread`).

use super::Conn;
use crate::clock::Micros;
use crate::error::Result;

impl Conn {
    /// Adds a follower; false if they followed already.
    pub async fn follow_chat(&mut self, chat_id: &str, agent_id: &str) -> Result<bool> {
        let added = exec!(
            self,
            "INSERT INTO chat_followers (chat_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            chat_id,
            agent_id
        );
        Ok(added > 0)
    }

    /// Removes a follower; false if they did not follow.
    pub async fn unfollow_chat(&mut self, chat_id: &str, agent_id: &str) -> Result<bool> {
        Ok(exec!(self, "DELETE FROM chat_followers WHERE chat_id = $1 AND agent_id = $2", chat_id, agent_id) > 0)
    }

    /// Ends every follow of the chat (it was resumed).
    pub async fn clear_chat_followers(&mut self, chat_id: &str) -> Result<()> {
        exec!(self, "DELETE FROM chat_followers WHERE chat_id = $1", chat_id);
        Ok(())
    }

    pub async fn chat_followers(&mut self, chat_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch!(
            self,
            fetch_all(String,),
            "SELECT agent_id FROM chat_followers WHERE chat_id = $1 ORDER BY agent_id",
            chat_id
        );
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn follow_customer(&mut self, customer_id: &str, agent_id: &str) -> Result<bool> {
        let added = exec!(
            self,
            "INSERT INTO customer_followers (customer_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            customer_id,
            agent_id
        );
        Ok(added > 0)
    }

    pub async fn unfollow_customer(&mut self, customer_id: &str, agent_id: &str) -> Result<bool> {
        let removed = exec!(
            self,
            "DELETE FROM customer_followers WHERE customer_id = $1 AND agent_id = $2",
            customer_id,
            agent_id
        );
        Ok(removed > 0)
    }

    pub async fn customer_followers(&mut self, customer_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch!(
            self,
            fetch_all(String,),
            "SELECT agent_id FROM customer_followers WHERE customer_id = $1 ORDER BY agent_id",
            customer_id
        );
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Tags the thread; false if it had the tag.
    pub async fn tag_thread(&mut self, thread_id: &str, tag: &str, now: Micros) -> Result<bool> {
        let added = exec!(
            self,
            "INSERT INTO thread_tags (thread_id, tag, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            thread_id,
            tag,
            now.0
        );
        Ok(added > 0)
    }

    /// Untags the thread; false if it did not have the tag.
    pub async fn untag_thread(&mut self, thread_id: &str, tag: &str) -> Result<bool> {
        Ok(exec!(self, "DELETE FROM thread_tags WHERE thread_id = $1 AND tag = $2", thread_id, tag) > 0)
    }

    pub async fn count_thread_tags(&mut self, thread_id: &str) -> Result<u64> {
        let (count,): (i64,) =
            fetch!(self, fetch_one(i64,), "SELECT COUNT(*) FROM thread_tags WHERE thread_id = $1", thread_id);
        Ok(count as u64)
    }

    /// `(thread_id, tag)` of the threads `thread_ids`, by thread and tag.
    pub async fn tags_of_threads(&mut self, thread_ids: &[String]) -> Result<Vec<(String, String)>> {
        if thread_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT thread_id, tag FROM thread_tags WHERE thread_id IN {} ORDER BY thread_id, tag",
            super::placeholders(1, thread_ids.len())
        );
        Ok(fetch_in!(self, (String, String), &sql, thread_ids))
    }

    /// Which of `chat_ids` the agent follows.
    pub async fn followed_among(&mut self, agent_id: &str, chat_ids: &[String]) -> Result<Vec<String>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT chat_id FROM chat_followers WHERE agent_id = $1 AND chat_id IN {}",
            super::placeholders(2, chat_ids.len())
        );
        let rows: Vec<(String,)> = fetch_in!(self, (String,), &sql, chat_ids, agent_id);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
