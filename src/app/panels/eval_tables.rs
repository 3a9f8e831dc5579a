//! The Evaluation panel's result tables: accuracy per condition, whether its differences
//! carry weight (against always naming the largest class, balanced accuracy against shuffled
//! labels, and paired between conditions), the per-class Fréchet distances and recognition,
//! the pooled confusion matrix, and the form's warning about unbalanced classes.

use egui::{Color32, RichText};

use crate::core::eval::classifier::ClassifierKind;
use crate::core::eval::significance::{ALPHA, COLUMNS, PERMUTATIONS, p_label};
use crate::core::eval::{Condition, EvalReport, SummaryRow};

/// A share as a percentage with one decimal, "–" when undefined.
fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}", 100.0 * v)
    } else {
        "–".into()
    }
}

/// One cell of a [`condition_grid`]: its text, whether it is drawn weak, and its hover.
type Cell = (String, bool, String);

/// A grid of rows classifiers, columns conditions, headed by `heading` (hovered by
/// `heading_hover`); `cell` draws each classifier and condition's row of the summary.
fn condition_grid(
    ui: &mut egui::Ui,
    r: &EvalReport,
    id: &str,
    (heading, heading_hover): (&str, &str),
    cell: impl Fn(&SummaryRow) -> Cell,
) {
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        let head = ui.label(RichText::new(heading).strong());
        if !heading_hover.is_empty() {
            head.on_hover_text(heading_hover);
        }
        for c in Condition::ALL {
            ui.label(RichText::new(c.name()).strong());
        }
        ui.end_row();
        for &k in &r.settings.classifiers {
            ui.label(k.name());
            for c in Condition::ALL {
                if let Some(s) = r.row(k, c) {
                    let (text, weak, hover) = cell(s);
                    let rich = if weak {
                        RichText::new(text).weak()
                    } else {
                        RichText::new(text)
                    };
                    ui.label(rich).on_hover_text(hover);
                } else {
                    ui.label("–");
                }
            }
            ui.end_row();
        }
    });
}

/// Accuracy mean ± SD over folds, rows classifiers, columns conditions. A cell whose pooled
/// walks do not beat always naming the largest class (p ≥ 0.05) is drawn weak, its hover says
/// why; the balanced accuracy grid below it judges against guessing among the classes.
pub fn accuracy_table(ui: &mut egui::Ui, r: &EvalReport, id: &str) {
    condition_grid(ui, r, id, ("accuracy % (mean ± SD)", ""), |s| {
        let weak = s.p_vs_no_information >= ALPHA;
        let hover = format!(
            "All held-out walks pooled: {} % right; always naming the largest class: {} %; p = {}{}",
            pct(s.pooled_accuracy),
            pct(s.no_information_rate),
            p_label(s.p_vs_no_information),
            if weak {
                ": no better than that rule"
            } else {
                ""
            }
        );
        let text = format!("{} ± {}", pct(s.accuracy_mean), pct(s.accuracy_sd));
        (text, weak, hover)
    });
    let weak = r
        .summary
        .iter()
        .filter(|s| s.p_vs_no_information >= ALPHA)
        .count();
    if weak > 0 {
        ui.label(
            RichText::new(format!(
                "Greyed ({weak} of {}): the pooled held-out walks are no better than always naming the largest class ({} % of them; p ≥ {ALPHA}). Hover a cell for its p.",
                r.summary.len(),
                pct(r.no_information_rate()),
            ))
            .weak(),
        );
    }
    ui.add_space(4.0);
    // Balanced accuracy of the pooled walks with its permutation p: on an unbalanced set, the
    // figure that shows whether anything was learnt.
    let chance = pct(r.chance);
    let hover = format!(
        "Mean over classes of the share of their walks named right. Guessing scores {chance} % whatever the class sizes; p counts {PERMUTATIONS} shuffles of the true classes that do as well."
    );
    condition_grid(
        ui,
        r,
        &format!("{id}-balanced"),
        ("balanced accuracy % (pooled)", &hover),
        |s| {
            let weak = s.p_balanced >= ALPHA;
            let hover = format!(
                "p = {} against shuffled labels (guessing: {chance} %){}",
                p_label(s.p_balanced),
                if weak {
                    ": nothing learnt that shows"
                } else {
                    ""
                }
            );
            (pct(s.balanced_accuracy), weak, hover)
        },
    );
    let weak = r.summary.iter().filter(|s| s.p_balanced >= ALPHA).count();
    ui.label(
        RichText::new(format!(
            "Guessing scores {chance} % whatever the class sizes. Greyed ({weak} of {}): shuffled labels do as well (p ≥ {ALPHA}).",
            r.summary.len()
        ))
        .weak(),
    );
}

/// Paired tests between conditions on the same held-out walks (exact McNemar).
pub fn significance(ui: &mut egui::Ui, r: &EvalReport) {
    if r.comparisons.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.label(RichText::new("Paired on the same held-out walks (exact McNemar test)").strong())
        .on_hover_text("Walks one condition gets right and the other wrong (McNemar's p weighs every walk alike); balanced accuracy of both on these walks and a paired sign-flip test that weighs each class alike (p (balanced)). Walks of one subject are not independent, so read p as optimistic: a large p is no evidence of a difference.");
    egui::Grid::new("eval-significance")
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("classifier").strong());
            for h in COLUMNS {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for c in &r.comparisons {
                ui.label(c.classifier.name());
                let [cells @ .., p, balanced, p_balanced] = c.cells();
                for v in cells {
                    ui.label(v);
                }
                for (text, value) in [(p, c.p), (balanced, f64::NAN), (p_balanced, c.p_balanced)] {
                    if value < ALPHA {
                        ui.colored_label(Color32::LIGHT_GREEN, text);
                    } else {
                        ui.label(text);
                    }
                }
                ui.end_row();
            }
        });
}

/// Per class: Fréchet distances and recognition by the real-trained classifier.
pub fn distances(ui: &mut egui::Ui, r: &EvalReport) {
    ui.label(RichText::new("Per class: Fréchet distance (GRU features) and recognition").strong());
    egui::Grid::new("eval-distances")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "class",
                "Fréchet model",
                "baseline",
                "real vs real",
                "recognised % model",
                "baseline",
                "real (validation)",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for d in &r.distances {
                ui.label(&d.class);
                for v in [d.model, d.baseline, d.real_reference] {
                    ui.label(if v.is_finite() {
                        format!("{v:.2}")
                    } else {
                        "–".into()
                    });
                }
                for v in [d.recognised.model, d.recognised.baseline, d.recognised.real] {
                    ui.label(pct(v));
                }
                ui.end_row();
            }
        });
}

/// The pooled confusion matrix of the classifier and condition `m` picks (two menus above it).
pub fn confusion(ui: &mut egui::Ui, r: &EvalReport, m: &mut (ClassifierKind, Condition)) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Confusion matrix (all held-out walks pooled)").strong());
        egui::ComboBox::from_id_salt("eval-matrix-classifier")
            .selected_text(m.0.name())
            .show_ui(ui, |ui| {
                for &k in &r.settings.classifiers {
                    ui.selectable_value(&mut m.0, k, k.name());
                }
            });
        egui::ComboBox::from_id_salt("eval-matrix-condition")
            .selected_text(m.1.name())
            .show_ui(ui, |ui| {
                for c in Condition::ALL {
                    ui.selectable_value(&mut m.1, c, c.name());
                }
            });
    });
    let Some(row) = r.row(m.0, m.1) else {
        ui.label("No result for this classifier and condition.");
        return;
    };
    egui::Grid::new("eval-confusion")
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("true \\ predicted").strong());
            for c in &r.classes {
                ui.label(RichText::new(c).strong());
            }
            ui.end_row();
            for (t, line) in row.confusion.iter().enumerate() {
                ui.label(RichText::new(r.classes.get(t).map_or("?", String::as_str)).strong());
                for (p, n) in line.iter().enumerate() {
                    let text = RichText::new(n.to_string());
                    ui.label(if t == p && *n > 0 {
                        text.color(Color32::from_rgb(90, 200, 120))
                    } else if *n > 0 {
                        text.color(Color32::from_rgb(240, 180, 60))
                    } else {
                        text.weak()
                    });
                }
                ui.end_row();
            }
        });
}

/// A warning when the recorded walks' classes are unbalanced enough that always naming the
/// largest one beats guessing among them by a quarter or more: then plain accuracy misleads.
/// `classes` and `walks` are the catalog's recorded classes and their walk counts.
#[must_use]
pub fn imbalance(classes: &[String], walks: &[usize]) -> Option<String> {
    let total: usize = walks.iter().sum();
    let (name, &most) = classes.iter().zip(walks).max_by_key(|(_, n)| **n)?;
    let share = most as f64 / total as f64;
    let guess = 1.0 / classes.len() as f64;
    (classes.len() >= 2 && share >= 1.25 * guess).then(|| {
        format!(
            "Unbalanced classes: {name} holds {:.0} % of the labelled walks (guessing among {}: {:.0} %). Accuracy is judged against always naming the largest class; read the balanced accuracy beside it.",
            100.0 * share,
            classes.len(),
            100.0 * guess
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared BVH set's shape warns (45 % against 25 %); the balanced demo data do not,
    /// counted as the catalog counts them.
    #[test]
    fn unbalanced_classes_are_named_before_a_run() {
        use crate::app::catalog::Catalog;
        use crate::core::data::GaitSequence;
        use crate::core::demo::{DemoConfig, demo_dataset};
        use crate::core::jobs::{CancelToken, NoProgress};
        let cfg = DemoConfig {
            subjects: 1,
            trials: 1,
            duration_s: 1.0,
            ..DemoConfig::default()
        };
        let demo = demo_dataset(&cfg, &NoProgress, &CancelToken::new())
            .unwrap()
            .sequences;
        let warn = |walks: &[GaitSequence]| {
            let c = Catalog::build(walks, &[], &std::collections::HashMap::new());
            imbalance(&c.recorded_classes, &c.recorded_class_walks)
        };
        assert_eq!(warn(&demo), None);
        let walk = demo[0].clone();
        let mut bvh = Vec::new();
        for (label, n) in [
            ("Healthy", 10),
            ("Joint", 8),
            ("Weakness", 36),
            ("Neuro", 26),
        ] {
            for _ in 0..n {
                let mut w = walk.clone();
                w.label = Some(label.into());
                bvh.push(w);
            }
        }
        let line = warn(&bvh).unwrap();
        assert!(line.contains("Weakness holds 45 %"), "{line}");
        assert!(line.contains("guessing among 4: 25 %"), "{line}");
        // Unlabelled walks alone: nothing to weigh.
        for w in &mut bvh {
            w.label = None;
        }
        assert_eq!(warn(&bvh), None);
    }
}
