//! The evaluation protocol of the paper's Table I, per fold of subjects:
//!
//! 1. Hold out the test subjects; drop any training walk whose content equals a test walk
//!    (a copy filed under another subject would otherwise leak).
//! 2. Split the remaining subjects into *fit* subjects and a few *validation* subjects (early
//!    stopping only). The generator, the baseline and every classifier see fit subjects only.
//! 3. Train the generator on the fit subjects, generate N windows per class; build the same
//!    number of jitter/time-warp baseline windows from the fit subjects' real windows.
//! 4. Train each classifier on Real, Synthetic only, Real+Synthetic, Baseline only and
//!    Real+Baseline; test on the held-out subjects' walks (one prediction per walk).
//! 5. Measure the synthetic sets: Fréchet distance in the real-data GRU's feature space per
//!    class, diversity, prior adherence, foot skating and bone-length error.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::baseline::{AugmentConfig, baseline_windows};
use super::classifier::{
    Classifier, ClassifierConfig, ClassifierKind, FitLog, LabelledWindow, fine_tune,
    train_classifier,
};
use super::generative::measure;
pub use super::generative::{ClassDistance, GenerativeResult};
use super::prepared::{ModelWindow, Prepared, RawWindow, standardise};
use super::{Condition, Prefixed, resample_rows, size_normalise};
use crate::core::data::{Dataset, Fold};
use crate::core::jobs::{CancelToken, Progress, run_parallel};
use crate::core::model::bundle::{TrainPlan, train};
use crate::core::model::features::{FEATURES, Normalizer, sequence_features};
use crate::core::model::generate::{Sampling, generate};
use crate::core::model::prompt::Prompt;
use crate::core::model::{ModelError, bundle::GaitGenerator};

/// How subjects are split into folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Leave one subject out: one fold per subject.
    Loso,
    /// `k` folds of whole subjects (faster; every subject is tested once).
    KFold(usize),
}

/// Everything that defines an evaluation run (saved with its results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalConfig {
    /// Fold scheme.
    pub protocol: Protocol,
    /// Classifiers to train, in table order.
    pub classifiers: Vec<ClassifierKind>,
    /// Classifier size and optimisation.
    pub classifier: ClassifierConfig,
    /// Synthetic windows per class (model and baseline alike).
    pub synthetic_per_class: usize,
    /// Generator training plan (trained afresh in every fold).
    pub generator: TrainPlan,
    /// Sampling settings (count, frames and seed are set per fold and class).
    pub sampling: Sampling,
    /// Baseline augmentation strengths.
    pub baseline: AugmentConfig,
    /// Share of training subjects kept for early stopping (at least one when there are three
    /// or more training subjects).
    pub val_fraction: f64,
    /// Frames between the starts of real windows.
    pub real_hop: usize,
    /// Run only the first folds (quick looks); `None` runs all.
    pub max_folds: Option<usize>,
    /// Seed of splits, classifiers, sampling and baseline.
    pub seed: u64,
    /// Learning rate of the fine-tuning on real walks after synthetic pretraining, as a
    /// fraction of the classifier's (smaller steps keep what the pretraining learned).
    pub finetune_lr_scale: f64,
    /// Cut each fold's real training subjects to this many (a seeded choice per fold, recorded
    /// in the fold's `fit_subjects`); the generator, the baseline and every classifier see
    /// only these, and validation and test subjects stay the same. `None`: all of them.
    pub real_subjects: Option<usize>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            protocol: Protocol::Loso,
            classifiers: ClassifierKind::ALL.to_vec(),
            classifier: ClassifierConfig::default(),
            synthetic_per_class: 100,
            generator: TrainPlan::default(),
            sampling: Sampling {
                augment: 0.15,
                ..Sampling::default()
            },
            baseline: AugmentConfig::default(),
            val_fraction: 0.15,
            real_hop: 32,
            max_folds: None,
            seed: 1,
            finetune_lr_scale: 0.3,
            real_subjects: None,
        }
    }
}

/// One classifier trained on one condition, tested on a fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionResult {
    /// Classifier.
    pub classifier: ClassifierKind,
    /// Training data.
    pub condition: Condition,
    /// Windows it trained on.
    pub train_windows: usize,
    /// Walk-level accuracy on the held-out subjects.
    pub accuracy: f64,
    /// Macro-F1 over the classes present in the truth or the predictions.
    pub macro_f1: f64,
    /// `confusion[true][predicted]`, walks.
    pub confusion: Vec<Vec<usize>>,
    /// Early-stopping record (of the fine-tuning, for the fine-tuned condition).
    pub fit: FitLog,
    /// The synthetic pretraining's record, for the fine-tuned condition.
    #[serde(default)]
    pub pretrain: Option<FitLog>,
    /// Learning rate of the fine-tuning, for the fine-tuned condition.
    #[serde(default)]
    pub lr: Option<f64>,
}

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

/// Macro-F1 over the classes that occur in the truth or the predictions.
#[must_use]
pub fn macro_f1(confusion: &[Vec<usize>]) -> f64 {
    let c = confusion.len();
    let mut f1s = Vec::new();
    for k in 0..c {
        let tp = confusion[k][k] as f64;
        let truth: usize = confusion[k].iter().sum();
        let pred: usize = confusion.iter().map(|r| r[k]).sum();
        if truth + pred == 0 {
            continue;
        }
        f1s.push(2.0 * tp / (truth + pred) as f64);
    }
    if f1s.is_empty() {
        f64::NAN
    } else {
        f1s.iter().sum::<f64>() / f1s.len() as f64
    }
}

/// Accuracy of a confusion matrix.
#[must_use]
pub fn accuracy(confusion: &[Vec<usize>]) -> f64 {
    let total: usize = confusion.iter().flatten().sum();
    let right: usize = (0..confusion.len()).map(|k| confusion[k][k]).sum();
    if total == 0 {
        f64::NAN
    } else {
        right as f64 / total as f64
    }
}

fn classify(
    clf: &Classifier,
    test: &[&LabelledWindow],
    classes: usize,
) -> Result<Vec<Vec<usize>>, ModelError> {
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (_, truth, pred) in clf.predict_sequences(test)? {
        if truth < classes && pred < classes {
            confusion[truth][pred] += 1;
        }
    }
    Ok(confusion)
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
        let prompt = Prompt {
            class: name.clone(),
            ..Prompt::default()
        };
        let sampling = Sampling {
            count: cfg.synthetic_per_class,
            frames: w.frames,
            seed: cfg
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add((fold * 10_000 + c * 1_000) as u64),
            ..cfg.sampling
        };
        let generated = generate(g, &prompt, &sampling, progress, cancel)?;
        for s in generated.sequences {
            if let Some(f) = sequence_features(&s, w.fps) {
                out.push((c, resample_rows(&f, w.frames), s));
            }
        }
    }
    Ok(out)
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

/// A fold's generator, its windows and the baseline's `(class, window)` pairs.
type FoldSynthetic = (GaitGenerator, Vec<ModelWindow>, Vec<(usize, RawWindow)>);

/// Step 3: the generator trained on the fit subjects and its windows, and the same number of
/// jitter/time-warp baseline windows from the fit subjects' real windows.
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
) -> Result<FoldSynthetic, ModelError> {
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
    let sources: Vec<(usize, &[[f32; FEATURES]])> = fit
        .iter()
        .flat_map(|&i| {
            let c = prep.windows[i].0.unwrap_or(0);
            prep.windows[i].1.iter().map(move |w| (c, w.as_slice()))
        })
        .collect();
    let base = baseline_windows(
        &sources,
        prep.classes.len(),
        cfg.synthetic_per_class,
        &cfg.baseline,
        cfg.seed ^ 0xba5e ^ fold_no as u64,
    );
    Ok((g, model, base))
}

/// Step 4: every (classifier, condition) pair, trained on parallel workers (their small
/// recurrent kernels keep one core busy each). Returns the results in job order and the
/// real-data classifier whose features the generative measures use (the GRU when there is one).
fn fold_classifiers<'p>(
    sets: &ConditionSets<'_>,
    cfg: &EvalConfig,
    nc: usize,
    fold_no: usize,
    device: &burn::tensor::Device,
    prefix: &(dyn Fn(&str) -> Prefixed<'p> + Sync),
    cancel: &CancelToken,
) -> Result<(Vec<ConditionResult>, Option<Classifier>), ModelError> {
    let jobs: Vec<(usize, ClassifierKind, Condition)> = cfg
        .classifiers
        .iter()
        .enumerate()
        .flat_map(|(ki, &kind)| Condition::ALL.map(|c| (ki, kind, c)))
        .filter(|j| j.2 != Condition::PretrainFinetune)
        .collect();
    let trained = train_conditions(&jobs, sets, cfg, nc, fold_no, device, prefix, cancel)?;
    // Each classifier pretrained on synthetic windows is then fine-tuned on the real ones.
    let starts: Vec<(usize, &Classifier, &ConditionResult)> = jobs
        .iter()
        .zip(&trained)
        .filter(|(j, _)| j.2 == Condition::Synthetic)
        .filter_map(|(j, t)| t.as_ref().map(|(c, r)| (j.0, c, r)))
        .collect();
    let tuned = run_parallel(
        &starts,
        "pathogait-finetune",
        |_, &(ki, start, pre)| {
            let p = prefix(&format!(
                "{} · {}",
                start.kind.name(),
                Condition::PretrainFinetune.name()
            ));
            finetune_condition(ki, start, pre, sets, cfg, nc, fold_no, &p, cancel)
        },
        || ModelError::Backend("a fine-tuning worker did not finish".into()),
    );
    let mut results = Vec::new();
    let mut feature_net: Option<Classifier> = None;
    for ((_, kind, cond), done) in jobs.iter().zip(trained) {
        let Some((clf, result)) = done else { continue };
        results.push(result);
        if *cond == Condition::Real && (*kind == ClassifierKind::Gru || feature_net.is_none()) {
            feature_net = Some(clf);
        }
    }
    for t in tuned {
        results.push(t?);
    }
    Ok((results, feature_net))
}

/// Fine-tunes a classifier pretrained on the synthetic windows (`pre` is its result) on the
/// real training windows, at `finetune_lr_scale` of the learning rate, and tests it.
#[allow(clippy::too_many_arguments)] // as train_condition
fn finetune_condition(
    ki: usize,
    start: &Classifier,
    pre: &ConditionResult,
    sets: &ConditionSets,
    cfg: &EvalConfig,
    nc: usize,
    fold_no: usize,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ConditionResult, ModelError> {
    let tr: Vec<&LabelledWindow> = sets.real.iter().collect();
    let seed = cfg
        .seed
        .wrapping_mul(7919)
        .wrapping_add((fold_no * 100 + ki * 10 + 7) as u64);
    let ft = ClassifierConfig {
        lr: cfg.classifier.lr * cfg.finetune_lr_scale,
        ..cfg.classifier
    };
    let (clf, fit) = fine_tune(start, &ft, &tr, sets.val, seed, progress, cancel)?;
    let confusion = classify(&clf, sets.test, nc)?;
    Ok(ConditionResult {
        classifier: start.kind,
        condition: Condition::PretrainFinetune,
        train_windows: pre.train_windows + tr.len(),
        accuracy: accuracy(&confusion),
        macro_f1: macro_f1(&confusion),
        confusion,
        fit,
        pretrain: Some(pre.fit.clone()),
        lr: Some(ft.lr),
    })
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
    let (g, model, base) = fold_synthetic(
        ds, prep, &split.fit, fold_no, cfg, device, backend, &prefix, cancel,
    )?;
    let n = ds.sequences.len();
    let model_w = synthetic_windows(model.iter().map(|(c, w, _)| (*c, w)), &norm, n);
    let base_w = synthetic_windows(base.iter().map(|(c, w)| (*c, w)), &norm, n);
    let val_r: Vec<&LabelledWindow> = real_val.iter().collect();
    let test_r: Vec<&LabelledWindow> = real_test.iter().collect();
    let sets = ConditionSets {
        real: &real_fit,
        model: &model_w,
        baseline: &base_w,
        val: &val_r,
        test: &test_r,
    };
    let nc = prep.classes.len();
    let (results, feature_net) =
        fold_classifiers(&sets, cfg, nc, fold_no, device, &prefix, cancel)?;
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

/// The window sets a fold's classifiers train and test on.
struct ConditionSets<'a> {
    real: &'a [LabelledWindow],
    model: &'a [LabelledWindow],
    baseline: &'a [LabelledWindow],
    val: &'a [&'a LabelledWindow],
    test: &'a [&'a LabelledWindow],
}

impl ConditionSets<'_> {
    /// The window sets a condition trains on: the real fit windows (or none) and the model or
    /// baseline windows (or none).
    fn parts(&self, cond: Condition) -> [&[LabelledWindow]; 2] {
        let real: &[LabelledWindow] = if cond.uses_real() { self.real } else { &[] };
        let extra: &[LabelledWindow] = match cond {
            Condition::Synthetic | Condition::RealSynthetic | Condition::PretrainFinetune => {
                self.model
            }
            Condition::Baseline | Condition::RealBaseline => self.baseline,
            Condition::Real => &[],
        };
        [real, extra]
    }
}

/// A trained classifier and its test result, or `None` where the condition had no windows.
type Trained = Option<(Classifier, ConditionResult)>;

/// Trains and tests one classifier on one condition.
#[allow(clippy::too_many_arguments)] // one caller, which passes its fold's context through
fn train_condition(
    (ki, kind, cond): (usize, ClassifierKind, Condition),
    sets: &ConditionSets,
    cfg: &EvalConfig,
    nc: usize,
    fold_no: usize,
    device: &burn::tensor::Device,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Trained, ModelError> {
    let tr: Vec<&LabelledWindow> = sets.parts(cond).into_iter().flatten().collect();
    let seed = cfg
        .seed
        .wrapping_mul(7919)
        .wrapping_add((fold_no * 100 + ki * 10) as u64);
    let (clf, fit_log) = match train_classifier(
        kind,
        &cfg.classifier,
        nc,
        &tr,
        sets.val,
        device,
        seed,
        progress,
        cancel,
    ) {
        Ok(r) => r,
        Err(ModelError::Data(_)) => return Ok(None), // e.g. no synthetic windows at all
        Err(e) => return Err(e),
    };
    let confusion = classify(&clf, sets.test, nc)?;
    let result = ConditionResult {
        classifier: kind,
        condition: cond,
        train_windows: tr.len(),
        accuracy: accuracy(&confusion),
        macro_f1: macro_f1(&confusion),
        confusion,
        fit: fit_log,
        pretrain: None,
        lr: None,
    };
    Ok(Some((clf, result)))
}

/// Runs [`train_condition`] for every job on parallel workers (one per core), the costliest
/// first (so that no long job starts last and leaves the other cores idle); results come
/// back in job order, so the report does not depend on the schedule.
#[allow(clippy::too_many_arguments)] // as train_condition
fn train_conditions<'p>(
    jobs: &[(usize, ClassifierKind, Condition)],
    sets: &ConditionSets,
    cfg: &EvalConfig,
    nc: usize,
    fold_no: usize,
    device: &burn::tensor::Device,
    prefix: &(dyn Fn(&str) -> Prefixed<'p> + Sync),
    cancel: &CancelToken,
) -> Result<Vec<Trained>, ModelError> {
    let order = costliest_first(jobs, sets);
    let done = run_parallel(
        &order,
        "pathogait-classify",
        |_, &k| {
            let job = jobs[k];
            let p = prefix(&format!("{} · {}", job.1.name(), job.2.name()));
            if cancel.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            train_condition(job, sets, cfg, nc, fold_no, device, &p, cancel)
        },
        || ModelError::Backend("a classifier worker did not finish".into()),
    );
    let mut slots: Vec<Option<Result<Trained, ModelError>>> = jobs.iter().map(|_| None).collect();
    for (&k, r) in order.iter().zip(done) {
        slots[k] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ModelError::Backend("a classifier job was lost".into()))))
        .collect()
}

/// Job indices, the costliest first: training windows (an epoch draws at most
/// `epoch_windows` of them, but larger sets also take more epochs to settle) times the
/// architecture's cost per window as `bench` measures it (LSTM > GRU > CNN). Ties keep job
/// order.
fn costliest_first(
    jobs: &[(usize, ClassifierKind, Condition)],
    sets: &ConditionSets,
) -> Vec<usize> {
    let windows = |c: Condition| -> usize { sets.parts(c).iter().map(|p| p.len()).sum() };
    let per_window = |k: ClassifierKind| -> usize {
        match k {
            ClassifierKind::Lstm => 4,
            ClassifierKind::Gru => 3,
            ClassifierKind::Cnn => 2,
        }
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(windows(jobs[k].2) * per_window(jobs[k].1)));
    order
}
