//! Judging a generator's GPT by what it samples rather than by its next-token loss.
//!
//! On few subjects the GPT's held-out next-token loss is lowest early and rises as it learns
//! the fit subjects by heart, yet the walks it samples keep changing after that: keeping the
//! weights of the lowest loss gave better classifiers and windows further from the real ones
//! (README, *Dropout, the GPT's best check and calibrated variance*). A sample check asks the
//! question the evaluation asks of the windows instead: at each check the GPT samples windows
//! prompted like its own training windows (their prompt values), the tokeniser decodes them,
//! and the check measures the Fréchet distance between those windows and the training windows
//! they were prompted like, as the evaluation measures windows made like the fit walks against
//! the fit walks. (Measured against the held-out subjects' windows with their prompts, the
//! distance was dominated by how those people differ from the training subjects and barely
//! moved with the weights; README.) Each window is summarised by the mean and SD of every
//! standardised feature over its frames (72 numbers): the distance sees where the windows sit
//! and how far they swing, and how those vary between windows, without a classifier (none is
//! trained yet while the generator trains). The sampling seed is the same at every check, so
//! the distances differ by the weights alone.

use super::ModelError;
use super::bundle::GaitGenerator;
use super::data::TrainingSet;
use super::features::FEATURES;
use super::generate::{Sampling, WalkRequest, sample_decode};
use super::prompt::{Prompt, expand};
use crate::core::frechet::frechet_distance;
use crate::core::jobs::CancelToken;
use crate::core::math::evenly_spaced;

/// Windows a sample check draws when the studio's box is ticked (measured in README).
pub const DEFAULT_WINDOWS: usize = 96;

/// Windows decoded together at a check.
const BATCH: usize = 64;

/// Mean and SD over frames of every feature of a window of standardised rows: `2 × FEATURES`
/// numbers, means first.
#[must_use]
pub fn window_summary(rows: &[[f32; FEATURES]]) -> Vec<f32> {
    let n = rows.len().max(1) as f64;
    let mut out = vec![0.0f32; 2 * FEATURES];
    for j in 0..FEATURES {
        let mean = rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / n;
        let var = rows
            .iter()
            .map(|r| (f64::from(r[j]) - mean).powi(2))
            .sum::<f64>()
            / n;
        out[j] = mean as f32;
        out[FEATURES + j] = var.sqrt() as f32;
    }
    out
}

/// The Fréchet distance between window summaries ([`window_summary`]) of `windows` sampled by
/// `g` and of the real windows they are prompted like: up to `windows` of `like` (indices into
/// `set`), evenly spread, each sampled with its own prompt values (default sampling, `seed`).
///
/// # Errors
/// Fewer than two windows to prompt like, sampling errors or cancellation.
pub fn sample_distance(
    g: &GaitGenerator,
    set: &TrainingSet,
    like: &[usize],
    windows: usize,
    seed: u64,
    cancel: &CancelToken,
) -> Result<f32, ModelError> {
    let picked: Vec<usize> = evenly_spaced(like, windows).into_iter().copied().collect();
    if picked.len() < 2 {
        return Err(ModelError::Data(
            "a sample check needs two or more windows to prompt like".into(),
        ));
    }
    let real: Vec<Vec<f32>> = picked
        .iter()
        .map(|&i| window_summary(&set.windows[i].frames))
        .collect();
    let mut sampled = Vec::with_capacity(picked.len());
    for (c, class) in g.manifest.vocab.classes.iter().enumerate() {
        // A request per class: the class names the prompt, each walk carries its window's
        // own prompt values (the side inside is the window's, already mirrored if it was).
        let walks: Vec<WalkRequest> = picked
            .iter()
            .filter(|&&i| set.windows[i].class == c)
            .map(|&i| WalkRequest {
                values: set.windows[i].prompt.clone(),
                subject: None,
            })
            .collect();
        if walks.is_empty() {
            continue;
        }
        let prompt = Prompt {
            class: class.clone(),
            ..Prompt::default()
        };
        let expanded = expand(&prompt, &g.manifest.vocab)?;
        let s = Sampling {
            seed: seed ^ 0x5a3c_1e00 ^ c as u64,
            count: walks.len(),
            ..Sampling::default()
        };
        for start in (0..walks.len()).step_by(BATCH) {
            let b = (walks.len() - start).min(BATCH);
            let part = &walks[start..start + b];
            let d = sample_decode(g, &prompt, &expanded, &s, start, b, Some(part), cancel)?;
            sampled.extend((0..b).map(|i| window_summary(d.window(i))));
        }
    }
    frechet_distance(&real, &sampled)
        .map(|d| d as f32)
        .ok_or_else(|| ModelError::Data("sample check: too few windows to compare".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_summary_holds_each_features_mean_then_sd() {
        let mut rows = vec![[0.0f32; FEATURES]; 4];
        for (t, r) in rows.iter_mut().enumerate() {
            r[0] = [1.0, 3.0, 1.0, 3.0][t];
            r[5] = 2.0;
        }
        let s = window_summary(&rows);
        assert_eq!(s.len(), 2 * FEATURES);
        assert!((s[0] - 2.0).abs() < 1e-6, "mean of 1, 3, 1, 3");
        assert!(
            (s[FEATURES] - 1.0).abs() < 1e-6,
            "population SD of 1, 3, 1, 3"
        );
        assert!((s[5] - 2.0).abs() < 1e-6 && s[FEATURES + 5].abs() < 1e-6);
    }
}
