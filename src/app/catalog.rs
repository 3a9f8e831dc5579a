//! The walks as the browser lists them: one row of display fields per walk, built once per
//! change of the data or priors (on the load job's thread when a project loads), filtered and
//! sorted into row indices. Per-frame work then depends on the rows shown, never on how many
//! walks the project holds. No egui here.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::core::data::{GaitSequence, Provenance};
use crate::core::io::ImportReport;

/// Class shown for walks without a label.
pub const UNLABELLED: &str = "(unlabelled)";

/// One walk's display fields.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkRow {
    /// Walk id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Class label, or [`UNLABELLED`].
    pub class: String,
    /// Frames.
    pub frames: usize,
    /// Frame rate.
    pub fps: f32,
    /// Import warnings and analysis failures of the walk.
    pub problems: usize,
    /// Synthetic walk (demo data or generated).
    pub synthetic: bool,
    /// From a generated set.
    pub generated: bool,
    /// Lower-case "id, subject, class" for the search box (lower-cased once, not per frame).
    search: String,
}

/// Which walks the browser lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SourceFilter {
    /// Recorded and generated.
    #[default]
    All,
    /// Recorded only.
    Recorded,
    /// Generated only.
    Generated,
}

/// The browser's filters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Filter {
    /// Free-text search over id, subject and class (case-insensitive).
    pub search: String,
    /// Class ("" = all).
    pub class: String,
    /// Recorded, generated or both.
    pub source: SourceFilter,
    /// Only walks with problems.
    pub problems_only: bool,
}

/// A column the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SortKey {
    /// Load order (recorded, then generated).
    #[default]
    Loaded,
    /// Walk id.
    Walk,
    /// Subject.
    Subject,
    /// Class.
    Class,
    /// Frames.
    Frames,
    /// Frame rate.
    Fps,
    /// Number of problems.
    Problems,
}

/// Sort column and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Sort {
    /// Column.
    pub key: SortKey,
    /// Largest first.
    pub descending: bool,
}

/// Every walk's row, in load order, with what the browser's header and status bar show.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Rows: recorded walks first, then generated.
    pub rows: Vec<WalkRow>,
    /// Distinct classes over all walks, sorted.
    pub classes: Vec<String>,
    /// Distinct class labels of the recorded walks, sorted (unlabelled walks left out).
    pub recorded_classes: Vec<String>,
    /// Recorded walks per class, in [`Catalog::recorded_classes`] order.
    pub recorded_class_walks: Vec<usize>,
    /// Distinct subjects among the recorded walks.
    pub recorded_subjects: usize,
    /// True when there are recorded walks and all are synthetic (the demo data).
    pub synthetic_recorded: bool,
}

impl Catalog {
    /// Builds the rows of `recorded` then `generated`; `problems` counts each walk's problems.
    #[must_use]
    pub fn build(
        recorded: &[GaitSequence],
        generated: &[GaitSequence],
        problems: &HashMap<String, Vec<String>>,
    ) -> Self {
        let row = |s: &GaitSequence| {
            let class = s.label.clone().unwrap_or_else(|| UNLABELLED.into());
            WalkRow {
                search: format!("{}\n{}\n{}", s.id, s.subject, class).to_lowercase(),
                id: s.id.clone(),
                subject: s.subject.clone(),
                class,
                frames: s.frames(),
                fps: s.fps,
                problems: problems.get(&s.id).map_or(0, Vec::len),
                synthetic: s.is_synthetic(),
                generated: matches!(s.provenance, Provenance::Generated { .. }),
            }
        };
        let rows: Vec<WalkRow> = recorded.iter().chain(generated).map(row).collect();
        let classes: BTreeSet<&str> = rows.iter().map(|r| r.class.as_str()).collect();
        let subjects: BTreeSet<&str> = recorded.iter().map(|s| s.subject.as_str()).collect();
        let mut labels = BTreeMap::<&str, usize>::new();
        for l in recorded.iter().filter_map(|s| s.label.as_deref()) {
            *labels.entry(l).or_default() += 1;
        }
        Self {
            classes: classes.into_iter().map(str::to_string).collect(),
            recorded_classes: labels.keys().map(|l| (*l).to_string()).collect(),
            recorded_class_walks: labels.into_values().collect(),
            recorded_subjects: subjects.len(),
            synthetic_recorded: !recorded.is_empty()
                && recorded.iter().all(GaitSequence::is_synthetic),
            rows,
        }
    }

    /// Appends the rows of more (generated) walks, built with [`Catalog::build`].
    pub fn extend(&mut self, more: Self) {
        for c in more.classes {
            if let Err(i) = self.classes.binary_search(&c) {
                self.classes.insert(i, c);
            }
        }
        self.rows.extend(more.rows);
    }

    /// Updates the problem counts (after the priors changed which walks failed analysis).
    pub fn set_problems(&mut self, problems: &HashMap<String, Vec<String>>) {
        for r in &mut self.rows {
            r.problems = problems.get(&r.id).map_or(0, Vec::len);
        }
    }

    /// Indices of the rows passing `f`, in load order.
    #[must_use]
    pub fn filter(&self, f: &Filter) -> Vec<u32> {
        let q = f.search.trim().to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                (q.is_empty() || r.search.contains(&q))
                    && (f.class.is_empty() || r.class == f.class)
                    && match f.source {
                        SourceFilter::All => true,
                        SourceFilter::Recorded => !r.generated,
                        SourceFilter::Generated => r.generated,
                    }
                    && (!f.problems_only || r.problems > 0)
            })
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Sorts row indices by `sort` (stable: equal keys keep load order).
    pub fn sort(&self, idx: &mut [u32], sort: Sort) {
        let rows = &self.rows;
        let cmp = |a: &u32, b: &u32| -> Ordering {
            let (x, y) = (&rows[*a as usize], &rows[*b as usize]);
            match sort.key {
                SortKey::Loaded => a.cmp(b),
                SortKey::Walk => natural(&x.id, &y.id),
                SortKey::Subject => natural(&x.subject, &y.subject),
                SortKey::Class => x.class.cmp(&y.class),
                SortKey::Frames => x.frames.cmp(&y.frames),
                SortKey::Fps => x.fps.total_cmp(&y.fps),
                SortKey::Problems => x.problems.cmp(&y.problems),
            }
        };
        if sort.descending {
            idx.sort_by(|a, b| cmp(b, a));
        } else {
            idx.sort_by(cmp);
        }
    }
}

/// A project's walks with the lookups the studio needs over them (id index, import warnings
/// per walk, display rows), built where the walks were loaded: on the load job's thread.
pub struct LoadedWalks {
    pub(super) recorded: Vec<GaitSequence>,
    pub(super) reports: Vec<ImportReport>,
    pub(super) generated: Vec<GaitSequence>,
    pub(super) load_problems: Vec<String>,
    pub(super) index: HashMap<String, (bool, usize)>,
    pub(super) file_problems: HashMap<String, Vec<String>>,
    pub(super) catalog: Catalog,
}

impl LoadedWalks {
    /// Indexes recorded walks (with their import reports) and generated walks;
    /// `load_problems` are problems met loading generated sets.
    #[must_use]
    pub fn new(
        recorded: Vec<GaitSequence>,
        reports: Vec<ImportReport>,
        generated: Vec<GaitSequence>,
        load_problems: Vec<String>,
    ) -> Self {
        let index = recorded
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), (false, i)))
            .chain(
                generated
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.id.clone(), (true, i))),
            )
            .collect();
        let mut file_problems: HashMap<String, Vec<String>> = HashMap::new();
        for f in reports.iter().flat_map(|r| r.files.iter()) {
            for id in f.sequences.iter().filter(|_| !f.warnings.is_empty()) {
                file_problems
                    .entry(id.clone())
                    .or_default()
                    .extend(f.warnings.iter().cloned());
            }
        }
        let catalog = Catalog::build(&recorded, &generated, &file_problems);
        Self {
            recorded,
            reports,
            generated,
            load_problems,
            index,
            file_problems,
            catalog,
        }
    }

    /// Import reports of the file sources.
    #[must_use]
    pub fn reports(&self) -> &[ImportReport] {
        &self.reports
    }

    /// Problems met loading generated sets.
    #[must_use]
    pub fn load_problems(&self) -> &[String] {
        &self.load_problems
    }

    /// Recorded walks.
    #[must_use]
    pub fn recorded(&self) -> &[GaitSequence] {
        &self.recorded
    }
}

/// Generated walks with their display rows, built on the generation job's thread so the
/// frame that takes them in only moves them.
pub struct GeneratedWalks {
    pub(super) walks: Vec<GaitSequence>,
    pub(super) rows: Catalog,
}

impl GeneratedWalks {
    /// Builds the rows of `walks`.
    #[must_use]
    pub fn new(walks: Vec<GaitSequence>) -> Self {
        let rows = Catalog::build(&[], &walks, &HashMap::new());
        Self { walks, rows }
    }

    /// The walks.
    #[must_use]
    pub fn walks(&self) -> &[GaitSequence] {
        &self.walks
    }
}

/// Compares strings with runs of digits as numbers, so "human2" comes before "human10".
#[must_use]
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (trim_zeros(&x[..nx]), trim_zeros(&y[..ny]));
                let o = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
                if o != Ordering::Equal {
                    return o;
                }
                (x, y) = (&x[nx..], &y[ny..]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let z = d.iter().take_while(|c| **c == b'0').count();
    &d[z..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, subject: &str, class: &str, frames: usize, problems: usize) -> WalkRow {
        WalkRow {
            id: id.into(),
            subject: subject.into(),
            class: class.into(),
            frames,
            fps: 30.0,
            problems,
            synthetic: false,
            generated: id.starts_with('g'),
            search: format!("{id}\n{subject}\n{class}").to_lowercase(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            rows: vec![
                row("w10", "human10", "normal", 80, 0),
                row("w2", "human2", "Antalgic", 95, 2),
                row("g1", "generated:a", "normal", 70, 0),
                row("w1", "human1", "steppage", 80, 1),
            ],
            ..Catalog::default()
        }
    }

    #[test]
    fn natural_order_reads_numbers_as_numbers() {
        assert_eq!(natural("human2", "human10"), Ordering::Less);
        assert_eq!(natural("human10", "human2"), Ordering::Greater);
        assert_eq!(natural("a007", "a7"), Ordering::Equal);
        assert_eq!(natural("a", "a1"), Ordering::Less);
        assert_eq!(natural("b1", "a2"), Ordering::Greater);
    }

    #[test]
    fn filters_combine_and_search_ignores_case() {
        let c = catalog();
        let f = |search: &str, class: &str, source, problems_only| Filter {
            search: search.into(),
            class: class.into(),
            source,
            problems_only,
        };
        assert_eq!(c.filter(&Filter::default()), [0, 1, 2, 3]);
        assert_eq!(c.filter(&f("ANTAL", "", SourceFilter::All, false)), [1]);
        assert_eq!(c.filter(&f("", "normal", SourceFilter::All, false)), [0, 2]);
        assert_eq!(
            c.filter(&f("", "normal", SourceFilter::Generated, false)),
            [2]
        );
        assert_eq!(c.filter(&f("", "", SourceFilter::Recorded, true)), [1, 3]);
        assert!(
            c.filter(&f("nobody", "", SourceFilter::All, false))
                .is_empty()
        );
    }

    #[test]
    fn sorts_by_every_column_both_ways_and_stably() {
        let c = catalog();
        let sorted = |key, descending| {
            let mut i = c.filter(&Filter::default());
            c.sort(&mut i, Sort { key, descending });
            i
        };
        assert_eq!(sorted(SortKey::Loaded, false), [0, 1, 2, 3]);
        assert_eq!(sorted(SortKey::Loaded, true), [3, 2, 1, 0]);
        assert_eq!(sorted(SortKey::Walk, false), [2, 3, 1, 0]);
        assert_eq!(sorted(SortKey::Subject, false), [2, 3, 1, 0]);
        // Equal frames (w10, w1) keep load order both ways round.
        assert_eq!(sorted(SortKey::Frames, false), [2, 0, 3, 1]);
        assert_eq!(sorted(SortKey::Frames, true), [1, 0, 3, 2]);
        assert_eq!(sorted(SortKey::Class, false), [1, 0, 2, 3]);
        assert_eq!(sorted(SortKey::Problems, true), [1, 3, 0, 2]);
        assert_eq!(sorted(SortKey::Fps, false), [0, 1, 2, 3]);
    }
}
