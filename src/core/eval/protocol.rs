//! The evaluation protocol of the paper's Table I, per fold of subjects:
//!
//! 1. Hold out the test subjects; drop any training walk whose content equals a test walk
//!    (a copy filed under another subject would otherwise leak).
//! 2. Split the remaining subjects into *fit* subjects and a few *validation* subjects (early
//!    stopping only). The generator, the baseline and every classifier see fit subjects only.
//! 3. Train the generator on the fit subjects, generate N windows per class; build the same
//!    number of jitter/time-warp baseline windows from the fit subjects' real windows.
//! 4. Train each classifier on Real, Synthetic only, Real+Synthetic, Baseline only and
//!    Real+Baseline, fine-tune the Synthetic only one on the real windows; test on the held-out
//!    subjects' walks (one prediction per walk). The conditions without generated windows
//!    train during step 3, on the cores the generator leaves idle. See [`super::conditions`].
//! 5. Measure the synthetic sets: Fréchet distance in the real-data GRU's feature space per
//!    class, diversity, prior adherence, foot skating and bone-length error.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::baseline::baseline_windows;
use super::classifier::LabelledWindow;
use super::conditions::{ConditionResult, ConditionSets, fold_classifiers};
use super::config::EvalConfig;
use super::generative::measure;
pub use super::generative::{ClassDistance, GenerativeResult};
use super::prepared::{ModelWindow, Prepared, RawWindow, standardise};
use super::{Prefixed, resample_rows, size_normalise};
use crate::core::data::{Dataset, Fold, GaitSequence};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::model::bundle::TrainPlan;
use crate::core::model::calibrate::train;
use crate::core::model::features::{FEATURES, Normalizer, WindowConfig, sequence_features};
use crate::core::model::generate::{Sampling, generate, generate_like};
use crate::core::model::prompt::{Prompt, Speed};
use crate::core::model::{ModelError, bundle::GaitGenerator};

/// Everything measured in one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold number (0-based).
    pub fold: usize,
    /// Held-out subjects.
    pub test_subjects: Vec<String>,
    /// Early-stopping subjects.
    pub val_subjects: Vec<String>,
    /// Subjects the generator, baseline and classifiers trained on.
    pub fit_subjects: Vec<String>,
    /// Ids of training walks dropped because their content equals a test walk.
    pub dropped_duplicates: Vec<String>,
    /// Walks tested.
    pub test_walks: usize,
    /// Real windows: fit, validation, test.
    pub real_windows: (usize, usize, usize),
    /// Model windows per class name.
    pub synthetic_windows: BTreeMap<String, usize>,
    /// Generator reconstruction error on its own held-out subjects (mm), as a sanity check.
    pub generator_mpjpe_mm: f64,
    /// Steps the generator's tokeniser and GPT ran, and why a stage stopped early (if it did).
    #[serde(default)]
    pub generator_steps: (usize, usize),
    /// Early-stop notes of the generator stages.
    #[serde(default)]
    pub generator_stops: Vec<String>,
    /// Classifier results.
    pub results: Vec<ConditionResult>,
    /// Synthetic data quality.
    pub generative: GenerativeResult,
    /// Wall time of the fold.
    pub seconds: f64,
}

/// Generates `per_class` windows of every class the generator knows; `(class, raw frames,
/// sequence)` triples.
fn model_windows(
    g: &GaitGenerator,
    classes: &[String],
    cfg: &EvalConfig,
    fold: usize,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Vec<ModelWindow>, ModelError> {
    let w = g.manifest.window;
    let mut out = Vec::new();
    for (c, name) in classes.iter().enumerate() {
        if g.manifest.vocab.class_index(name).is_none() || cfg.synthetic_per_class == 0 {
            continue;
        }
        let seed = cfg
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add((fold * 10_000 + c * 1_000) as u64);
        if cfg.like_fit_walks {
            let sampling = Sampling {
                count: cfg.synthetic_per_class,
                frames: w.frames,
                seed,
                ..cfg.sampling
            };
            let generated = generate_like(g, name, &sampling, progress, cancel)?;
            push_windows(&mut out, c, generated.sequences, w);
            continue;
        }
        for (k, (prompt, count)) in prompts_of(name, cfg).into_iter().enumerate() {
            let sampling = Sampling {
                count,
                frames: w.frames,
                // Each prompt's walks get seeds of their own (the first as before).
                seed: seed.wrapping_add(k as u64 * 100),
                ..cfg.sampling
            };
            let generated = generate(g, &prompt, &sampling, progress, cancel)?;
            push_windows(&mut out, c, generated.sequences, w);
        }
    }
    Ok(out)
}

/// Generated walks of class `c` as model windows (walks without features are left out).
fn push_windows(out: &mut Vec<ModelWindow>, c: usize, seqs: Vec<GaitSequence>, w: WindowConfig) {
    for s in seqs {
        if let Some(f) = sequence_features(&s, w.fps) {
            out.push((c, resample_rows(&f, w.frames), s));
        }
    }
}

/// The prompts of one class's synthetic windows and how many windows each: the class's
/// typical walk for all of them, or with [`EvalConfig::prompt_spread`] five severities at
/// three speeds in equal shares (the first shares one larger where the count does not divide).
fn prompts_of(class: &str, cfg: &EvalConfig) -> Vec<(Prompt, usize)> {
    let base = Prompt {
        class: class.to_string(),
        ..Prompt::default()
    };
    let n = cfg.synthetic_per_class;
    if !cfg.prompt_spread {
        return vec![(base, n)];
    }
    let combos: Vec<(f32, Speed)> = [Speed::Slow, Speed::Normal, Speed::Fast]
        .into_iter()
        .flat_map(|sp| [0.1f32, 0.3, 0.5, 0.7, 0.9].map(|sev| (sev, sp)))
        .collect();
    let k = combos.len();
    combos
        .into_iter()
        .enumerate()
        .map(|(i, (severity, speed))| {
            let p = Prompt {
                severity,
                speed,
                ..base.clone()
            };
            (p, n / k + usize::from(i < n % k))
        })
        .filter(|(_, c)| *c > 0)
        .collect()
}

/// A fold's walks after the leak check and the validation split (sequence indices).
struct FoldSplit {
    /// Training walks dropped because their content equals a test walk.
    dups: Vec<usize>,
    /// Labelled walks of the fit subjects.
    fit: Vec<usize>,
    /// Labelled walks of the validation subjects.
    val: Vec<usize>,
    /// Labelled test walks.
    test: Vec<usize>,
    val_subjects: Vec<String>,
    fit_subjects: Vec<String>,
}

/// Steps 1 and 2: no copy of a test walk may train anything; validation subjects come from
/// the training subjects only (a seeded shuffle per fold).
fn split_fold(
    ds: &Dataset,
    prep: &Prepared,
    fold_no: usize,
    fold: &Fold,
    cfg: &EvalConfig,
) -> FoldSplit {
    let subject = |i: usize| ds.sequences[i].subject.clone();
    let test_hashes: BTreeSet<&str> = fold.test.iter().map(|&i| prep.hashes[i].as_str()).collect();
    let (dups, kept): (Vec<usize>, Vec<usize>) = fold
        .train
        .iter()
        .partition(|&&i| test_hashes.contains(prep.hashes[i].as_str()));
    let mut train_subjects: Vec<String> = kept
        .iter()
        .map(|&i| subject(i))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    train_subjects.shuffle(&mut ChaCha8Rng::seed_from_u64(
        cfg.seed ^ (fold_no as u64) << 16,
    ));
    let n_val = if train_subjects.len() >= 3 {
        ((train_subjects.len() as f64 * cfg.val_fraction).round() as usize)
            .clamp(1, train_subjects.len() - 2)
    } else {
        0
    };
    let mut val_subjects: Vec<String> = train_subjects[..n_val].to_vec();
    let mut fit_subjects: Vec<String> = train_subjects[n_val..].to_vec();
    // Scarcity: the first subjects of the seeded shuffle, so the cut is fixed per fold and
    // seed, and a smaller cut is part of every larger one.
    if let Some(k) = cfg.real_subjects {
        fit_subjects.truncate(k.max(1));
    }
    val_subjects.sort();
    fit_subjects.sort();
    let of = |subjects: &[String]| -> Vec<usize> {
        kept.iter()
            .copied()
            .filter(|&i| subjects.contains(&subject(i)))
            .collect()
    };
    let labelled = |idx: &[usize]| -> Vec<usize> {
        idx.iter()
            .copied()
            .filter(|&i| prep.windows[i].0.is_some())
            .collect()
    };
    FoldSplit {
        dups,
        fit: labelled(&of(&fit_subjects)),
        val: labelled(&of(&val_subjects)),
        test: labelled(&fold.test),
        val_subjects,
        fit_subjects,
    }
}

/// The standardisation of a fold: statistics of the fit subjects' real frames.
fn fit_normalizer(
    prep: &Prepared,
    fit: &[usize],
    fold_no: usize,
    cfg: &EvalConfig,
) -> Result<Normalizer, ModelError> {
    let fit_frames: Vec<[f32; FEATURES]> = fit
        .iter()
        .flat_map(|&i| {
            prep.windows[i].1.iter().flat_map(|w| {
                let mut w = w.clone();
                size_normalise(&mut w);
                w
            })
        })
        .collect();
    if fit_frames.is_empty() {
        return Err(ModelError::Data(format!(
            "fold {}: the training subjects have no walk long enough for a {}-frame window",
            fold_no + 1,
            cfg.generator.window.frames
        )));
    }
    Ok(Normalizer::fit(&fit_frames))
}

/// The real windows of walks `idx`, standardised.
fn real_windows(prep: &Prepared, idx: &[usize], norm: &Normalizer) -> Vec<LabelledWindow> {
    idx.iter()
        .flat_map(|&i| {
            let class = prep.windows[i].0.unwrap_or(0);
            prep.windows[i].1.iter().map(move |w| (i, class, w))
        })
        .map(|(i, class, w)| LabelledWindow {
            frames: standardise(w, norm),
            class,
            sequence: i,
        })
        .collect()
}

/// Synthetic windows, standardised; each gets its own sequence id past the real ones, as they
/// pool with nothing.
fn synthetic_windows<'w>(
    set: impl Iterator<Item = (usize, &'w Vec<[f32; FEATURES]>)>,
    norm: &Normalizer,
    first_id: usize,
) -> Vec<LabelledWindow> {
    set.enumerate()
        .map(|(k, (class, w))| LabelledWindow {
            frames: standardise(w, norm),
            class,
            sequence: first_id + k,
        })
        .collect()
}

/// Step 3: the generator trained on the fit subjects and its windows.
#[allow(clippy::too_many_arguments)] // run_fold is the one caller
fn fold_synthetic<'p>(
    ds: &Dataset,
    prep: &Prepared,
    fit: &[usize],
    fold_no: usize,
    cfg: &EvalConfig,
    device: &burn::tensor::Device,
    backend: &str,
    prefix: &(dyn Fn(&str) -> Prefixed<'p> + Sync),
    cancel: &CancelToken,
) -> Result<(GaitGenerator, Vec<ModelWindow>), ModelError> {
    let fit_ds = Dataset::new(
        format!("{} (fold {}: fit subjects)", ds.name, fold_no + 1),
        fit.iter().map(|&i| ds.sequences[i].clone()).collect(),
    );
    let gen_plan = TrainPlan {
        seed: cfg.generator.seed ^ fold_no as u64,
        ..cfg.generator.clone()
    };
    let g = train(
        &fit_ds,
        &gen_plan,
        "fold generator",
        device,
        backend,
        None,
        &prefix("generator"),
        cancel,
    )?;
    let model = model_windows(
        &g,
        &prep.classes,
        cfg,
        fold_no,
        &prefix("synthetic"),
        cancel,
    )?;
    Ok((g, model))
}

/// Step 3's baseline: as many jitter/time-warp windows per class as the generator makes, from
/// the fit subjects' real windows.
fn fold_baseline(
    prep: &Prepared,
    fit: &[usize],
    fold_no: usize,
    cfg: &EvalConfig,
) -> Vec<(usize, RawWindow)> {
    let sources: Vec<(usize, &[[f32; FEATURES]])> = fit
        .iter()
        .flat_map(|&i| {
            let c = prep.windows[i].0.unwrap_or(0);
            prep.windows[i].1.iter().map(move |w| (c, w.as_slice()))
        })
        .collect();
    baseline_windows(
        &sources,
        prep.classes.len(),
        cfg.synthetic_per_class,
        &cfg.baseline,
        cfg.seed ^ 0xba5e ^ fold_no as u64,
    )
}

/// Runs one fold (the steps of the module notes). `prep` comes from
/// [`super::prepared::prepare`] on the same dataset.
#[allow(clippy::too_many_arguments)] // evaluate() is the one caller
pub(crate) fn run_fold(
    ds: &Dataset,
    prep: &Prepared,
    fold_no: usize,
    fold: &Fold,
    cfg: &EvalConfig,
    device: &burn::tensor::Device,
    backend: &str,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<FoldResult, ModelError> {
    let t0 = Instant::now();
    let split = split_fold(ds, prep, fold_no, fold, cfg);
    let norm = fit_normalizer(prep, &split.fit, fold_no, cfg)?;
    let real_fit = real_windows(prep, &split.fit, &norm);
    let real_val = real_windows(prep, &split.val, &norm);
    let real_test = real_windows(prep, &split.test, &norm);
    let prefix = |s: &str| Prefixed {
        inner: progress,
        prefix: format!("fold {} · {s}", fold_no + 1),
    };
    let n = ds.sequences.len();
    let base = fold_baseline(prep, &split.fit, fold_no, cfg);
    let base_w = synthetic_windows(base.iter().map(|(c, w)| (*c, w)), &norm, n);
    let val_r: Vec<&LabelledWindow> = real_val.iter().collect();
    let test_r: Vec<&LabelledWindow> = real_test.iter().collect();
    // Every window set but the model's, which the generator makes while the classifiers that
    // need none of it train (step 4 overlaps step 3).
    let early = ConditionSets {
        real: &real_fit,
        model: &[],
        baseline: &base_w,
        val: &val_r,
        test: &test_r,
    };
    let synthesise = || -> Result<_, ModelError> {
        let (g, model) = fold_synthetic(
            ds, prep, &split.fit, fold_no, cfg, device, backend, &prefix, cancel,
        )?;
        let model_w = synthetic_windows(model.iter().map(|(c, w, _)| (*c, w)), &norm, n);
        Ok(((g, model), model_w))
    };
    let nc = prep.classes.len();
    let ((g, model), results, feature_net) = fold_classifiers(
        &early, synthesise, cfg, nc, fold_no, device, &prefix, cancel,
    )?;
    // 5. Synthetic data quality.
    let generative = measure(
        prep,
        &norm,
        feature_net.as_ref(),
        &real_fit,
        &real_val,
        &model,
        &base,
        &split.fit,
        ds,
        &g,
    )?;
    let report = &g.manifest.report;
    Ok(FoldResult {
        fold: fold_no,
        test_subjects: fold.test_subjects.clone(),
        val_subjects: split.val_subjects,
        fit_subjects: split.fit_subjects,
        dropped_duplicates: split
            .dups
            .iter()
            .map(|&i| ds.sequences[i].id.clone())
            .collect(),
        test_walks: split.test.len(),
        real_windows: (real_fit.len(), real_val.len(), real_test.len()),
        synthetic_windows: prep
            .classes
            .iter()
            .enumerate()
            .map(|(c, n)| (n.clone(), model.iter().filter(|m| m.0 == c).count()))
            .collect(),
        generator_mpjpe_mm: report.mpjpe_heldout_mm,
        generator_steps: (
            report.tokenizer_log.last().map_or(0, |l| l.step),
            report.gpt_log.last().map_or(0, |l| l.step),
        ),
        generator_stops: [
            ("tokeniser", &report.tokenizer_end),
            ("GPT", &report.gpt_end),
        ]
        .iter()
        .filter_map(|(n, e)| e.stopped.as_ref().map(|w| format!("{n} {w}")))
        .collect(),
        results,
        generative,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_prompts_share_the_count_over_severities_and_speeds() {
        let mut cfg = EvalConfig {
            synthetic_per_class: 50,
            ..EvalConfig::default()
        };
        let one = prompts_of("antalgic", &cfg);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1, 50);
        assert!((one[0].0.severity - 0.5).abs() < 1e-6);
        cfg.prompt_spread = true;
        let spread = prompts_of("antalgic", &cfg);
        assert_eq!(spread.len(), 15);
        assert_eq!(spread.iter().map(|p| p.1).sum::<usize>(), 50);
        assert!(spread.iter().all(|p| p.1 == 3 || p.1 == 4));
        assert!(
            spread
                .iter()
                .any(|p| p.0.speed == Speed::Fast && p.0.severity > 0.8)
        );
        cfg.synthetic_per_class = 4;
        assert_eq!(prompts_of("antalgic", &cfg).len(), 4, "no empty prompts");
    }
}
