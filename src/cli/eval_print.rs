//! What `evaluate` prints: the accuracy tables, whether their differences are more than noise,
//! how the fine-tuned condition trained, and the generative measures.

use pathogait::core::eval::generative::SetQuality;
use pathogait::core::eval::significance::{ALPHA, COLUMNS, PERMUTATIONS, p_label};
use pathogait::core::eval::{Condition, EvalReport, FoldResult, SummaryRow};

use super::table::{Table, num};

/// Picks one set's quality figures out of a fold.
type PickSet = fn(&FoldResult) -> &SetQuality;

/// A share as a percentage with one decimal, "-" when undefined.
pub fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}", 100.0 * v)
    } else {
        "-".into()
    }
}

/// How the fine-tuned condition trained: pretraining and fine-tuning epochs (run, and the
/// one kept by early stopping), learning rates.
fn print_finetune(r: &EvalReport) {
    let c = &r.settings.classifier;
    println!(
        "\n{}: each classifier of \"{}\" (lr {}, at most {} epochs, patience {}) fine-tuned on the real training windows at lr {} (x{})",
        Condition::PretrainFinetune.name(),
        Condition::Synthetic.name(),
        c.lr,
        c.max_epochs,
        c.patience,
        c.lr * r.settings.finetune_lr_scale,
        r.settings.finetune_lr_scale
    );
    for &k in &r.settings.classifiers {
        let runs: Vec<_> = r
            .folds
            .iter()
            .flat_map(|f| &f.results)
            .filter(|x| x.classifier == k && x.condition == Condition::PretrainFinetune)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let list = |g: &dyn Fn(&pathogait::core::eval::ConditionResult) -> String| {
            runs.iter().map(|x| g(x)).collect::<Vec<_>>().join(", ")
        };
        println!(
            "  {}: pretraining epochs run/kept {}; fine-tuning {}",
            k.name(),
            list(&|x| x
                .pretrain
                .as_ref()
                .map_or_else(|| "-".into(), |p| format!("{}/{}", p.epochs, p.best_epoch))),
            list(&|x| format!("{}/{}", x.fit.epochs, x.fit.best_epoch))
        );
    }
}

/// A table of rows classifiers, columns conditions, headed by `heading`; `cell` writes each
/// classifier and condition's row of the summary, "-" where there is none.
fn condition_table(r: &EvalReport, heading: &str, cell: impl Fn(&SummaryRow) -> String) -> Table {
    let mut header = vec![heading];
    header.extend(Condition::ALL.iter().map(|c| c.name()));
    let mut t = Table::new(&header);
    for &k in &r.settings.classifiers {
        let mut row = vec![k.name().to_string()];
        row.extend(
            Condition::ALL
                .iter()
                .map(|&c| r.row(k, c).map_or_else(|| "-".into(), &cell)),
        );
        t.row(row);
    }
    t
}

/// The pooled walks against the no-information rate, their balanced accuracy against shuffled
/// labels, and the paired tests between conditions: whether the table's differences are more
/// than noise.
fn print_significance(r: &EvalReport) {
    let nir = r.no_information_rate();
    let t = condition_table(
        r,
        "p vs no-information rate (pooled accuracy, one-sided binomial)",
        |s| p_label(s.p_vs_no_information),
    );
    let b = condition_table(r, "balanced accuracy % (pooled; p, label shuffles)", |s| {
        format!("{} (p {})", pct(s.balanced_accuracy), p_label(s.p_balanced))
    });
    println!(
        "\nNo-information rate (always naming the largest class): {} % of the held-out walks; guessing among {} classes: {} %.\n{}",
        pct(nir),
        r.classes.len(),
        pct(r.chance),
        t.render()
    );
    println!(
        "\n{}\nGuessing scores {} % balanced accuracy whatever the class sizes; p counts {PERMUTATIONS} shuffles of the true classes (smallest possible {}).",
        b.render(),
        pct(r.chance),
        p_label(1.0 / (PERMUTATIONS + 1) as f64)
    );
    let beat = r
        .summary
        .iter()
        .filter(|s| s.p_vs_no_information < ALPHA)
        .count();
    let learnt = r.summary.iter().filter(|s| s.p_balanced < ALPHA).count();
    println!(
        "Above the no-information rate (p < {ALPHA}): {beat} of {} rows; balanced accuracy above guessing: {learnt} of {}.",
        r.summary.len(),
        r.summary.len()
    );
    if r.comparisons.is_empty() {
        return;
    }
    let mut header = vec!["paired on the same walks (exact McNemar)"];
    header.extend(COLUMNS);
    let mut c = Table::new(&header);
    for x in &r.comparisons {
        let mut row = vec![x.classifier.name().to_string()];
        row.extend(x.cells());
        c.row(row);
    }
    println!("\n{}", c.render());
    println!(
        "p: exact McNemar on the walks only one gets right (every walk alike); p (balanced): paired sign flips weighing each class alike. Walks of one subject are not independent: read these p-values as optimistic (a large one is no evidence of a difference)."
    );
}

/// The paper-style table: rows classifiers, columns conditions, accuracy mean ± SD over folds.
pub fn print_report(r: &EvalReport) {
    let t = condition_table(r, "accuracy % (mean ± SD over folds)", |s| {
        format!("{} ± {}", pct(s.accuracy_mean), pct(s.accuracy_sd))
    });
    let f = condition_table(r, "pooled macro-F1 % (accuracy %)", |s| {
        format!("{} ({})", pct(s.pooled_macro_f1), pct(s.pooled_accuracy))
    });
    println!("\n{}", t.render());
    println!("\nAll held-out walks pooled:\n{}", f.render());
    print_significance(r);
    print_finetune(r);
    let mut d = Table::new(&[
        "Fréchet distance (GRU features)",
        "model",
        "baseline",
        "real vs real",
        "recognised % model",
        "baseline",
        "real (validation)",
    ]);
    for row in &r.distances {
        d.row(vec![
            row.class.clone(),
            num(row.model, 2),
            num(row.baseline, 2),
            num(row.real_reference, 2),
            num(100.0 * row.recognised.model, 1),
            num(100.0 * row.recognised.baseline, 1),
            num(100.0 * row.recognised.real, 1),
        ]);
    }
    println!("\n{}", d.render());
    println!(
        "recognised: windows the real-trained classifier assigns to their own class (for model and baseline windows, the class they were made for)"
    );
    let mut q = Table::new(&[
        "set (mean over folds)",
        "walks",
        "diversity m",
        "foot skating",
        "bone CV %",
        "prior hit %",
    ]);
    let avg = |g: &dyn Fn(&FoldResult) -> f64| {
        let v: Vec<f64> = r.folds.iter().map(g).filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let sets: [(&str, PickSet); 3] = [
        ("real (fit subjects)", |f| &f.generative.real),
        ("model", |f| &f.generative.model),
        ("baseline", |f| &f.generative.baseline_quality),
    ];
    for (name, get) in sets {
        q.row(vec![
            name.into(),
            num(avg(&|f| get(f).walks as f64), 0),
            num(avg(&|f| get(f).diversity_m), 3),
            num(avg(&|f| get(f).foot_skating), 2),
            num(avg(&|f| get(f).bone_violation_pct), 2),
            pct(avg(&|f| get(f).prior_hit_rate)),
        ]);
    }
    println!("\n{}", q.render());
}
