//! Training data for the generator: fixed-length windows with their class, prompt values
//! (binned priors) and auxiliary prior targets, plus the vocabulary built from them.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::ModelError;
use super::features::{
    FEATURES, Normalizer, WindowConfig, mirror_frame, sequence_features, window_starts,
};
use super::vocab::{BINS, PromptValues, Vocab};
use crate::core::biomech::priors::{PriorSet, compute_priors};
use crate::core::data::{Dataset, Side};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::{mean, std_dev};

/// Prior features the pathological branch learns to predict from its codes.
pub const AUX_PRIORS: [&str; 4] = [
    "knee_rom_deg",
    "stance_pct",
    "asymmetry_pct",
    "cadence_steps_min",
];

/// Standardisation of the auxiliary prior targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuxScale {
    /// Means in [`AUX_PRIORS`] order.
    pub mean: Vec<f64>,
    /// SDs in [`AUX_PRIORS`] order.
    pub std: Vec<f64>,
}

/// One training window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Standardised features, `frames` rows.
    pub frames: Vec<[f32; FEATURES]>,
    /// Class index.
    pub class: usize,
    /// Subject of the source walk.
    pub subject: String,
    /// Source sequence id.
    pub sequence: String,
    /// Prompt values of the source walk.
    pub prompt: PromptValues,
    /// Standardised auxiliary prior targets.
    pub aux: [f32; 4],
}

/// All windows of a dataset with the statistics that define the vocabulary.
#[derive(Debug, Clone)]
pub struct TrainingSet {
    /// Windows.
    pub windows: Vec<Window>,
    /// Feature standardisation.
    pub normalizer: Normalizer,
    /// Vocabulary (classes, bin edges, class medians; code sizes as configured).
    pub vocab: Vocab,
    /// Auxiliary target scaling.
    pub aux_scale: AuxScale,
    /// Priors of the source data (per class and sequence).
    pub priors: PriorSet,
    /// Walks left out (no features or too short), with the reason.
    pub skipped: Vec<(String, String)>,
    /// Frame rate of the windows (Hz).
    pub fps: f32,
}

/// Percentile rank (0..1) of `v` within `all`.
fn rank(v: f64, all: &[f64]) -> f64 {
    if !v.is_finite() || all.is_empty() {
        return 0.0;
    }
    all.iter().filter(|x| **x < v).count() as f64 / all.len() as f64
}

/// Builds windows, prompts and the vocabulary from a labelled dataset.
///
/// # Errors
/// Unlabelled data, fewer than two classes' worth of windows, or cancellation.
pub fn build_training_set(
    ds: &Dataset,
    window: &WindowConfig,
    codes: [usize; 3],
    normal_class: Option<&str>,
    mirror_right: bool,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<TrainingSet, ModelError> {
    let priors = compute_priors(ds, normal_class, None, progress, cancel)
        .map_err(|_| ModelError::Cancelled)?;
    let classes = ds.labels();
    if classes.is_empty() {
        return Err(ModelError::Data(
            "no labelled sequences (attach a label table)".into(),
        ));
    }
    let by_id: BTreeMap<&str, &crate::core::biomech::priors::SequenceFeatures> = priors
        .sequences
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let severities: Vec<f64> = priors
        .sequences
        .iter()
        .map(|s| s.severity)
        .filter(|v| v.is_finite())
        .collect();
    let aux_scale = AuxScale {
        mean: AUX_PRIORS
            .iter()
            .map(|k| mean(&priors.column(k)).unwrap_or(0.0))
            .collect(),
        std: AUX_PRIORS
            .iter()
            .map(|k| std_dev(&priors.column(k)).unwrap_or(1.0).max(1e-6))
            .collect(),
    };
    let mut vocab = Vocab::from_priors(&priors, classes.clone(), codes);
    vocab.count_sides(&ds.sequences);
    let mut raw: Vec<(Vec<[f32; FEATURES]>, Window)> = Vec::new();
    let mut skipped = Vec::new();
    for s in &ds.sequences {
        let (Some(label), Some(sf)) = (s.label.as_deref(), by_id.get(s.id.as_str())) else {
            skipped.push((s.id.clone(), "unlabelled or not analysable".into()));
            continue;
        };
        let Some(mut feats) = sequence_features(s, window.fps) else {
            skipped.push((s.id.clone(), "rig lacks the common joints".into()));
            continue;
        };
        let starts = window_starts(feats.len(), window);
        if starts.is_empty() {
            skipped.push((
                s.id.clone(),
                format!("shorter than {} frames at {} Hz", window.frames, window.fps),
            ));
            continue;
        }
        let class = classes.iter().position(|c| c == label).unwrap_or(0);
        let sev_bin = ((rank(sf.severity, &severities) * BINS as f64) as usize).min(BINS - 1);
        // Right-affected walks are learned as their mirror image (see TrainPlan::mirror_right).
        let side = if mirror_right && s.side == Some(Side::Right) {
            for f in &mut feats {
                *f = mirror_frame(f);
            }
            Some(Side::Left)
        } else {
            s.side
        };
        let prompt = PromptValues {
            class,
            side,
            severity_bin: sev_bin,
            bins: vocab.bins_of(&sf.features),
        };
        let aux = aux_targets(&sf.features, &aux_scale);
        for st in starts {
            let w = Window {
                frames: Vec::new(),
                class,
                subject: s.subject.clone(),
                sequence: s.id.clone(),
                prompt: prompt.clone(),
                aux,
            };
            raw.push((feats[st..st + window.frames].to_vec(), w));
        }
    }
    if raw.len() < 4 {
        return Err(ModelError::Data(format!(
            "only {} windows of {} frames could be made",
            raw.len(),
            window.frames
        )));
    }
    let (windows, normalizer) = standardised(raw);
    Ok(TrainingSet {
        windows,
        normalizer,
        vocab,
        aux_scale,
        priors,
        skipped,
        fps: window.fps,
    })
}

/// The four auxiliary prior targets of a walk, standardised (0 where a value is missing).
fn aux_targets(features: &BTreeMap<String, f64>, scale: &AuxScale) -> [f32; 4] {
    let mut aux = [0.0f32; 4];
    for (i, k) in AUX_PRIORS.iter().enumerate() {
        let v = features.get(*k).copied().unwrap_or(f64::NAN);
        aux[i] = if v.is_finite() {
            ((v - scale.mean[i]) / scale.std[i]) as f32
        } else {
            0.0
        };
    }
    aux
}

/// Windows with their frames standardised by statistics of all of them.
fn standardised(raw: Vec<(Vec<[f32; FEATURES]>, Window)>) -> (Vec<Window>, Normalizer) {
    let all: Vec<[f32; FEATURES]> = raw.iter().flat_map(|(f, _)| f.iter().copied()).collect();
    let normalizer = Normalizer::fit(&all);
    let windows = raw
        .into_iter()
        .map(|(f, mut w)| {
            w.frames = f.iter().map(|x| normalizer.apply(x)).collect();
            w
        })
        .collect();
    (windows, normalizer)
}

/// Semantic augmentation: each descriptor bin (and the severity bin) moves by one with
/// probability `p`, so the model sees, and later produces, controlled prompt variations.
#[must_use]
pub fn augment(v: &PromptValues, p: f64, rng: &mut ChaCha8Rng) -> PromptValues {
    let mut out = v.clone();
    let mut jitter = |b: &mut usize| {
        if rng.random_bool(p.clamp(0.0, 1.0)) {
            *b = if rng.random_bool(0.5) {
                b.saturating_sub(1)
            } else {
                (*b + 1).min(BINS - 1)
            };
        }
    };
    jitter(&mut out.severity_bin);
    for b in &mut out.bins {
        jitter(b);
    }
    out
}
