//! Does synthetic data help? Subject-wise cross-validated classifiers trained on real,
//! synthetic and mixed data (the paper's Table I), a jitter/time-warp baseline, and
//! generative metrics. Resumable: each finished fold is saved and reused by a rerun with the
//! same settings and data.

pub mod baseline;
pub mod classifier;
pub mod generative;
pub mod protocol;
pub mod report;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::protocol::{EvalConfig, FoldResult, Protocol};
pub use self::report::{EvalReport, SummaryRow};
use crate::core::data::Dataset;
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::{norm, sub};
use crate::core::model::ModelError;
use crate::core::model::features::FEATURES;
use crate::core::project::write_atomic;

/// What a classifier is trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Condition {
    /// Real walks of the training subjects.
    Real,
    /// Only the model's synthetic windows.
    Synthetic,
    /// Real plus the model's synthetic windows.
    RealSynthetic,
    /// Only the jitter/time-warp baseline windows.
    Baseline,
    /// Real plus baseline windows.
    RealBaseline,
}

impl Condition {
    /// All conditions, in table order.
    pub const ALL: [Self; 5] = [
        Self::Real,
        Self::Synthetic,
        Self::RealSynthetic,
        Self::Baseline,
        Self::RealBaseline,
    ];

    /// Column title.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Real => "Real",
            Self::Synthetic => "Synthetic only",
            Self::RealSynthetic => "Real+Synthetic",
            Self::Baseline => "Baseline only",
            Self::RealBaseline => "Real+Baseline",
        }
    }

    /// True when the condition includes the real training walks.
    #[must_use]
    pub fn uses_real(self) -> bool {
        matches!(self, Self::Real | Self::RealSynthetic | Self::RealBaseline)
    }
}

/// Progress with a prefix on every stage name ("fold 3 · GRU · Real").
pub(crate) struct Prefixed<'a> {
    pub inner: &'a dyn Progress,
    pub prefix: String,
}

impl Progress for Prefixed<'_> {
    fn start(&self, stage: &str, total: u64) {
        self.inner
            .start(&format!("{} · {stage}", self.prefix), total);
    }
    fn advance(&self, n: u64, item: &str) {
        self.inner.advance(n, item);
    }
    fn finish(&self) {
        self.inner.finish();
    }
}

/// Linear resampling of feature rows to `n` rows (first and last rows kept).
#[must_use]
pub fn resample_rows(rows: &[[f32; FEATURES]], n: usize) -> Vec<[f32; FEATURES]> {
    if rows.len() == n || rows.is_empty() {
        return rows.to_vec();
    }
    (0..n)
        .map(|i| {
            let p = if n > 1 {
                i as f32 * (rows.len() - 1) as f32 / (n - 1) as f32
            } else {
                0.0
            };
            let a = (p.floor() as usize).min(rows.len() - 1);
            let b = (a + 1).min(rows.len() - 1);
            let f = p - a as f32;
            let mut v = [0.0f32; FEATURES];
            for d in 0..FEATURES {
                v[d] = rows[a][d] * (1.0 - f) + rows[b][d] * f;
            }
            v
        })
        .collect()
}

/// Divides a raw feature window by its mean leg length (hip-knee plus knee-ankle, both
/// sides): positions become multiples of leg length and the pelvis velocity a dimensionless
/// speed (Hof 1996). Without it a classifier trained on few people learns their body sizes
/// instead of their gait.
pub fn size_normalise(window: &mut [[f32; FEATURES]]) {
    // Feature triples of REL_JOINTS: HipL 3, KneeL 4, AnkleL 5, HipR 7, KneeR 8, AnkleR 9.
    let at = |f: &[f32; FEATURES], k: usize| [f[3 * k], f[3 * k + 1], f[3 * k + 2]];
    let dist = |a: [f32; 3], b: [f32; 3]| norm(sub(a, b));
    let (mut sum, mut n) = (0.0f32, 0usize);
    for f in window.iter() {
        for (h, k, a) in [(3, 4, 5), (7, 8, 9)] {
            let l = dist(at(f, h), at(f, k)) + dist(at(f, k), at(f, a));
            if l.is_finite() && l > 0.0 {
                sum += l;
                n += 1;
            }
        }
    }
    if n == 0 {
        return;
    }
    let leg = sum / n as f32;
    for f in window.iter_mut() {
        for x in f.iter_mut() {
            *x /= leg;
        }
    }
}

/// Identifies settings + data: a saved fold is reused only under the same key.
fn run_key(ds: &Dataset, cfg: &EvalConfig) -> String {
    let mut h = Sha256::new();
    h.update(ron::to_string(cfg).unwrap_or_default().as_bytes());
    for s in &ds.sequences {
        h.update(s.content_hash().as_bytes());
        h.update(s.subject.as_bytes());
        h.update(s.label.as_deref().unwrap_or("-").as_bytes());
    }
    crate::core::math::hex(&h.finalize())
}

/// A fold saved for resuming.
#[derive(Serialize, Deserialize)]
struct SavedFold {
    key: String,
    result: FoldResult,
}

fn fold_path(dir: &Path, fold: usize) -> PathBuf {
    dir.join("folds").join(format!("fold_{:03}.ron", fold + 1))
}

/// Runs the protocol on a dataset. With `out`, each finished fold is saved under
/// `out/folds/` and reused when the same settings and data run again (resume after an
/// interruption). `on_fold(result, done, total, resumed)` is called after every fold.
///
/// # Errors
/// Fewer than two classes or subjects, unusable folds, unwritable `out`, or cancellation.
#[allow(clippy::too_many_arguments)] // the CLI and the studio pass these straight through
pub fn evaluate(
    ds: &Dataset,
    cfg: &EvalConfig,
    device: &burn::tensor::Device,
    backend: &str,
    out: Option<&Path>,
    progress: &dyn Progress,
    cancel: &CancelToken,
    on_fold: &mut dyn FnMut(&FoldResult, usize, usize, bool),
) -> Result<EvalReport, ModelError> {
    let prep = protocol::prepare(ds, cfg)?;
    let mut folds = match cfg.protocol {
        Protocol::Loso => ds.loso_folds(),
        Protocol::KFold(k) => ds.kfold_by_subject(k, cfg.seed),
    };
    if folds.len() < 2 {
        return Err(ModelError::Data(format!(
            "dataset '{}' has {} subject(s): subject-wise evaluation needs at least two",
            ds.name,
            ds.subjects().len()
        )));
    }
    if let Some(m) = cfg.max_folds {
        folds.truncate(m.max(1));
    }
    let key = run_key(ds, cfg);
    let files_err = |p: &Path, e: &dyn std::fmt::Display| ModelError::Files {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = out {
        let f = dir.join("folds");
        std::fs::create_dir_all(&f).map_err(|e| files_err(&f, &e))?;
    }
    let mut results = Vec::with_capacity(folds.len());
    for (i, fold) in folds.iter().enumerate() {
        let saved = out
            .map(|d| fold_path(d, i))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| ron::from_str::<SavedFold>(&t).ok())
            .filter(|s| s.key == key && s.result.test_subjects == fold.test_subjects);
        let (r, resumed) = if let Some(s) = saved {
            (s.result, true)
        } else {
            let r = protocol::run_fold(ds, &prep, i, fold, cfg, device, backend, progress, cancel)?;
            if let Some(dir) = out {
                let p = fold_path(dir, i);
                // RON, not JSON: it keeps NaN (a metric with no data) as NaN.
                let text = ron::ser::to_string_pretty(
                    &SavedFold {
                        key: key.clone(),
                        result: r.clone(),
                    },
                    ron::ser::PrettyConfig::default(),
                )
                .map_err(|e| files_err(&p, &e))?;
                write_atomic(&p, text.as_bytes()).map_err(|e| files_err(&p, &e))?;
            }
            (r, false)
        };
        on_fold(&r, i + 1, folds.len(), resumed);
        results.push(r);
    }
    Ok(EvalReport::new(ds, cfg, prep.classes, results))
}
