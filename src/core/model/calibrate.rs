//! Fitting the decoder's variance compensation to the model's own samples.
//!
//! [`super::variance`] fits each class's filter on the training windows and the decoder's
//! reconstructions of them. Walks the model samples vary less than those reconstructions: the
//! GPT's sampling keeps the common codes, so a filter fitted on reconstructions leaves sampled
//! walks short of the windows' spread (on the demo folds, 98-99 % of the real windows'
//! diversity). Speech synthesis fits its global variance to generated parameters for the same
//! reason. After training, the model samples a few walks per class like its training walks
//! (their prompt values, cycled), decodes them and fits each class's filter again to those
//! rows, with the same target: the class's training windows' mean and SD per feature.

use burn::prelude::*;

use super::ModelError;
use super::bundle::{GaitGenerator, TrainPlan};
use super::data::TrainingSet;
use super::fit::{GeneratorScore, train_with};
use super::generate::{Sampling, WalkRequest, sample_decode, training_walks};
use super::prompt::{Prompt, expand};
use super::sample_check::sample_distance;
use super::variance::VarianceMatch;
use crate::core::data::Dataset;
use crate::core::jobs::{CancelToken, Progress};

/// Walks per class the studio's "calibrate" boxes ask for (measured in README).
pub const DEFAULT_WALKS: usize = 32;

/// Walks decoded together while calibrating.
const BATCH: usize = 64;

/// Trains a generator ([`super::fit::train`]), its GPT judged by sample checks when the plan
/// asks for them ([`TrainPlan::sample_checks`], see [`super::sample_check`]), and, when the
/// plan asks for calibration walks ([`TrainPlan::calibrate_walks`]), fits its variance
/// compensation to its own samples.
///
/// # Errors
/// As [`super::fit::train`], or a sample check or calibration that fails to sample.
#[allow(clippy::too_many_arguments)] // as super::fit::train
pub fn train(
    ds: &Dataset,
    plan: &TrainPlan,
    name: &str,
    device: &Device,
    backend: &str,
    checkpoint: Option<&std::path::Path>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<GaitGenerator, ModelError> {
    let check = |g: &GaitGenerator, set: &TrainingSet, like: &[usize]| {
        sample_distance(g, set, like, plan.sample_checks, plan.seed, cancel)
    };
    let score = (plan.sample_checks > 0).then_some(&check as &GeneratorScore);
    let mut g = train_with(
        ds, plan, name, device, backend, checkpoint, score, progress, cancel,
    )?;
    if plan.calibrate_walks > 0 {
        calibrate_variance(&mut g, plan.calibrate_walks, plan.seed, progress, cancel)?;
    }
    Ok(g)
}

/// Samples `per_class` walks of each class like its training walks (default sampling, a
/// seed of its own per class), and stores each class's filter fitted to their decoded rows in
/// the manifest's `variance_sampled_by_class` (an empty filter for a class without a filter of
/// its own or without recorded walks).
///
/// # Errors
/// Sampling errors or cancellation.
pub fn calibrate_variance(
    g: &mut GaitGenerator,
    per_class: usize,
    seed: u64,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(), ModelError> {
    let m = &g.manifest;
    progress.start("calibrating variance", m.vocab.classes.len() as u64);
    let mut out = Vec::with_capacity(m.vocab.classes.len());
    for (c, class) in m.vocab.classes.iter().enumerate() {
        let filter = m.variance_by_class.get(c).filter(|f| !f.is_empty());
        let pool = training_walks(g, c);
        let (Some(filter), false) = (filter, pool.is_empty() || per_class < 2) else {
            out.push(VarianceMatch::default());
            progress.advance(1, class);
            continue;
        };
        let walks: Vec<WalkRequest> = (0..per_class)
            .map(|k| pool[k % pool.len()].clone())
            .collect();
        let s = Sampling {
            seed: seed ^ 0xca1b_0000 ^ c as u64,
            count: per_class,
            ..Sampling::default()
        };
        let prompt = Prompt {
            class: class.clone(),
            ..Prompt::default()
        };
        let expanded = expand(&prompt, &m.vocab)?;
        let mut rows = Vec::new();
        for start in (0..per_class).step_by(BATCH) {
            let b = (per_class - start).min(BATCH);
            let part = &walks[start..start + b];
            let d = sample_decode(g, &prompt, &expanded, &s, start, b, Some(part), cancel)?;
            for i in 0..b {
                rows.extend_from_slice(d.window(i));
            }
        }
        out.push(filter.calibrated(&rows).unwrap_or_default());
        progress.advance(1, class);
    }
    g.manifest.variance_sampled_by_class = out;
    // The plan the bundle carries says how it was calibrated, also when that came later.
    g.manifest.plan.calibrate_walks = per_class;
    progress.finish();
    Ok(())
}
