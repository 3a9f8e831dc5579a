//! Whether an evaluation's accuracies carry weight: each condition's pooled held-out walks
//! against chance (exact one-sided binomial test) and pairs of conditions on the same walks
//! (exact McNemar test on the walks one gets right and the other wrong).
//!
//! Why: on small sets (the shared BVH set holds 45 subjects, 14-17 held-out walks per fold) the
//! fold SDs are larger than the differences between conditions, and a table of means alone
//! invites reading noise as an effect. Walks of one subject are not independent (two per subject
//! on that set), so these p-values are optimistic: read a large one as "no evidence", a small
//! one as "worth a second seed".

use serde::{Deserialize, Serialize};

use super::Condition;
use super::classifier::ClassifierKind;
use super::conditions::WalkPrediction;
use super::protocol::FoldResult;

/// The level below which the tables mark a p-value as a difference worth a second look.
pub const ALPHA: f64 = 0.05;

/// The pairs of conditions [`compare`] tests: the questions the evaluation exists for.
pub const PAIRS: [(Condition, Condition); 4] = [
    (Condition::Synthetic, Condition::Baseline),
    (Condition::RealSynthetic, Condition::Real),
    (Condition::RealSynthetic, Condition::RealBaseline),
    (Condition::PretrainFinetune, Condition::Real),
];

/// `ln C(n, k)` from summed logarithms, exact enough for the walk counts of an evaluation.
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

fn ln_factorial(n: u64) -> f64 {
    // Summed directly: evaluations hold hundreds to a few thousand walks.
    (2..=n).map(|i| (i as f64).ln()).sum()
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`: the one-sided p-value of `k` successes in `n`.
#[must_use]
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // ln P(X = k), then each next term from the one before (the ratio of successive binomial
    // coefficients), so a tail over thousands of walks costs O(n), not O(n²).
    let mut ln_term = ln_choose(n, k) + k as f64 * lp + (n - k) as f64 * lq;
    let mut sum = 0.0;
    for i in k..=n {
        sum += ln_term.exp();
        ln_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + lp - lq;
    }
    sum.min(1.0)
}

/// Exact two-sided McNemar test: `a_only` walks only the first condition gets right,
/// `b_only` only the second. Under "no difference" each discordant walk goes either way with
/// probability 1/2. Returns 1 with no discordant walks.
#[must_use]
pub fn mcnemar_exact(a_only: u64, b_only: u64) -> f64 {
    let n = a_only + b_only;
    if n == 0 {
        return 1.0;
    }
    let hi = a_only.max(b_only);
    (2.0 * binomial_upper_tail(hi, n, 0.5)).min(1.0)
}

/// One pair of conditions compared on the held-out walks both were tested on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Classifier.
    pub classifier: ClassifierKind,
    /// First condition.
    pub a: Condition,
    /// Second condition.
    pub b: Condition,
    /// Walks both were tested on (pooled over folds).
    pub walks: usize,
    /// Walks the first gets right and the second wrong.
    pub a_only: usize,
    /// Walks the second gets right and the first wrong.
    pub b_only: usize,
    /// Exact two-sided McNemar p-value.
    pub p: f64,
}

/// Column names of a [`Comparison`] row after the classifier's ([`Comparison::cells`]).
pub const COLUMNS: [&str; 6] = ["A", "B", "walks", "only A right", "only B right", "p"];

impl Comparison {
    /// The row's cells after the classifier, in [`COLUMNS`] order.
    #[must_use]
    pub fn cells(&self) -> [String; 6] {
        [
            self.a.name().to_string(),
            self.b.name().to_string(),
            self.walks.to_string(),
            self.a_only.to_string(),
            self.b_only.to_string(),
            p_label(self.p),
        ]
    }
}

fn predictions(f: &FoldResult, kind: ClassifierKind, cond: Condition) -> Option<&[WalkPrediction]> {
    f.results
        .iter()
        .find(|r| r.classifier == kind && r.condition == cond)
        .map(|r| r.walks.as_slice())
        .filter(|w| !w.is_empty())
}

/// Pairs `a` and `b` walk by walk over every fold where both recorded their predictions (folds
/// saved before predictions were recorded are left out). `None` when no walk pairs up.
#[must_use]
pub fn compare(
    folds: &[FoldResult],
    kind: ClassifierKind,
    a: Condition,
    b: Condition,
) -> Option<Comparison> {
    let (mut walks, mut a_only, mut b_only) = (0, 0, 0);
    for f in folds {
        let (Some(pa), Some(pb)) = (predictions(f, kind, a), predictions(f, kind, b)) else {
            continue;
        };
        let by_walk: std::collections::HashMap<usize, &WalkPrediction> =
            pb.iter().map(|w| (w.sequence, w)).collect();
        for wa in pa {
            let Some(wb) = by_walk.get(&wa.sequence) else {
                continue;
            };
            walks += 1;
            match (wa.right(), wb.right()) {
                (true, false) => a_only += 1,
                (false, true) => b_only += 1,
                _ => {}
            }
        }
    }
    (walks > 0).then(|| Comparison {
        classifier: kind,
        a,
        b,
        walks,
        a_only,
        b_only,
        p: mcnemar_exact(a_only as u64, b_only as u64),
    })
}

/// Every pair of [`PAIRS`] for every classifier, where the folds recorded predictions.
#[must_use]
pub fn comparisons(folds: &[FoldResult], classifiers: &[ClassifierKind]) -> Vec<Comparison> {
    classifiers
        .iter()
        .flat_map(|&k| {
            PAIRS
                .iter()
                .filter_map(move |&(a, b)| compare(folds, k, a, b))
        })
        .collect()
}

/// A p-value as a table cell: three decimals, small ones in scientific notation, "–" when
/// undefined (a report from before the tests).
#[must_use]
pub fn p_label(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// One-sided p-value of `right` of `walks` held-out walks against guessing among `classes`.
#[must_use]
pub fn p_vs_chance(right: usize, walks: usize, classes: usize) -> f64 {
    if walks == 0 || classes == 0 {
        return f64::NAN;
    }
    binomial_upper_tail(right as u64, walks as u64, 1.0 / classes as f64)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: the tails of 0 and 1 and symmetric calls
mod tests {
    use super::*;

    #[test]
    fn binomial_tails_match_hand_computed_values() {
        // P(X >= 8), X ~ Bin(10, 1/2) = (45 + 10 + 1) / 1024.
        assert!((binomial_upper_tail(8, 10, 0.5) - 56.0 / 1024.0).abs() < 1e-12);
        // P(X >= 1), X ~ Bin(3, 1/4) = 1 - (3/4)^3.
        assert!((binomial_upper_tail(1, 3, 0.25) - (1.0 - 0.421_875)).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(0, 5, 0.3), 1.0);
        assert_eq!(binomial_upper_tail(6, 5, 0.3), 0.0);
        // Large n stays finite and monotone.
        let a = binomial_upper_tail(300, 1000, 0.25);
        let b = binomial_upper_tail(320, 1000, 0.25);
        assert!(a > b && b > 0.0 && a < 0.001, "{a} {b}");
        // The whole distribution sums to one (every term of the recurrence counted once).
        assert!((binomial_upper_tail(1, 7200, 0.2) + 0.8_f64.powi(7200) - 1.0).abs() < 1e-9);
        let half = binomial_upper_tail(3600, 7200, 0.5);
        assert!((half - 0.5).abs() < 0.01, "{half}");
    }

    #[test]
    fn mcnemar_is_symmetric_and_exact() {
        // 10 against 2 discordant walks: 2 * (1 + 12 + 66) / 4096.
        let p = mcnemar_exact(10, 2);
        assert!((p - 2.0 * 79.0 / 4096.0).abs() < 1e-12, "{p}");
        assert_eq!(p, mcnemar_exact(2, 10));
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(3, 3), 1.0);
    }

    #[test]
    fn chance_p_separates_a_real_effect_from_noise() {
        // 30 % of 80 walks among four classes: no evidence; 80 % of 72 among six: overwhelming.
        assert!(p_vs_chance(24, 80, 4) > 0.1);
        assert!(p_vs_chance(58, 72, 6) < 1e-20);
        assert!(p_vs_chance(0, 0, 4).is_nan());
        assert_eq!(p_label(0.04912), "0.049");
        assert_eq!(p_label(2.5e-7), "2.5e-7");
        assert_eq!(p_label(f64::NAN), "–");
    }
}
