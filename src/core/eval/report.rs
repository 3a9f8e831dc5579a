//! Aggregation over folds and the files an evaluation writes: `report.json` (settings, seeds,
//! every fold), `summary.csv` (the Table-I numbers), `per_fold.csv`, `confusion.csv` and
//! `generative.csv`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Condition;
use super::classifier::ClassifierKind;
use super::conditions::{accuracy, macro_f1};
use super::config::EvalConfig;
use super::generative::{ClassDistance, Recognition};
use super::protocol::FoldResult;
use super::significance::{
    Comparison, balanced_accuracy, comparisons, no_information_rate, p_above_rate, p_balanced,
};
use crate::core::data::Dataset;
use crate::core::fsutil::write_atomic;
use crate::core::math::{mean, std_dev};
use crate::core::model::ModelError;

/// Report format version (2: rows tested against the no-information rate, with balanced
/// accuracy; a version-1 report is re-tested when read).
pub const REPORT_VERSION: u32 = 2;

/// One cell group of the table: a classifier on a condition, over folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Classifier.
    pub classifier: ClassifierKind,
    /// Condition.
    pub condition: Condition,
    /// Folds that produced a result.
    pub folds: usize,
    /// Mean of per-fold accuracy.
    pub accuracy_mean: f64,
    /// SD of per-fold accuracy (NaN with one fold).
    pub accuracy_sd: f64,
    /// Mean of per-fold macro-F1.
    pub macro_f1_mean: f64,
    /// SD of per-fold macro-F1.
    pub macro_f1_sd: f64,
    /// Accuracy of all held-out walks pooled.
    pub pooled_accuracy: f64,
    /// Macro-F1 of all held-out walks pooled (per-fold F1 is coarse when a fold holds one
    /// subject of one class).
    pub pooled_macro_f1: f64,
    /// Pooled `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Share of the largest class among the pooled held-out walks: the accuracy of always
    /// naming it ([`super::significance::no_information_rate`]).
    #[serde(default = "nan")]
    pub no_information_rate: f64,
    /// One-sided binomial p-value of the pooled accuracy against the no-information rate.
    #[serde(default = "nan")]
    pub p_vs_no_information: f64,
    /// Balanced accuracy (mean recall over classes) of the pooled held-out walks; guessing
    /// scores `1 / classes` on it whatever the class sizes.
    #[serde(default = "nan")]
    pub balanced_accuracy: f64,
    /// Permutation p-value of the balanced accuracy ([`super::significance::p_balanced`]).
    #[serde(default = "nan")]
    pub p_balanced: f64,
}

impl SummaryRow {
    /// Fills the tests derived from the pooled confusion matrix. Reports are re-tested when
    /// read back, so a report written before a test existed (or by a build that judged against
    /// `1 / classes`) shows the same figures as a new one.
    pub fn test(&mut self) {
        let right: usize = (0..self.confusion.len())
            .map(|i| self.confusion[i].get(i).copied().unwrap_or(0))
            .sum();
        let walks: usize = self.confusion.iter().flatten().sum();
        self.no_information_rate = no_information_rate(&self.confusion);
        self.p_vs_no_information = p_above_rate(right, walks, self.no_information_rate);
        self.balanced_accuracy = balanced_accuracy(&self.confusion);
        self.p_balanced = p_balanced(&self.confusion);
    }
}

fn nan() -> f64 {
    f64::NAN
}

/// Fréchet distances of a class averaged over folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistanceRow {
    /// Class (or "all").
    pub class: String,
    /// Real vs model, mean over folds.
    pub model: f64,
    /// Real vs baseline.
    pub baseline: f64,
    /// Real vs real (validation subjects).
    pub real_reference: f64,
    /// Recognition by the real-trained classifier, mean over folds.
    #[serde(default)]
    pub recognised: Recognition,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Format version.
    pub version: u32,
    /// Dataset name.
    pub dataset: String,
    /// Walks in the dataset.
    pub walks: usize,
    /// Subjects in the dataset.
    pub subjects: usize,
    /// Class names (confusion matrix order).
    pub classes: Vec<String>,
    /// Settings and seeds.
    pub settings: EvalConfig,
    /// Every fold.
    pub folds: Vec<FoldResult>,
    /// Table rows.
    pub summary: Vec<SummaryRow>,
    /// Fréchet distances per class (mean over folds).
    pub distances: Vec<DistanceRow>,
    /// Balanced accuracy of guessing among the classes (1 / classes). On a balanced test set
    /// it is the plain accuracy's chance level too; on an unbalanced one that level is each
    /// row's [`SummaryRow::no_information_rate`].
    #[serde(default = "nan")]
    pub chance: f64,
    /// Pairs of conditions on the same held-out walks (exact McNemar tests).
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
}

fn finite_mean(v: &[f64]) -> f64 {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    mean(&f).unwrap_or(f64::NAN)
}

fn finite_sd(v: &[f64]) -> f64 {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    std_dev(&f).unwrap_or(f64::NAN)
}

impl EvalReport {
    /// Aggregates fold results.
    #[must_use]
    pub fn new(
        ds: &Dataset,
        cfg: &EvalConfig,
        classes: Vec<String>,
        folds: Vec<FoldResult>,
    ) -> Self {
        let nc = classes.len();
        let mut summary = Vec::new();
        for &kind in &cfg.classifiers {
            for cond in Condition::ALL {
                let rs: Vec<_> = folds
                    .iter()
                    .flat_map(|f| &f.results)
                    .filter(|r| r.classifier == kind && r.condition == cond)
                    .collect();
                if rs.is_empty() {
                    continue;
                }
                let mut confusion = vec![vec![0usize; nc]; nc];
                for r in &rs {
                    for (t, row) in r.confusion.iter().enumerate().take(nc) {
                        for (p, n) in row.iter().enumerate().take(nc) {
                            confusion[t][p] += n;
                        }
                    }
                }
                let acc: Vec<f64> = rs.iter().map(|r| r.accuracy).collect();
                let f1: Vec<f64> = rs.iter().map(|r| r.macro_f1).collect();
                let mut row = SummaryRow {
                    classifier: kind,
                    condition: cond,
                    folds: rs.len(),
                    accuracy_mean: finite_mean(&acc),
                    accuracy_sd: finite_sd(&acc),
                    macro_f1_mean: finite_mean(&f1),
                    macro_f1_sd: finite_sd(&f1),
                    pooled_accuracy: accuracy(&confusion),
                    pooled_macro_f1: macro_f1(&confusion),
                    no_information_rate: f64::NAN,
                    p_vs_no_information: f64::NAN,
                    balanced_accuracy: f64::NAN,
                    p_balanced: f64::NAN,
                    confusion,
                };
                row.test();
                summary.push(row);
            }
        }
        let mut distances: Vec<DistanceRow> = classes
            .iter()
            .map(|c| {
                let per: Vec<_> = folds
                    .iter()
                    .flat_map(|f| &f.generative.per_class)
                    .filter(|d| &d.class == c)
                    .collect();
                let mean_of = |f: &dyn Fn(&ClassDistance) -> f64| {
                    finite_mean(&per.iter().map(|d| f(d)).collect::<Vec<_>>())
                };
                DistanceRow {
                    class: c.clone(),
                    model: finite_mean(&per.iter().map(|d| d.model).collect::<Vec<_>>()),
                    baseline: finite_mean(&per.iter().map(|d| d.baseline).collect::<Vec<_>>()),
                    real_reference: finite_mean(
                        &per.iter().map(|d| d.real_reference).collect::<Vec<_>>(),
                    ),
                    recognised: Recognition {
                        model: mean_of(&|d| d.recognised.model),
                        baseline: mean_of(&|d| d.recognised.baseline),
                        real: mean_of(&|d| d.recognised.real),
                    },
                }
            })
            .collect();
        distances.push(DistanceRow {
            class: "all".into(),
            model: finite_mean(
                &folds
                    .iter()
                    .map(|f| f.generative.model_all)
                    .collect::<Vec<_>>(),
            ),
            baseline: finite_mean(
                &folds
                    .iter()
                    .map(|f| f.generative.baseline_all)
                    .collect::<Vec<_>>(),
            ),
            real_reference: f64::NAN,
            recognised: Recognition::default(),
        });
        Self {
            version: REPORT_VERSION,
            dataset: ds.name.clone(),
            walks: ds.sequences.len(),
            subjects: ds.subjects().len(),
            classes,
            settings: cfg.clone(),
            summary,
            distances,
            chance: if nc == 0 { f64::NAN } else { 1.0 / nc as f64 },
            comparisons: comparisons(&folds, &cfg.classifiers),
            folds,
        }
    }

    /// Re-runs every row's tests on its pooled confusion matrix ([`SummaryRow::test`]) and the
    /// paired comparisons on the folds' recorded predictions.
    pub fn retest(&mut self) {
        for r in &mut self.summary {
            r.test();
        }
        self.comparisons = comparisons(&self.folds, &self.settings.classifiers);
    }

    /// The no-information rate of the held-out walks when every row tested the same walks (the
    /// usual case), else NaN (some condition failed on a fold).
    #[must_use]
    pub fn no_information_rate(&self) -> f64 {
        let rates: Vec<f64> = self.summary.iter().map(|r| r.no_information_rate).collect();
        match rates.first() {
            Some(&first) if rates.iter().all(|r| (r - first).abs() < 1e-12) => first,
            _ => f64::NAN,
        }
    }

    /// The row for a classifier and condition.
    #[must_use]
    pub fn row(&self, kind: ClassifierKind, cond: Condition) -> Option<&SummaryRow> {
        self.summary
            .iter()
            .find(|r| r.classifier == kind && r.condition == cond)
    }

    /// `summary.csv` text.
    ///
    /// # Errors
    /// A CSV writer failure (it writes to memory: only on a broken invariant).
    pub fn summary_csv(&self) -> Result<String, String> {
        let mut rows = vec![strings(&[
            "classifier",
            "condition",
            "folds",
            "accuracy_mean",
            "accuracy_sd",
            "macro_f1_mean",
            "macro_f1_sd",
            "pooled_accuracy",
            "pooled_macro_f1",
            "no_information_rate",
            "p_vs_no_information",
            "balanced_accuracy",
            "p_balanced",
        ])];
        for r in &self.summary {
            let mut row = strings(&[r.classifier.name(), r.condition.name()]);
            row.push(r.folds.to_string());
            row.extend(
                [
                    r.accuracy_mean,
                    r.accuracy_sd,
                    r.macro_f1_mean,
                    r.macro_f1_sd,
                    r.pooled_accuracy,
                    r.pooled_macro_f1,
                    r.no_information_rate,
                ]
                .map(|v| format!("{v:.4}")),
            );
            // p-values span many orders of magnitude.
            row.push(format!("{:.3e}", r.p_vs_no_information));
            row.push(format!("{:.4}", r.balanced_accuracy));
            row.push(format!("{:.3e}", r.p_balanced));
            rows.push(row);
        }
        csv_text(&rows)
    }

    /// `per_fold.csv` text (test subjects separated by spaces in one quoted cell).
    ///
    /// # Errors
    /// As [`Self::summary_csv`].
    pub fn per_fold_csv(&self) -> Result<String, String> {
        let mut rows = vec![strings(&[
            "fold",
            "test_subjects",
            "classifier",
            "condition",
            "train_windows",
            "test_walks",
            "accuracy",
            "macro_f1",
            "epochs",
            "best_epoch",
        ])];
        for f in &self.folds {
            for r in &f.results {
                rows.push(vec![
                    (f.fold + 1).to_string(),
                    f.test_subjects.join(" "),
                    r.classifier.name().to_string(),
                    r.condition.name().to_string(),
                    r.train_windows.to_string(),
                    f.test_walks.to_string(),
                    format!("{:.4}", r.accuracy),
                    format!("{:.4}", r.macro_f1),
                    r.fit.epochs.to_string(),
                    r.fit.best_epoch.to_string(),
                ]);
            }
        }
        csv_text(&rows)
    }

    /// `confusion.csv` text: pooled confusion matrices, one row per (classifier, condition,
    /// true class), one column per predicted class.
    ///
    /// # Errors
    /// As [`Self::summary_csv`].
    pub fn confusion_csv(&self) -> Result<String, String> {
        let mut header = strings(&["classifier", "condition", "true\\predicted"]);
        header.extend(self.classes.iter().cloned());
        let mut rows = vec![header];
        for r in &self.summary {
            for (t, counts) in r.confusion.iter().enumerate() {
                let mut row = strings(&[
                    r.classifier.name(),
                    r.condition.name(),
                    self.classes.get(t).map_or("?", String::as_str),
                ]);
                row.extend(counts.iter().map(ToString::to_string));
                rows.push(row);
            }
        }
        csv_text(&rows)
    }

    /// `generative.csv` text: per fold, the quality of real, model and baseline sets and the
    /// pooled Fréchet distances.
    ///
    /// # Errors
    /// As [`Self::summary_csv`].
    pub fn generative_csv(&self) -> Result<String, String> {
        let mut rows = vec![strings(&[
            "fold",
            "set",
            "walks",
            "diversity_m",
            "foot_skating",
            "bone_cv_pct",
            "prior_hit_rate",
            "frechet_all",
        ])];
        for f in &self.folds {
            let g = &f.generative;
            for (name, q, fd) in [
                ("real", &g.real, 0.0),
                ("model", &g.model, g.model_all),
                ("baseline", &g.baseline_quality, g.baseline_all),
            ] {
                rows.push(vec![
                    (f.fold + 1).to_string(),
                    name.to_string(),
                    q.walks.to_string(),
                    format!("{:.4}", q.diversity_m),
                    format!("{:.4}", q.foot_skating),
                    format!("{:.3}", q.bone_violation_pct),
                    format!("{:.3}", q.prior_hit_rate),
                    format!("{fd:.3}"),
                ]);
            }
        }
        csv_text(&rows)
    }

    /// Writes all report files into `dir` (created if needed), each atomically: `report.json`
    /// (and the same as `report.ron`, which keeps NaN), and the CSV tables.
    ///
    /// # Errors
    /// A file that cannot be written, named in the error.
    pub fn write(&self, dir: &Path) -> Result<(), ModelError> {
        let err = |p: &Path, e: &dyn std::fmt::Display| ModelError::Files {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| err(dir, &e))?;
        // JSON has no NaN (undefined SDs are written as null), so the studio reads the RON
        // copy back.
        let ron = ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .map_err(|e| err(dir, &e))?;
        for (name, text) in [
            ("report.json", json),
            ("report.ron", ron),
            ("summary.csv", self.summary_csv().map_err(|e| err(dir, &e))?),
            (
                "per_fold.csv",
                self.per_fold_csv().map_err(|e| err(dir, &e))?,
            ),
            (
                "confusion.csv",
                self.confusion_csv().map_err(|e| err(dir, &e))?,
            ),
            (
                "generative.csv",
                self.generative_csv().map_err(|e| err(dir, &e))?,
            ),
        ] {
            let p = dir.join(name);
            write_atomic(&p, text.as_bytes()).map_err(|e| err(&p, &e))?;
        }
        Ok(())
    }
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_string()).collect()
}

/// Rows as CSV through the `csv` crate: class and subject names with commas or quotes are
/// quoted.
fn csv_text(rows: &[Vec<String>]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}
