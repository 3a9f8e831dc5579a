//! The data-scarcity curve: the evaluation repeated with each fold's real training subjects cut
//! to a few (1, 2, 4, ..., all; see [`super::EvalConfig::real_subjects`]), every condition
//! trained and tested on the same held-out subjects, so the question synthetic data exists for
//! (does it help where real data run out?) is asked where the classifier is not at its
//! ceiling. A table (CSV) and a plot (SVG, PNG) of accuracy against real subjects, one line
//! per condition, mean ± SD over folds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::classifier::ClassifierKind;
use super::{Condition, EvalReport};
use crate::core::charts::{standalone, xml};
use crate::core::fsutil::write_atomic;
use crate::core::model::ModelError;
use crate::core::report::pdf::svg_png;

/// One point of the curve: a classifier's accuracy on a condition with a cut of real subjects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScarcityRow {
    /// The cut asked for ("1", "2", "all").
    pub real_subjects: String,
    /// Real training subjects the folds actually had (mean over folds; fewer than asked when
    /// a fold had fewer).
    pub fit_subjects: f64,
    /// Classifier.
    pub classifier: ClassifierKind,
    /// Condition.
    pub condition: Condition,
    /// Folds.
    pub folds: usize,
    /// Mean accuracy over folds.
    pub accuracy_mean: f64,
    /// SD over folds (NaN with one fold).
    pub accuracy_sd: f64,
    /// Balanced accuracy of the cut's held-out walks pooled: on an unbalanced set the figure
    /// to compare with guessing ([`super::SummaryRow::balanced_accuracy`]).
    #[serde(default = "nan")]
    pub balanced_accuracy: f64,
    /// Its permutation p-value against shuffled labels.
    #[serde(default = "nan")]
    pub p_balanced: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// The curve over every cut.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scarcity {
    /// Cuts in the order asked.
    pub cuts: Vec<String>,
    /// Points.
    pub rows: Vec<ScarcityRow>,
}

/// The name of a cut: its count, or "all".
#[must_use]
pub fn cut_name(real_subjects: Option<usize>) -> String {
    real_subjects.map_or_else(|| "all".into(), |k| k.to_string())
}

/// The folder of one cut's evaluation inside a scarcity run's folder.
#[must_use]
pub fn cut_dir(out: &Path, real_subjects: Option<usize>) -> PathBuf {
    out.join(format!("real-subjects-{}", cut_name(real_subjects)))
}

/// A finished evaluation read back from its folder: one report (a plain run), or one per cut
/// with the curve (a scarcity run).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalRun {
    /// The folder.
    pub dir: PathBuf,
    /// Reports, per cut (`None`: all real subjects), in cut order.
    pub runs: Vec<(Option<usize>, EvalReport)>,
    /// The curve, for a run of several cuts.
    pub scarcity: Option<Scarcity>,
}

impl EvalRun {
    /// Reads `dir`: its `report.ron`, else the `real-subjects-*/report.ron` of its cuts
    /// (counts in order, then all) and the curve over them.
    ///
    /// # Errors
    /// No report in the folder, or one that cannot be read (naming the file).
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        // report.ron keeps NaN (an SD over one fold); report.json writes it as null.
        let read = |d: &Path| -> Result<EvalReport, ModelError> {
            let p = d.join("report.ron");
            let bad = |m: String| ModelError::Files {
                path: p.display().to_string(),
                message: m,
            };
            let text = std::fs::read_to_string(&p).map_err(|e| bad(e.to_string()))?;
            let mut r: EvalReport =
                ron::from_str(&text).map_err(|e| bad(format!("not an evaluation report: {e}")))?;
            r.retest();
            Ok(r)
        };
        if dir.join("report.ron").is_file() {
            let r = read(dir)?;
            return Ok(Self {
                dir: dir.to_path_buf(),
                runs: vec![(r.settings.real_subjects, r)],
                scarcity: None,
            });
        }
        let entries = std::fs::read_dir(dir).map_err(|e| ModelError::Files {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut cuts: Vec<Option<usize>> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                match name.strip_prefix("real-subjects-")? {
                    "all" => Some(None),
                    n => n.parse().ok().map(Some),
                }
            })
            .filter(|c| cut_dir(dir, *c).join("report.ron").is_file())
            .collect();
        // Counts ascending, "all" last.
        cuts.sort_by_key(|c| c.unwrap_or(usize::MAX));
        if cuts.is_empty() {
            return Err(ModelError::Files {
                path: dir.display().to_string(),
                message: "no report.ron here nor in real-subjects-*/ (not an evaluation folder)"
                    .into(),
            });
        }
        let mut runs = Vec::new();
        for c in cuts {
            runs.push((c, read(&cut_dir(dir, c))?));
        }
        let refs: Vec<(Option<usize>, &EvalReport)> = runs.iter().map(|(c, r)| (*c, r)).collect();
        let scarcity = Some(Scarcity::of(&refs));
        Ok(Self {
            dir: dir.to_path_buf(),
            runs,
            scarcity,
        })
    }
}

/// Condition colours in the plot (colour-blind safe, Okabe-Ito), in [`Condition::ALL`] order;
/// the studio draws the curve in the same colours.
pub const COLOURS: [&str; 6] = [
    "#000000", "#e69f00", "#0072b2", "#009e73", "#cc79a7", "#d55e00",
];

impl Scarcity {
    /// Collects the curve from one report per cut.
    #[must_use]
    pub fn of(runs: &[(Option<usize>, &EvalReport)]) -> Self {
        let mut rows = Vec::new();
        for (cut, r) in runs {
            let fit = r
                .folds
                .iter()
                .map(|f| f.fit_subjects.len() as f64)
                .sum::<f64>()
                / r.folds.len().max(1) as f64;
            for s in &r.summary {
                rows.push(ScarcityRow {
                    real_subjects: cut_name(*cut),
                    fit_subjects: fit,
                    classifier: s.classifier,
                    condition: s.condition,
                    folds: s.folds,
                    accuracy_mean: s.accuracy_mean,
                    accuracy_sd: s.accuracy_sd,
                    balanced_accuracy: s.balanced_accuracy,
                    p_balanced: s.p_balanced,
                });
            }
        }
        Self {
            cuts: runs.iter().map(|(c, _)| cut_name(*c)).collect(),
            rows,
        }
    }

    /// The point of a classifier, condition and cut.
    #[must_use]
    pub fn point(&self, k: ClassifierKind, c: Condition, cut: &str) -> Option<&ScarcityRow> {
        self.rows
            .iter()
            .find(|r| r.classifier == k && r.condition == c && r.real_subjects == cut)
    }

    /// Writes `scarcity.csv`, `scarcity.json` and `scarcity-<classifier>.svg` and `.png` for
    /// each of `classifiers` into `dir`; returns the files written.
    ///
    /// # Errors
    /// Unwritable files (naming them), or a plot that cannot be drawn.
    pub fn write(
        &self,
        dir: &Path,
        classifiers: &[ClassifierKind],
    ) -> Result<Vec<PathBuf>, ModelError> {
        let err = |p: &Path, m: String| ModelError::Files {
            path: p.display().to_string(),
            message: m,
        };
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| err(&dir.join("scarcity.json"), e.to_string()))?;
        let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
            (dir.join("scarcity.csv"), self.csv().into_bytes()),
            (dir.join("scarcity.json"), json.into_bytes()),
        ];
        for &k in classifiers {
            let stem = format!("scarcity-{}", k.name().to_lowercase());
            let svg = self.svg(k);
            let png_path = dir.join(format!("{stem}.png"));
            let png = svg_png(&svg, 2.0).map_err(|e| err(&png_path, e.to_string()))?;
            files.push((dir.join(format!("{stem}.svg")), svg.into_bytes()));
            files.push((png_path, png));
        }
        for (p, bytes) in &files {
            write_atomic(p, bytes).map_err(|e| err(p, e.to_string()))?;
        }
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }

    /// The table as CSV: one row per cut, classifier and condition.
    #[must_use]
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "real_subjects,fit_subjects_mean,classifier,condition,folds,accuracy_mean,accuracy_sd,balanced_accuracy,p_balanced\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{},{:.2},{},{},{},{:.4},{:.4},{:.4},{:.3e}",
                r.real_subjects,
                r.fit_subjects,
                r.classifier.name(),
                r.condition.name(),
                r.folds,
                r.accuracy_mean,
                r.accuracy_sd,
                r.balanced_accuracy,
                r.p_balanced
            );
        }
        s
    }

    /// Accuracy against real training subjects for one classifier: one line per condition,
    /// error bars of ± 1 SD over folds, the cuts evenly spaced along x.
    #[must_use]
    pub fn svg(&self, k: ClassifierKind) -> String {
        let (w, h) = (640.0, 400.0);
        let (x0, y0, pw, ph) = (60.0, 40.0, 380.0, 300.0);
        let n = self.cuts.len().max(1);
        let x = |i: usize| x0 + pw * (i as f64 + 0.5) / n as f64;
        let y = |acc: f64| y0 + ph * (1.0 - acc);
        let mut b = String::new();
        let _ = writeln!(
            b,
            "<text x=\"{x0}\" y=\"22\" font-size=\"13\" font-weight=\"bold\">{} accuracy vs real training subjects (mean ± SD over folds)</text>",
            xml(k.name())
        );
        for t in 0..=5 {
            let v = f64::from(t) / 5.0;
            let _ = writeln!(
                b,
                "<line x1=\"{x0}\" y1=\"{yy:.1}\" x2=\"{xe:.1}\" y2=\"{yy:.1}\" stroke=\"#e4e4e4\"/><text x=\"{xl:.1}\" y=\"{yt:.1}\" font-size=\"10\" text-anchor=\"end\">{p}%</text>",
                yy = y(v),
                xe = x0 + pw,
                xl = x0 - 5.0,
                yt = y(v) + 3.5,
                p = t * 20
            );
        }
        for (i, cut) in self.cuts.iter().enumerate() {
            let fit = self
                .rows
                .iter()
                .find(|r| r.real_subjects == *cut)
                .map_or(f64::NAN, |r| r.fit_subjects);
            let _ = writeln!(
                b,
                "<text x=\"{xx:.1}\" y=\"{yt:.1}\" font-size=\"10\" text-anchor=\"middle\">{} ({fit:.0})</text>",
                xml(cut),
                xx = x(i),
                yt = y0 + ph + 16.0
            );
        }
        let _ = writeln!(
            b,
            "<text x=\"{xx:.1}\" y=\"{yt:.1}\" font-size=\"11\" text-anchor=\"middle\">real training subjects asked (had, mean over folds)</text>",
            xx = x0 + pw / 2.0,
            yt = y0 + ph + 34.0
        );
        for (ci, c) in Condition::ALL.iter().enumerate() {
            let colour = COLOURS[ci % COLOURS.len()];
            let pts: Vec<(f64, f64, f64)> = self
                .cuts
                .iter()
                .enumerate()
                .filter_map(|(i, cut)| {
                    let r = self.point(k, *c, cut)?;
                    r.accuracy_mean
                        .is_finite()
                        .then(|| (x(i), r.accuracy_mean, r.accuracy_sd))
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            let line: Vec<String> = pts
                .iter()
                .map(|(px, a, _)| format!("{px:.1},{:.1}", y(*a)))
                .collect();
            let _ = writeln!(
                b,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                line.join(" ")
            );
            for (px, a, sd) in &pts {
                if sd.is_finite() {
                    let _ = writeln!(
                        b,
                        "<line x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"{colour}\"/>",
                        y((a - sd).max(0.0)),
                        y((a + sd).min(1.0))
                    );
                }
                let _ = writeln!(
                    b,
                    "<circle cx=\"{px:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                    y(*a)
                );
            }
            let ly = y0 + 14.0 + 18.0 * ci as f64;
            let _ = writeln!(
                b,
                "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{lx2:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"11\">{}</text>",
                xml(c.name()),
                lx = x0 + pw + 16.0,
                lx2 = x0 + pw + 36.0,
                tx = x0 + pw + 42.0,
                ty = ly + 4.0
            );
        }
        standalone(&b, w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cut: &str, c: Condition, acc: f64) -> ScarcityRow {
        ScarcityRow {
            real_subjects: cut.into(),
            fit_subjects: if cut == "all" { 6.0 } else { 1.0 },
            classifier: ClassifierKind::Gru,
            condition: c,
            folds: 3,
            accuracy_mean: acc,
            accuracy_sd: 0.05,
            balanced_accuracy: acc - 0.1,
            p_balanced: 0.002,
        }
    }

    #[test]
    fn the_plot_has_a_line_per_condition_and_the_table_a_row_per_point() {
        let s = Scarcity {
            cuts: vec!["1".into(), "all".into()],
            rows: vec![
                row("1", Condition::Real, 0.5),
                row("all", Condition::Real, 0.9),
                row("1", Condition::PretrainFinetune, 0.7),
                row("all", Condition::PretrainFinetune, 0.92),
            ],
        };
        let svg = s.svg(ClassifierKind::Gru);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(&xml(Condition::PretrainFinetune.name())));
        assert!(svg.contains("all (6)") && svg.contains("1 (1)"));
        let opt = usvg::Options::default();
        assert!(usvg::Tree::from_str(&svg, &opt).is_ok(), "valid SVG");
        let csv = s.csv();
        assert_eq!(csv.lines().count(), 5);
        assert!(csv.contains("1,1.00,GRU,Real,3,0.5000,0.0500,0.4000,2.000e-3"));
        assert_eq!(
            s.point(ClassifierKind::Gru, Condition::Real, "all")
                .map(|r| r.accuracy_mean),
            Some(0.9)
        );
    }
}
