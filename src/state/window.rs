//! Which rows of a long conversation are drawn. A chat of thousands of messages keeps only the
//! rows near the visible part in the page; above and below them is empty space as tall as the
//! rows it stands for (as measured when they were drawn, or, never drawn, as tall as the average
//! drawn message), so the scrollbar and the reader's place stay true. Plain arithmetic on
//! heights: the message list measures the drawn rows and moves the scroll position.

use super::{Message, Row};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// A message not drawn yet counts as this tall until some have been measured (then as their
/// mean): a one-line message with the gap after it.
pub const ESTIMATED_MESSAGE_PX: f64 = 56.0;
/// A day or conversation separator not drawn yet.
pub const ESTIMATED_SEPARATOR_PX: f64 = 40.0;
/// Drawn beyond the visible area, above and below: a flick scrolls into rows already laid out.
pub const OVERSCAN_PX: f64 = 1200.0;
/// The drawn rows move once fewer than this remain drawn beyond the visible area on a side.
pub const REDRAW_MARGIN_PX: f64 = 400.0;
/// Drawn rows reaching further than this beyond the visible area (both sides together) are
/// trimmed, so what is drawn stays bounded however the list got there.
pub const MOST_DRAWN_BEYOND_PX: f64 = 4.0 * OVERSCAN_PX;

/// FNV-1a: laying out visits every message's height, and the keys are short ids from our own
/// server and browser, so the standard hasher's flooding resistance buys nothing here and
/// costs most of the layout's time.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

/// Heights of rows as drawn: per message (their words differ), one per kind of separator.
#[derive(Debug, Default)]
pub struct Heights {
    messages: HashMap<String, f64, BuildHasherDefault<Fnv>>,
    day: Option<f64>,
    thread: Option<f64>,
    /// Sum of the measured message heights, for their mean.
    sum: f64,
}

impl Heights {
    /// The row's height: measured, else estimated.
    pub fn of(&self, row: &Row, messages: &[Message]) -> f64 {
        match row {
            Row::Day { .. } => self.day.unwrap_or(ESTIMATED_SEPARATOR_PX),
            Row::NewConversation { .. } => self.thread.unwrap_or(ESTIMATED_SEPARATOR_PX),
            Row::Message { index, .. } => {
                self.messages.get(messages[*index].key.as_str()).copied().unwrap_or_else(|| self.estimate())
            }
        }
    }

    fn estimate(&self) -> f64 {
        match self.messages.len() {
            0 => ESTIMATED_MESSAGE_PX,
            n => self.sum / n as f64,
        }
    }

    /// Records a drawn row's height; whether it differs (by half a pixel or more) from what was
    /// assumed before.
    pub fn record(&mut self, row: &Row, messages: &[Message], px: f64) -> bool {
        let before = self.of(row, messages);
        match row {
            Row::Day { .. } => self.day = Some(px),
            Row::NewConversation { .. } => self.thread = Some(px),
            Row::Message { index, .. } => {
                let key = &messages[*index].key;
                match self.messages.get_mut(key.as_str()) {
                    Some(old) => {
                        self.sum += px - *old;
                        *old = px;
                    }
                    None => {
                        self.sum += px;
                        self.messages.insert(key.clone(), px);
                    }
                }
            }
        }
        (before - px).abs() >= 0.5
    }
}

/// Where each row starts, from the top of the first: `tops[i]` for row `i`, and one more entry
/// for the bottom of the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    tops: Vec<f64>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout { tops: vec![0.0] }
    }
}

impl Layout {
    pub fn new(rows: &[Row], messages: &[Message], heights: &Heights) -> Layout {
        let mut tops = Vec::with_capacity(rows.len() + 1);
        let mut y = 0.0;
        tops.push(y);
        for row in rows {
            y += heights.of(row, messages);
            tops.push(y);
        }
        Layout { tops }
    }

    /// How many rows it lays out.
    pub fn len(&self) -> usize {
        self.tops.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The height of all rows.
    pub fn total(&self) -> f64 {
        self.tops[self.len()]
    }

    /// The top of row `row` (the bottom of the last for `len()`).
    pub fn top(&self, row: usize) -> f64 {
        self.tops[row.min(self.len())]
    }

    /// The row at height `y`: the last one that starts at or above it.
    pub fn row_at(&self, y: f64) -> usize {
        self.tops.partition_point(|&top| top <= y).saturating_sub(1).min(self.len().saturating_sub(1))
    }

    /// The rows that overlap `from..to` (at least one, when there are any).
    pub fn span(&self, from: f64, to: f64) -> Range<usize> {
        if self.is_empty() {
            return 0..0;
        }
        let start = self.row_at(from);
        let end = self.tops.partition_point(|&top| top < to).min(self.len()).max(start + 1);
        start..end
    }
}

/// The rows to draw instead of `drawn` while `view_top..view_bottom` is visible, or `None` to
/// keep them: they still reach `REDRAW_MARGIN_PX` beyond the visible area on both sides and not
/// more than `MOST_DRAWN_BEYOND_PX` in all. A redraw reaches `OVERSCAN_PX` each way, so
/// scrolling redraws once every few hundred pixels, not at every row.
pub fn redraw(layout: &Layout, drawn: Range<usize>, view_top: f64, view_bottom: f64) -> Option<Range<usize>> {
    let needed = layout.span(view_top - REDRAW_MARGIN_PX, view_bottom + REDRAW_MARGIN_PX);
    let covers = drawn.start <= needed.start && needed.end <= drawn.end;
    let beyond =
        (layout.top(needed.start) - layout.top(drawn.start)) + (layout.top(drawn.end) - layout.top(needed.end));
    if covers && beyond <= MOST_DRAWN_BEYOND_PX {
        return None;
    }
    let wanted = layout.span(view_top - OVERSCAN_PX, view_bottom + OVERSCAN_PX);
    (wanted != drawn).then_some(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Author, Content, Delivery};

    fn messages(n: usize) -> Vec<Message> {
        (0..n)
            .map(|i| Message {
                key: format!("m{i}"),
                id: Some(format!("m{i}")),
                seq: None,
                thread_id: None,
                author: Author::Visitor,
                content: Content::Text("hi".into()),
                created_at: None,
                at: None,
                delivery: Delivery::Sent,
            })
            .collect()
    }

    fn message_rows(n: usize) -> Vec<Row> {
        (0..n).map(|index| Row::Message { index, first: true, last: true }).collect()
    }

    #[test]
    fn unmeasured_rows_count_as_the_mean_of_measured_ones() {
        let (messages, rows) = (messages(4), message_rows(4));
        let mut heights = Heights::default();
        assert_eq!(Layout::new(&rows, &messages, &heights).total(), 4.0 * ESTIMATED_MESSAGE_PX);
        assert!(heights.record(&rows[0], &messages, 100.0));
        assert!(heights.record(&rows[1], &messages, 20.0));
        assert!(!heights.record(&rows[1], &messages, 20.2), "the same height again is no change");
        // Two measured (100 + 20.2), two at their mean.
        let layout = Layout::new(&rows, &messages, &heights);
        assert!((layout.total() - 2.0 * 120.2).abs() < 1e-9);
        assert_eq!(layout.top(1), 100.0);
        let separator = Row::Day { day: 1, unix_seconds: 0 };
        assert_eq!(heights.of(&separator, &messages), ESTIMATED_SEPARATOR_PX);
    }

    #[test]
    fn a_height_finds_its_row() {
        let (messages, rows) = (messages(3), message_rows(3));
        let mut heights = Heights::default();
        for (row, px) in rows.iter().zip([10.0, 20.0, 30.0]) {
            heights.record(row, &messages, px);
        }
        let layout = Layout::new(&rows, &messages, &heights);
        assert_eq!([-5.0, 0.0, 9.9, 10.0, 29.9, 30.0, 59.0, 500.0].map(|y| layout.row_at(y)), [0, 0, 0, 1, 1, 2, 2, 2]);
        assert_eq!(layout.span(5.0, 15.0), 0..2);
        assert_eq!(layout.span(10.0, 30.0), 1..2);
        assert_eq!(layout.span(100.0, 200.0), 2..3, "past the end: the last row");
        assert_eq!(Layout::default().span(0.0, 100.0), 0..0);
    }

    #[test]
    fn ten_thousand_rows_draw_a_bounded_few_and_redraw_only_near_the_edge() {
        let (messages, rows) = (messages(10_000), message_rows(10_000));
        let layout = Layout::new(&rows, &messages, &Heights::default());
        let view = 600.0;
        // At the bottom: a redraw from nothing drawn.
        let bottom = layout.total() - view;
        let drawn = redraw(&layout, 0..0, bottom, bottom + view).expect("draws");
        assert_eq!(drawn.end, 10_000);
        let px = |r: &Range<usize>| layout.top(r.end) - layout.top(r.start);
        assert!(px(&drawn) <= view + OVERSCAN_PX + ESTIMATED_MESSAGE_PX, "{drawn:?}");
        // Scrolling up by less than the overscan minus the margin keeps them…
        let up = bottom - (OVERSCAN_PX - REDRAW_MARGIN_PX - ESTIMATED_MESSAGE_PX);
        assert_eq!(redraw(&layout, drawn.clone(), up, up + view), None);
        // …further up moves them, reaching the overscan above again.
        let further = up - 2.0 * ESTIMATED_MESSAGE_PX;
        let moved = redraw(&layout, drawn.clone(), further, further + view).expect("redraws");
        assert!(layout.top(moved.start) <= further - OVERSCAN_PX + ESTIMATED_MESSAGE_PX);
        // Everything drawn (as after a long list arrived at once) is trimmed.
        let trimmed = redraw(&layout, 0..10_000, bottom, bottom + view).expect("trims");
        assert_eq!(trimmed, drawn);
    }
}
