//! The table: rows of (scenario, figure, value), printed aligned, saved as TSV, and printed
//! side by side with other targets' saved tables (one column per target; rows are matched by
//! scenario and figure, in the order they first appear).

use anyhow::{Context, Result, anyhow};
use std::path::Path;

/// The first line of a saved table: `# label<TAB>NAME`.
const TSV_LABEL_PREFIX: &str = "# label\t";
/// Between columns.
const GAP: &str = "  ";

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub label: String,
    rows: Vec<Row>,
}

impl Report {
    pub fn new(label: &str) -> Self {
        Self { label: label.to_owned(), rows: Vec::new() }
    }

    pub fn add(&mut self, scenario: &str, figure: impl Into<String>, value: impl ToString) {
        self.rows.push(Row { scenario: scenario.to_owned(), figure: figure.into(), value: value.to_string() });
    }

    pub fn print(&self) {
        Self::print_side_by_side(std::slice::from_ref(self));
    }

    pub fn write_tsv(&self, path: &Path) -> Result<()> {
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        let mut text = format!("{TSV_LABEL_PREFIX}{}\n", clean(&self.label));
        for row in &self.rows {
            text.push_str(&format!("{}\t{}\t{}\n", clean(&row.scenario), clean(&row.figure), clean(&row.value)));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// Reads `LABEL=FILE` (or `FILE`, labelled as saved).
    pub fn read_column(column: &str) -> Result<Report> {
        let (label, path) = match column.split_once('=') {
            Some((label, path)) => (Some(label), path),
            None => (None, column),
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        let mut lines = text.lines();
        let saved_label = lines.next().and_then(|l| l.strip_prefix(TSV_LABEL_PREFIX)).ok_or_else(|| {
            anyhow!("{path}: not a table saved by confab-load --tsv (no `{}` line)", TSV_LABEL_PREFIX.trim())
        })?;
        let mut report = Report::new(label.unwrap_or(saved_label));
        for (n, line) in lines.enumerate() {
            let mut fields = line.splitn(3, '\t');
            match (fields.next(), fields.next(), fields.next()) {
                (Some(scenario), Some(figure), Some(value)) => report.add(scenario, figure, value),
                _ => {
                    return Err(anyhow!("{path}:{}: expected scenario<TAB>figure<TAB>value", n + 2));
                }
            }
        }
        Ok(report)
    }

    /// One table: the figures of every report, a column each.
    pub fn print_side_by_side(reports: &[Report]) {
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for row in reports.iter().flat_map(|r| &r.rows) {
            let key = (row.scenario.as_str(), row.figure.as_str());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let value = |report: &Report, (scenario, figure): (&str, &str)| -> String {
            let found = report.rows.iter().filter(|r| r.scenario == scenario && r.figure == figure);
            found.map(|r| r.value.as_str()).collect::<Vec<_>>().join("; ")
        };
        let mut lines: Vec<Vec<String>> = vec![
            std::iter::once("scenario".to_owned())
                .chain(std::iter::once("figure".to_owned()))
                .chain(reports.iter().map(|r| r.label.clone()))
                .collect(),
        ];
        let mut previous = "";
        for &key in &keys {
            // The scenario's name only on its first row: the table reads in blocks.
            let scenario = if key.0 == previous { String::new() } else { key.0.to_owned() };
            previous = key.0;
            let mut line = vec![scenario, key.1.to_owned()];
            line.extend(reports.iter().map(|r| value(r, key)));
            lines.push(line);
        }
        let columns = lines[0].len();
        let widths: Vec<usize> =
            (0..columns).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
        let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
        lines.insert(1, rule);
        for line in lines {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect();
            println!("{}", cells.join(GAP).trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_table_reads_back() {
        let mut report = Report::new("sqlite");
        report.add("idle", "sockets held", 10_000);
        report.add("latency", "send → ack @ 50/s", "p50 1 ms\tp99 2 ms");
        let dir = std::env::temp_dir().join(format!("confab-load-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.tsv");
        report.write_tsv(&path).unwrap();
        let read = Report::read_column(path.to_str().unwrap()).unwrap();
        assert_eq!(read.label, "sqlite");
        assert_eq!(read.rows[0], Row { scenario: "idle".into(), figure: "sockets held".into(), value: "10000".into() });
        assert_eq!(read.rows[1].value, "p50 1 ms p99 2 ms", "tabs inside values become spaces");
        let relabelled = Report::read_column(&format!("pg={}", path.display())).unwrap();
        assert_eq!(relabelled.label, "pg");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
