//! Does synthetic data help? Subject-wise cross-validated classifiers trained on real,
//! synthetic and mixed data (the paper's Table I), a jitter/time-warp baseline, and
//! generative metrics. Resumable: each finished fold is saved and reused by a rerun with the
//! same settings and data.

pub mod baseline;
pub mod classifier;
pub mod conditions;
pub mod config;
pub mod generative;
pub(crate) mod prepared;
pub mod protocol;
pub mod recurrent;
pub mod report;
pub mod scarcity;
pub mod significance;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::conditions::ConditionResult;
pub use self::config::{EvalConfig, Protocol};
pub use self::protocol::FoldResult;
pub use self::report::{EvalReport, SummaryRow};
use crate::core::data::Dataset;
use crate::core::fsutil::write_atomic;
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::{norm, sub};
use crate::core::model::ModelError;
use crate::core::model::features::FEATURES;

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
    /// Pretrained on the model's synthetic windows (the "Synthetic only" classifier), then
    /// fine-tuned on the real walks at a lower learning rate.
    PretrainFinetune,
}

impl Condition {
    /// All conditions, in table order.
    pub const ALL: [Self; 6] = [
        Self::Real,
        Self::Synthetic,
        Self::RealSynthetic,
        Self::Baseline,
        Self::RealBaseline,
        Self::PretrainFinetune,
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
            Self::PretrainFinetune => "Synthetic->Real fine-tuned",
        }
    }

    /// True when the condition trains on the generator's windows (so it waits for them).
    #[must_use]
    pub fn uses_model(self) -> bool {
        matches!(
            self,
            Self::Synthetic | Self::RealSynthetic | Self::PretrainFinetune
        )
    }

    /// True when the condition includes the real training walks.
    #[must_use]
    pub fn uses_real(self) -> bool {
        matches!(
            self,
            Self::Real | Self::RealSynthetic | Self::RealBaseline | Self::PretrainFinetune
        )
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

/// Identifies what shapes one fold's result: the settings (without `max_folds`, which only
/// says how many folds run), the data, and the fold's place and test subjects. A saved fold is
/// reused only under the same key, so asking for more folds, or for one fold at a time, never
/// reruns a finished one.
fn fold_key(ds: &Dataset, cfg: &EvalConfig, fold: usize, test_subjects: &[String]) -> String {
    let shaping = EvalConfig {
        max_folds: None,
        ..cfg.clone()
    };
    let mut h = Sha256::new();
    // An EvalConfig always serialises (plain numbers, strings and enums).
    h.update(ron::to_string(&shaping).unwrap_or_default().as_bytes());
    for s in &ds.sequences {
        h.update(s.content_hash().as_bytes());
        h.update(s.subject.as_bytes());
        h.update(s.label.as_deref().unwrap_or("-").as_bytes());
    }
    h.update(format!("fold {fold}: {}", test_subjects.join("\u{1f}")).as_bytes());
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

/// Which folds an evaluation computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldRun {
    /// Every fold (the first `max_folds` where set), reusing saved ones.
    All,
    /// Only these folds (0-based), reusing saved ones; the report covers every fold saved
    /// under the same settings, so jobs of a cluster array can each run one.
    Only(Vec<usize>),
    /// No fold runs: the report is assembled from the folds saved under the same settings.
    Merge,
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
    evaluate_folds(
        ds,
        cfg,
        &FoldRun::All,
        device,
        backend,
        out,
        progress,
        cancel,
        on_fold,
    )
}

/// The folds of the protocol, in order.
fn protocol_folds(
    ds: &Dataset,
    cfg: &EvalConfig,
) -> Result<Vec<crate::core::data::Fold>, ModelError> {
    let folds = match cfg.protocol {
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
    Ok(folds)
}

/// The number of folds the protocol makes on `ds` (for `--fold K` checks and job arrays).
///
/// # Errors
/// Fewer than two subjects.
pub fn fold_count(ds: &Dataset, cfg: &EvalConfig) -> Result<usize, ModelError> {
    protocol_folds(ds, cfg).map(|f| f.len())
}

/// [`evaluate`] with a choice of folds (see [`FoldRun`]).
///
/// # Errors
/// As [`evaluate`]; also a fold number past the last fold, and `Merge` or `Only` without
/// `out`, or `Merge` where no fold was saved under these settings.
#[allow(clippy::too_many_arguments)] // as evaluate
pub fn evaluate_folds(
    ds: &Dataset,
    cfg: &EvalConfig,
    run: &FoldRun,
    device: &burn::tensor::Device,
    backend: &str,
    out: Option<&Path>,
    progress: &dyn Progress,
    cancel: &CancelToken,
    on_fold: &mut dyn FnMut(&FoldResult, usize, usize, bool),
) -> Result<EvalReport, ModelError> {
    let prep = prepared::prepare(ds, cfg.generator.window, cfg.real_hop)?;
    let mut folds = protocol_folds(ds, cfg)?;
    let files_err = |p: &Path, e: &dyn std::fmt::Display| ModelError::Files {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    if out.is_none() && *run != FoldRun::All {
        return Err(ModelError::Data(
            "running single folds or merging needs an output folder for the saved folds".into(),
        ));
    }
    if let FoldRun::Only(ks) = run
        && let Some(k) = ks.iter().find(|&&k| k >= folds.len())
    {
        return Err(ModelError::Data(format!(
            "fold {} does not exist: this protocol makes {} folds (numbered 1-{})",
            k + 1,
            folds.len(),
            folds.len()
        )));
    }
    if let (FoldRun::All, Some(m)) = (run, cfg.max_folds) {
        folds.truncate(m.max(1));
    }
    if let Some(dir) = out {
        let f = dir.join("folds");
        std::fs::create_dir_all(&f).map_err(|e| files_err(&f, &e))?;
    }
    let total = folds.len();
    let mut results = Vec::with_capacity(total);
    for (i, fold) in folds.iter().enumerate() {
        let key = fold_key(ds, cfg, i, &fold.test_subjects);
        let saved = match out.map(|d| fold_path(d, i)).filter(|p| p.exists()) {
            // A saved fold that exists must read: a damaged one is named, never silently rerun.
            Some(p) => {
                let bad = |e: String| {
                    files_err(
                        &p,
                        &format!("saved fold unreadable ({e}); delete it to rerun the fold"),
                    )
                };
                let text = std::fs::read_to_string(&p).map_err(|e| bad(e.to_string()))?;
                Some(ron::from_str::<SavedFold>(&text).map_err(|e| bad(e.to_string()))?)
            }
            None => None,
        }
        .filter(|s| s.key == key && s.result.test_subjects == fold.test_subjects);
        let wanted = match run {
            FoldRun::All => true,
            FoldRun::Only(ks) => ks.contains(&i),
            FoldRun::Merge => false,
        };
        let (r, resumed) = match saved {
            Some(s) => (s.result, true),
            None if wanted => {
                let r =
                    protocol::run_fold(ds, &prep, i, fold, cfg, device, backend, progress, cancel)?;
                if let Some(dir) = out {
                    save_fold(&fold_path(dir, i), key, &r)?;
                }
                (r, false)
            }
            None => continue,
        };
        on_fold(&r, i + 1, total, resumed);
        results.push(r);
    }
    if results.is_empty() {
        return Err(ModelError::Data(format!(
            "no fold of these settings and data is saved in {}: run folds first (e.g. --fold 1)",
            out.map_or_else(String::new, |d| d.join("folds").display().to_string())
        )));
    }
    Ok(EvalReport::new(ds, cfg, prep.classes, results))
}

/// Saves a finished fold atomically. RON, not JSON: it keeps NaN (a metric with no data).
fn save_fold(p: &Path, key: String, r: &FoldResult) -> Result<(), ModelError> {
    let files_err = |e: &dyn std::fmt::Display| ModelError::Files {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let text = ron::ser::to_string_pretty(
        &SavedFold {
            key,
            result: r.clone(),
        },
        ron::ser::PrettyConfig::default(),
    )
    .map_err(|e| files_err(&e))?;
    write_atomic(p, text.as_bytes()).map_err(|e| files_err(&e))
}
