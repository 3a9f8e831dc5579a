//! Label/subject tables (CSV) attached to a directory import.
//!
//! Header names are matched case-insensitively: a file column (`file`, `path`, `filename`,
//! `name`), `subject`, `label` (or `class`, `gait`), and optional `severity` (0..1) and `side`
//! (L/R). Other columns are ignored. Rows match imported files by relative path, then by name.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ImportError;
use crate::core::data::Side;

/// One row of a label table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRow {
    /// File as written in the table (relative path or bare name).
    pub file: String,
    /// Subject id, when the table has one.
    pub subject: Option<String>,
    /// Class label.
    pub label: Option<String>,
    /// Severity in [0, 1].
    pub severity: Option<f32>,
    /// Affected side.
    pub side: Option<Side>,
}

/// A loaded label table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelTable {
    /// Where it was read from.
    pub path: PathBuf,
    /// Rows in file order.
    pub rows: Vec<LabelRow>,
}

fn col(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

impl LabelTable {
    /// Reads a label table.
    ///
    /// # Errors
    /// Unreadable file, no file column, neither a label nor a subject column, a malformed row
    /// or an invalid severity/side (with the line number).
    pub fn load(path: &Path) -> Result<Self, ImportError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| ImportError::invalid(path, format!("cannot read label table: {e}")))?;
        let headers = rdr
            .headers()
            .map_err(|e| ImportError::parse(path, 1, format!("bad header: {e}")))?
            .clone();
        let file_c = col(&headers, &["file", "path", "filename", "file_name", "name"])
            .ok_or_else(|| ImportError::parse(path, 1, "label table needs a 'file' column"))?;
        let subject_c = col(&headers, &["subject", "subject_id", "participant"]);
        let label_c = col(&headers, &["label", "class", "gait", "group"]);
        if subject_c.is_none() && label_c.is_none() {
            return Err(ImportError::parse(
                path,
                1,
                "label table needs a 'label' and/or 'subject' column",
            ));
        }
        let severity_c = col(&headers, &["severity"]);
        let side_c = col(&headers, &["side", "affected_side"]);
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| ImportError::parse(path, line, e.to_string()))?;
            let get = |c: Option<usize>| {
                c.and_then(|c| rec.get(c))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let Some(file) = get(Some(file_c)) else {
                continue;
            };
            let severity = match get(severity_c) {
                Some(s) => {
                    let v: f32 = s.parse().map_err(|_| {
                        ImportError::parse(path, line, format!("severity '{s}' is not a number"))
                    })?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(ImportError::parse(
                            path,
                            line,
                            format!("severity {v} is outside 0..1"),
                        ));
                    }
                    Some(v)
                }
                None => None,
            };
            let side = match get(side_c) {
                Some(s) => Some(Side::parse(&s).ok_or_else(|| {
                    ImportError::parse(path, line, format!("side '{s}' is not L/R/left/right"))
                })?),
                None => None,
            };
            rows.push(LabelRow {
                file,
                subject: get(subject_c),
                label: get(label_c),
                severity,
                side,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// The row for `file` (an imported path): the longest table path that is a suffix of it,
    /// else a row with the same file name.
    #[must_use]
    pub fn lookup(&self, file: &Path) -> Option<&LabelRow> {
        let norm = |s: &str| s.replace('\\', "/");
        let f = norm(&file.to_string_lossy());
        self.rows
            .iter()
            .filter(|r| {
                let r = norm(&r.file);
                f == r || f.ends_with(&format!("/{}", r.trim_start_matches("./")))
            })
            .max_by_key(|r| r.file.len())
            .or_else(|| {
                let name = file.file_name()?.to_string_lossy().into_owned();
                self.rows.iter().find(|r| {
                    Path::new(&norm(&r.file))
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy() == name)
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_matches_by_suffix_then_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index.csv");
        std::fs::write(
            &p,
            "file,Subject,Label,severity,side\ndataset/a.bvh,S1,Healthy,,\nb.bvh,S2,Stroke,0.7,L\n",
        )
        .unwrap();
        let t = LabelTable::load(&p).unwrap();
        assert_eq!(
            t.lookup(Path::new("/x/dataset/a.bvh"))
                .unwrap()
                .subject
                .as_deref(),
            Some("S1")
        );
        let b = t.lookup(Path::new("/y/b.bvh")).unwrap();
        assert_eq!((b.severity, b.side), (Some(0.7), Some(Side::Left)));
        assert!(t.lookup(Path::new("/y/c.bvh")).is_none());
    }

    #[test]
    fn missing_columns_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(&p, "name,frames\na.bvh,3\n").unwrap();
        assert!(
            LabelTable::load(&p)
                .unwrap_err()
                .to_string()
                .contains("'label' and/or 'subject'")
        );
        std::fs::write(&p, "file,label,severity\na.bvh,x,2.5\n").unwrap();
        let e = LabelTable::load(&p).unwrap_err().to_string();
        assert!(e.contains("l.csv:2: severity 2.5 is outside 0..1"), "{e}");
    }
}
