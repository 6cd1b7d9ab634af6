//! Which chat events the client has already handed on, so that an event pushed twice (a server
//! retry, a copy after a reconnect, a copy of the one that settled `send_event`) reaches the app
//! once.
//!
//! An event is known by its chat and `seq` (Confab's per-chat sequence number, 1, 2, 3, …), or
//! by its chat and `id` when it has no `seq` (a server that does not assign one). An event with
//! neither cannot be recognised and always counts as new.
//!
//! Memory stays bounded whatever the server sends:
//! - per chat, the seqs seen as ranges (`3..=9`, `11..=40`): events in order take one range
//!   however many there are. Out of order, at most `MAX_SEQ_RANGES`; beyond that the oldest gap
//!   is filled, its events counting as seen: an event missing while so many later ones arrived
//!   around it is not coming. Seqs below the first range (a chat joined midway) stay new;
//! - the `MAX_CHATS` chats with the most recent events (a customer has one at a time);
//! - the ids of the last `MAX_IDS` events without `seq`.

use confab_protocol::entity::Event;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// Separate ranges of seqs remembered per chat, when events arrive out of order.
pub(crate) const MAX_SEQ_RANGES: usize = 64;
/// Chats remembered; the one with the oldest activity is forgotten first.
pub(crate) const MAX_CHATS: usize = 16;
/// Ids remembered of events without `seq`.
pub(crate) const MAX_IDS: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct SeenEvents {
    chats: HashMap<String, SeenSeqs>,
    /// Counts sightings, to find the chat with the oldest activity.
    clock: u64,
    ids: HashSet<(String, String)>,
    /// `ids` in the order they were seen, to forget the oldest.
    id_order: VecDeque<(String, String)>,
}

#[derive(Debug, Default)]
struct SeenSeqs {
    /// `start → end`, inclusive, disjoint and never adjacent.
    ranges: BTreeMap<u64, u64>,
    last_seen: u64,
}

impl SeenEvents {
    /// Records `event` of chat `chat_id`; false when it had been seen already.
    pub(crate) fn first_sighting(&mut self, chat_id: &str, event: &Event) -> bool {
        match (event.seq, &event.id) {
            (Some(seq), _) => self.first_seq(chat_id, seq),
            (None, Some(id)) => self.first_id(chat_id, id),
            (None, None) => true,
        }
    }

    fn first_seq(&mut self, chat_id: &str, seq: u64) -> bool {
        self.clock += 1;
        if !self.chats.contains_key(chat_id) && self.chats.len() >= MAX_CHATS {
            let oldest = self.chats.iter().min_by_key(|(_, seen)| seen.last_seen).map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.chats.remove(&oldest);
            }
        }
        let seen = self.chats.entry(chat_id.to_owned()).or_default();
        seen.last_seen = self.clock;
        seen.insert(seq)
    }

    fn first_id(&mut self, chat_id: &str, id: &str) -> bool {
        let key = (chat_id.to_owned(), id.to_owned());
        if self.ids.contains(&key) {
            return false;
        }
        if self.id_order.len() >= MAX_IDS
            && let Some(oldest) = self.id_order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.ids.insert(key.clone());
        self.id_order.push_back(key);
        true
    }

    #[cfg(test)]
    fn held(&self) -> (usize, usize, usize) {
        let seqs = self.chats.values().map(|seen| seen.ranges.len()).max().unwrap_or(0);
        (self.chats.len(), seqs, self.ids.len().max(self.id_order.len()))
    }
}

impl SeenSeqs {
    fn insert(&mut self, seq: u64) -> bool {
        let before = self.ranges.range(..=seq).next_back().map(|(&start, &end)| (start, end));
        if before.is_some_and(|(_, end)| end >= seq) {
            return false;
        }
        let (mut start, mut end) = (seq, seq);
        if let Some((before_start, before_end)) = before
            && before_end + 1 == seq
        {
            self.ranges.remove(&before_start);
            start = before_start;
        }
        if let Some(after_end) = seq.checked_add(1).and_then(|next| self.ranges.remove(&next)) {
            end = after_end;
        }
        self.ranges.insert(start, end);
        if self.ranges.len() > MAX_SEQ_RANGES
            && let (Some((first_start, _)), Some((_, second_end))) = (self.ranges.pop_first(), self.ranges.pop_first())
        {
            self.ranges.insert(first_start, second_end);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_seq(seq: u64) -> Event {
        let mut event = Event::message("hi");
        event.seq = Some(seq);
        event
    }

    fn with_id(id: &str) -> Event {
        let mut event = Event::message("hi");
        event.id = Some(id.into());
        event
    }

    #[test]
    fn out_of_order_seqs_are_each_new_once() {
        let mut seen = SeenEvents::default();
        let order = [3, 1, 2, 2, 1, 3, 5, 4, 5];
        let firsts: Vec<bool> = order.iter().map(|&seq| seen.first_sighting("C", &with_seq(seq))).collect();
        assert_eq!(firsts, [true, true, true, false, false, false, true, true, false]);
        assert_eq!(seen.chats["C"].ranges, BTreeMap::from([(1, 5)]), "one range holds them all");
    }

    #[test]
    fn a_chat_joined_midway_keeps_earlier_events_new() {
        let mut seen = SeenEvents::default();
        for seq in 100..10_000 {
            assert!(seen.first_sighting("C", &with_seq(seq)));
        }
        assert_eq!(seen.chats["C"].ranges.len(), 1, "in order: one range");
        assert!(seen.first_sighting("C", &with_seq(99)), "an earlier event arriving late is new");
        assert!(!seen.first_sighting("C", &with_seq(99)));
        assert!(seen.first_sighting("C", &with_seq(3)));
        assert!(!seen.first_sighting("C", &with_seq(5_000)));
    }

    #[test]
    fn too_many_gaps_fill_the_oldest() {
        let mut seen = SeenEvents::default();
        // 1, 3, 5, …: every one a range of its own, until there are too many.
        for n in 0..=MAX_SEQ_RANGES as u64 {
            assert!(seen.first_sighting("C", &with_seq(2 * n + 1)));
        }
        assert_eq!(seen.chats["C"].ranges.len(), MAX_SEQ_RANGES);
        assert!(!seen.first_sighting("C", &with_seq(2)), "the oldest gap counts as seen");
        assert!(seen.first_sighting("C", &with_seq(4)), "the others are still open");
        assert!(!seen.first_sighting("C", &with_seq(4)));
    }

    #[test]
    fn the_highest_seq_does_not_overflow() {
        let mut seen = SeenEvents::default();
        assert!(seen.first_sighting("C", &with_seq(u64::MAX)));
        assert!(!seen.first_sighting("C", &with_seq(u64::MAX)));
        assert!(seen.first_sighting("C", &with_seq(u64::MAX - 1)));
        assert_eq!(seen.chats["C"].ranges, BTreeMap::from([(u64::MAX - 1, u64::MAX)]));
    }

    #[test]
    fn memory_stays_bounded_whatever_arrives() {
        let mut seen = SeenEvents::default();
        // Every other seq (gaps never filled), in many chats, and ids without seqs.
        for n in 0..20_000u64 {
            seen.first_sighting(&format!("chat-{}", n % 40), &with_seq(2 * n));
            seen.first_sighting("C", &with_id(&format!("ev-{n}")));
        }
        let (chats, seq_ranges, ids) = seen.held();
        assert!(chats <= MAX_CHATS, "{chats} chats");
        assert!(seq_ranges <= MAX_SEQ_RANGES, "{seq_ranges} ranges in a chat");
        assert!(ids <= MAX_IDS, "{ids} ids");
    }

    #[test]
    fn the_same_seq_or_id_in_another_chat_is_another_event() {
        let mut seen = SeenEvents::default();
        assert!(seen.first_sighting("A", &with_seq(1)));
        assert!(seen.first_sighting("B", &with_seq(1)));
        assert!(seen.first_sighting("A", &with_id("ev-1")));
        assert!(seen.first_sighting("B", &with_id("ev-1")));
        assert!(!seen.first_sighting("B", &with_id("ev-1")));
        let anonymous = Event::message("no id, no seq");
        assert!(seen.first_sighting("A", &anonymous) && seen.first_sighting("A", &anonymous), "cannot be told apart");
    }
}
