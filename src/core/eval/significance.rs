//! Whether an evaluation's accuracies carry weight: each condition's pooled held-out walks
//! against the no-information rate (always naming the largest class; exact one-sided binomial
//! test), their balanced accuracy against shuffled labels (permutation test), and pairs of
//! conditions on the same walks (exact McNemar test on the walks one gets right and the other
//! wrong).
//!
//! Why: on small sets (the shared BVH set holds 45 subjects, 14-17 held-out walks per fold) the
//! fold SDs are larger than the differences between conditions, and a table of means alone
//! invites reading noise as an effect. Walks of one subject are not independent (two per subject
//! on that set), so these p-values are optimistic: read a large one as "no evidence", a small
//! one as "worth a second seed".

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
    /// Balanced accuracy of the first on the paired walks.
    #[serde(default = "nan")]
    pub balanced_a: f64,
    /// Balanced accuracy of the second on the paired walks.
    #[serde(default = "nan")]
    pub balanced_b: f64,
    /// Two-sided paired permutation p-value of the balanced accuracies' difference
    /// ([`p_balanced_paired`]).
    #[serde(default = "nan")]
    pub p_balanced: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// Column names of a [`Comparison`] row after the classifier's ([`Comparison::cells`]).
pub const COLUMNS: [&str; 8] = [
    "A",
    "B",
    "walks",
    "only A right",
    "only B right",
    "p",
    "balanced % A / B",
    "p (balanced)",
];

impl Comparison {
    /// The row's cells after the classifier, in [`COLUMNS`] order.
    #[must_use]
    pub fn cells(&self) -> [String; 8] {
        let pct = |v: f64| {
            if v.is_finite() {
                format!("{:.1}", 100.0 * v)
            } else {
                "–".into()
            }
        };
        [
            self.a.name().to_string(),
            self.b.name().to_string(),
            self.walks.to_string(),
            self.a_only.to_string(),
            self.b_only.to_string(),
            p_label(self.p),
            format!("{} / {}", pct(self.balanced_a), pct(self.balanced_b)),
            p_label(self.p_balanced),
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
    // (class, first right, second right) of every paired walk, for the balanced accuracies.
    let mut paired: Vec<(usize, bool, bool)> = Vec::new();
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
            paired.push((wa.truth, wa.right(), wb.right()));
            match (wa.right(), wb.right()) {
                (true, false) => a_only += 1,
                (false, true) => b_only += 1,
                _ => {}
            }
        }
    }
    if walks == 0 {
        return None;
    }
    let classes = paired.iter().map(|w| w.0 + 1).max().unwrap_or(0);
    let mut sizes = vec![0usize; classes];
    let (mut hits_a, mut hits_b) = (vec![0usize; classes], vec![0usize; classes]);
    for &(t, ra, rb) in &paired {
        sizes[t] += 1;
        hits_a[t] += usize::from(ra);
        hits_b[t] += usize::from(rb);
    }
    // A discordant walk moves the difference by one over its class's walks.
    let signed: Vec<f64> = paired
        .iter()
        .filter(|w| w.1 != w.2)
        .map(|&(t, ra, _)| {
            let sign = if ra { 1.0 } else { -1.0 };
            sign / sizes[t] as f64
        })
        .collect();
    Some(Comparison {
        classifier: kind,
        a,
        b,
        walks,
        a_only,
        b_only,
        p: mcnemar_exact(a_only as u64, b_only as u64),
        balanced_a: mean_recall(&hits_a, &sizes),
        balanced_b: mean_recall(&hits_b, &sizes),
        p_balanced: p_balanced_paired(&signed),
    })
}

/// Two-sided paired permutation p-value of a difference in balanced accuracy. `signed` holds
/// one entry per discordant walk (one condition right, the other wrong): plus or minus one over
/// the walks of its class, plus when the first condition is right. Under "no difference" each
/// sign is a coin flip; p is the share of [`PERMUTATIONS`] flips whose sum is at least as far
/// from zero, counting the observed signs as one. 1 without discordant walks.
///
/// Why not McNemar: it weighs every walk alike, so on an unbalanced set a difference on the
/// largest class dominates; here each class weighs the same, as in balanced accuracy.
#[must_use]
pub fn p_balanced_paired(signed: &[f64]) -> f64 {
    if signed.is_empty() {
        return 1.0;
    }
    let observed = signed.iter().sum::<f64>().abs();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut at_least = 0usize;
    for _ in 0..PERMUTATIONS {
        let d: f64 = signed
            .iter()
            .map(|&w| if rng.random_bool(0.5) { w } else { -w })
            .sum();
        if d.abs() >= observed - 1e-12 {
            at_least += 1;
        }
    }
    (at_least + 1) as f64 / (PERMUTATIONS + 1) as f64
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

/// One-sided p-value of `right` of `walks` held-out walks against a classifier that is right
/// with probability `rate` on each walk (exact binomial test).
#[must_use]
pub fn p_above_rate(right: usize, walks: usize, rate: f64) -> f64 {
    if walks == 0 || !rate.is_finite() {
        return f64::NAN;
    }
    binomial_upper_tail(right as u64, walks as u64, rate.clamp(0.0, 1.0))
}

/// Share of the largest true class among the walks of `confusion[true][predicted]`: the
/// accuracy of always naming that class, the "no-information rate" (caret's `NIR`). NaN without
/// walks.
///
/// Why: on an unbalanced test set (the shared BVH set: 36 of its 80 walks are one class) that
/// trivial rule scores 45 %, far above guessing among four classes (25 %); an accuracy is
/// evidence of learning only above this rate.
#[must_use]
pub fn no_information_rate(confusion: &[Vec<usize>]) -> f64 {
    let rows: Vec<usize> = confusion.iter().map(|r| r.iter().sum()).collect();
    let total: usize = rows.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    rows.iter().copied().max().unwrap_or(0) as f64 / total as f64
}

/// Mean over the classes that have walks of the share of their walks named right (mean recall).
/// A classifier whose predictions ignore the walk scores `1 / classes` on average whatever the
/// class sizes, so it is the accuracy to read on an unbalanced set. NaN without walks.
#[must_use]
pub fn balanced_accuracy(confusion: &[Vec<usize>]) -> f64 {
    let hits: Vec<usize> = confusion
        .iter()
        .enumerate()
        .map(|(i, row)| row.get(i).copied().unwrap_or(0))
        .collect();
    let sizes: Vec<usize> = confusion.iter().map(|r| r.iter().sum()).collect();
    mean_recall(&hits, &sizes)
}

/// Mean over the classes with walks (`sizes[k] > 0`) of `hits[k] / sizes[k]`; NaN when no
/// class has walks. The one place balanced accuracy is computed: from a confusion matrix,
/// from shuffled labels and from paired predictions.
fn mean_recall(hits: &[usize], sizes: &[usize]) -> f64 {
    let (sum, present) = hits
        .iter()
        .zip(sizes)
        .filter(|(_, n)| **n > 0)
        .fold((0.0, 0usize), |(sum, k), (&h, &n)| {
            (sum + h as f64 / n as f64, k + 1)
        });
    if present == 0 {
        f64::NAN
    } else {
        sum / present as f64
    }
}

/// Label shuffles [`p_balanced`] and sign flips [`p_balanced_paired`] draw.
pub const PERMUTATIONS: usize = 1999;

/// Seed of the permutation tests: the same table always gives the same p.
const SEED: u64 = 0x5eed_ba1a;

/// Permutation p-value of the balanced accuracy of `confusion[true][predicted]`: the share of
/// [`PERMUTATIONS`] shuffles of the true classes among the walks (predictions and class sizes
/// kept) that score at least as high, counting the observed order as one shuffle, so the
/// smallest possible p is `1 / (PERMUTATIONS + 1)` = 5e-4. Seeded: the same table always gives
/// the same p. NaN without walks or with a single class present.
#[must_use]
pub fn p_balanced(confusion: &[Vec<usize>]) -> f64 {
    let mut truth = Vec::new();
    let mut predicted = Vec::new();
    for (t, row) in confusion.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            truth.extend(std::iter::repeat_n(t, n));
            predicted.extend(std::iter::repeat_n(p, n));
        }
    }
    let sizes: Vec<usize> = confusion.iter().map(|r| r.iter().sum()).collect();
    let present = sizes.iter().filter(|&&n| n > 0).count();
    if present < 2 {
        return f64::NAN;
    }
    // Balanced accuracy from per-class hits; the class sizes do not change under shuffling.
    let score = |truth: &[usize]| -> f64 {
        let mut hits = vec![0usize; sizes.len()];
        for (&t, &p) in truth.iter().zip(&predicted) {
            if t == p {
                hits[t] += 1;
            }
        }
        mean_recall(&hits, &sizes)
    };
    let observed = score(&truth);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut at_least = 0usize;
    for _ in 0..PERMUTATIONS {
        truth.shuffle(&mut rng);
        // A tolerance so that a shuffle scoring the same sum in another order counts as equal.
        if score(&truth) >= observed - 1e-12 {
            at_least += 1;
        }
    }
    (at_least + 1) as f64 / (PERMUTATIONS + 1) as f64
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
    fn rate_p_separates_a_real_effect_from_noise() {
        // 30 % of 80 walks among four balanced classes: no evidence; 80 % of 72 among six:
        // overwhelming.
        assert!(p_above_rate(24, 80, 0.25) > 0.1);
        assert!(p_above_rate(58, 72, 1.0 / 6.0) < 1e-20);
        assert!(p_above_rate(0, 0, 0.25).is_nan());
        assert!(p_above_rate(3, 5, f64::NAN).is_nan());
        assert_eq!(p_label(0.04912), "0.049");
        assert_eq!(p_label(2.5e-7), "2.5e-7");
        assert_eq!(p_label(f64::NAN), "–");
    }

    /// The shared BVH set's shape: 36 of 80 walks in one class. A rule that always names that
    /// class scores 45 % accuracy, well above 1 / 4, yet learns nothing: the no-information rate
    /// and the balanced accuracy both see through it.
    #[test]
    fn an_unbalanced_set_is_judged_against_its_largest_class() {
        let always_largest = vec![
            vec![0, 0, 10, 0],
            vec![0, 0, 8, 0],
            vec![0, 0, 36, 0],
            vec![0, 0, 26, 0],
        ];
        assert!((no_information_rate(&always_largest) - 0.45).abs() < 1e-12);
        assert!((balanced_accuracy(&always_largest) - 0.25).abs() < 1e-12);
        // Against guessing among four it would look like a discovery; against the rate, nothing.
        assert!(p_above_rate(36, 80, 0.25) < 1e-4);
        assert!(p_above_rate(36, 80, no_information_rate(&always_largest)) > 0.4);
        assert!(
            p_balanced(&always_largest) > 0.9,
            "{}",
            p_balanced(&always_largest)
        );
        assert!(no_information_rate(&[]).is_nan());
        assert!(balanced_accuracy(&[vec![0, 0], vec![0, 0]]).is_nan());
    }

    #[test]
    fn paired_balanced_p_weighs_each_class_alike() {
        // No discordant walk: no evidence either way.
        assert_eq!(p_balanced_paired(&[]), 1.0);
        // Ten walks of a ten-walk class all go one way: 2 of 1024 sign patterns are as far out.
        let one_way = vec![0.1; 10];
        let p = p_balanced_paired(&one_way);
        assert!((p - 2.0 / 1024.0).abs() < 0.002, "{p}");
        // Balanced: half each way is the middle of the distribution.
        let even: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        assert!(p_balanced_paired(&even) > 0.99);
        // Nine walks of a large class one way against three of a small class the other way:
        // McNemar sees 9 against 3, balanced accuracy moves 9/90 against 3/10, the other way.
        let mut mixed = vec![1.0 / 90.0; 9];
        mixed.extend([-0.1; 3]);
        assert!(mixed.iter().sum::<f64>() < 0.0);
        assert_eq!(p_balanced_paired(&mixed), p_balanced_paired(&mixed));
    }

    #[test]
    fn permutation_p_finds_learning_and_is_reproducible() {
        // Every class mostly right: no shuffle comes close, p is the smallest possible.
        let good = vec![vec![9, 1, 0], vec![1, 8, 1], vec![0, 2, 18]];
        let p = p_balanced(&good);
        assert!((p - 1.0 / (PERMUTATIONS + 1) as f64).abs() < 1e-12, "{p}");
        // Predictions unrelated to the truth: p near the middle, and the same every call.
        let none = vec![vec![3, 3, 4], vec![3, 4, 3], vec![7, 6, 7]];
        let q = p_balanced(&none);
        assert!(q > 0.2, "{q}");
        assert_eq!(q, p_balanced(&none));
        // A single class present: nothing to shuffle.
        assert!(p_balanced(&[vec![4, 1], vec![0, 0]]).is_nan());
        // Recall per class, averaged: (9/10 + 8/10 + 18/20) / 3.
        assert!((balanced_accuracy(&good) - (0.9 + 0.8 + 0.9) / 3.0).abs() < 1e-12);
    }
}
