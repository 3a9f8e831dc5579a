//! Plain-text tables for terminal output: right-aligned numbers, left-aligned text.

use std::fmt::Write as _;

/// A table under construction.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| (*s).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (cells beyond the header are ignored, missing ones are blank).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The same cells as CSV (quoted where needed), header first.
    pub fn to_csv(&self) -> anyhow::Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header)?;
        for r in &self.rows {
            w.write_record((0..self.header.len()).map(|i| r.get(i).map_or("", String::as_str)))?;
        }
        Ok(String::from_utf8(w.into_inner()?)?)
    }

    /// Renders with two spaces between columns.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut w: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().take(n).enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String], header: bool| {
            let mut s = String::new();
            for (i, width) in w.iter().enumerate() {
                let c = cells.get(i).map_or("", String::as_str);
                let numeric = !header
                    && i > 0
                    && c.chars()
                        .next()
                        .is_some_and(|ch| ch.is_ascii_digit() || ch == '-' || ch == '+');
                if i > 0 {
                    s.push_str("  ");
                }
                if numeric {
                    let _ = write!(s, "{c:>width$}");
                } else {
                    let _ = write!(s, "{c:<width$}");
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(&self.header, true);
        out.push('\n');
        out.push_str(
            &w.iter()
                .map(|x| "-".repeat(*x))
                .collect::<Vec<_>>()
                .join("  "),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r, false));
            out.push('\n');
        }
        out
    }
}

/// A number with `d` decimals, or "-" when not finite.
pub fn num(v: f64, d: usize) -> String {
    if v.is_finite() {
        format!("{v:.d$}")
    } else {
        "-".into()
    }
}

/// A fraction as a whole percentage ("62 %"), "-" when not finite.
#[must_use]
pub fn pct0(v: f64) -> String {
    if v.is_finite() {
        format!("{:.0} %", 100.0 * v)
    } else {
        "-".into()
    }
}

/// "mean ± sd" with `d` decimals ("-" parts when not finite).
pub fn mean_sd(mean: f64, sd: f64, d: usize) -> String {
    format!("{} ± {}", num(mean, d), num(sd, d))
}
