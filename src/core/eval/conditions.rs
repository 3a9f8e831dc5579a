//! Step 4 of a fold: every classifier trained on every condition (Real, Synthetic only,
//! Real+Synthetic, Baseline only, Real+Baseline on parallel workers, each Synthetic only
//! classifier fine-tuned on the real windows right after it) and tested on the held-out walks.
//! The conditions without generated windows train while the generator does (step 3), on the
//! cores it leaves idle.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::classifier::{
    Classifier, ClassifierConfig, ClassifierKind, FitLog, LabelledWindow, fine_tune,
    train_classifier,
};
use super::config::EvalConfig;
use super::{Condition, Prefixed};
use crate::core::jobs::{
    CancelToken, NoProgress, Progress, cores, run_parallel, with_idle_workers,
};
use crate::core::model::ModelError;

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
    /// Every held-out walk's prediction, for paired tests between conditions
    /// ([`super::significance`]); empty in folds saved before they were recorded.
    #[serde(default)]
    pub walks: Vec<WalkPrediction>,
}

/// One held-out walk as a classifier saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkPrediction {
    /// Index of the walk in the dataset.
    pub sequence: usize,
    /// Its class.
    pub truth: usize,
    /// The class predicted (window probabilities averaged over the walk).
    pub predicted: usize,
}

impl WalkPrediction {
    /// Whether the prediction is the walk's class.
    #[must_use]
    pub fn right(&self) -> bool {
        self.truth == self.predicted
    }
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

/// Classifies the held-out walks: the confusion matrix and every walk's prediction.
fn classify(
    clf: &Classifier,
    test: &[&LabelledWindow],
    classes: usize,
) -> Result<(Vec<Vec<usize>>, Vec<WalkPrediction>), ModelError> {
    let mut confusion = vec![vec![0usize; classes]; classes];
    let mut walks = Vec::new();
    for (sequence, truth, predicted) in clf.predict_sequences(test)? {
        if truth < classes && predicted < classes {
            confusion[truth][predicted] += 1;
            walks.push(WalkPrediction {
                sequence,
                truth,
                predicted,
            });
        }
    }
    Ok((confusion, walks))
}

/// Steps 3 and 4 of a fold, overlapped. The (classifier, condition) jobs that need no
/// generated windows (Real, Baseline only, Real+Baseline) start at once on background workers
/// of the lowest CPU priority, while `synthesise` trains the fold's generator and makes its
/// windows on this thread; they get only CPU time the generator leaves idle (it keeps about 1.8
/// of 2 cores busy, 4-5 of 16; beside them it ran 3-6 % slower on 2 cores). Once the windows
/// exist, the jobs not yet started and those that need the windows run on workers of normal
/// priority (their small recurrent kernels keep one core busy each). `early` holds every window set but the
/// model's. Returns what `synthesise` made, the results in job order and the real-data
/// classifier whose features the generative measures use (the GRU when there is one). The
/// schedule never changes a result: each job seeds its own weights and dropout.
#[allow(clippy::too_many_arguments)] // run_fold is the one caller
pub(super) fn fold_classifiers<'p, S>(
    early: &ConditionSets<'_>,
    synthesise: impl FnOnce() -> Result<(S, Vec<LabelledWindow>), ModelError>,
    cfg: &EvalConfig,
    nc: usize,
    fold_no: usize,
    device: &burn::tensor::Device,
    prefix: &(dyn Fn(&str) -> Prefixed<'p> + Sync),
    cancel: &CancelToken,
) -> Result<(S, Vec<ConditionResult>, Option<Classifier>), ModelError> {
    let jobs: Vec<Job> = cfg
        .classifiers
        .iter()
        .enumerate()
        .flat_map(|(ki, &kind)| Condition::ALL.map(|c| (ki, kind, c)))
        .filter(|j| j.2 != Condition::PretrainFinetune)
        .collect();
    let ctx = JobContext {
        cfg,
        nc,
        fold_no,
        device,
        prefix,
    };
    let slots: Vec<Mutex<Option<Result<JobDone, ModelError>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let store = |k: usize, r: Result<JobDone, ModelError>| {
        if let Ok(mut s) = slots[k].lock() {
            *s = Some(r);
        }
    };
    // Jobs the background workers may still take; `None` once the generator is done.
    let idle_order: VecDeque<usize> = costliest_first(&jobs, early)
        .into_iter()
        .filter(|&k| !jobs[k].2.uses_model())
        .collect();
    let workers = cores().min(idle_order.len());
    let queue = Mutex::new(Some(idle_order));
    let take = || -> Option<usize> { queue.lock().ok()?.as_mut()?.pop_front() };
    // Stops the background jobs when the fold fails or is cancelled before they finish.
    let stop = CancelToken::new();
    let made = with_idle_workers(
        workers,
        "pathogait-classify-idle",
        |_| {
            while let Some(k) = take() {
                // Quiet: the generator's stages hold the progress display meanwhile.
                store(k, ctx.run(&jobs, k, early, &NoProgress, &stop));
            }
        },
        || {
            let made = synthesise();
            let left: Vec<usize> = queue
                .lock()
                .ok()
                .and_then(|mut q| q.take())
                .map(|q| q.into_iter().collect())
                .unwrap_or_default();
            let (s, model_w) = match made {
                Ok(m) => m,
                Err(e) => {
                    stop.cancel();
                    return Err(e);
                }
            };
            let sets = ConditionSets {
                model: &model_w,
                ..*early
            };
            let late: Vec<usize> = costliest_first(&jobs, &sets)
                .into_iter()
                .filter(|k| left.contains(k) || jobs[*k].2.uses_model())
                .collect();
            let done = run_parallel(
                &late,
                "pathogait-classify",
                |_, &k| {
                    let p = prefix(&format!("{} · {}", jobs[k].1.name(), jobs[k].2.name()));
                    ctx.run(&jobs, k, &sets, &p, cancel)
                },
                || ModelError::Backend("a classifier worker did not finish".into()),
            );
            for (&k, r) in late.iter().zip(done) {
                store(k, r);
            }
            if cancel.is_cancelled() {
                stop.cancel();
            }
            Ok(s)
        },
    );
    let made = made?;
    if cancel.is_cancelled() {
        return Err(ModelError::Cancelled);
    }
    let mut results = Vec::new();
    let mut feature_net: Option<Classifier> = None;
    let mut tuned = Vec::new();
    for ((_, kind, cond), slot) in jobs.iter().zip(slots) {
        let r = slot
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or_else(|| Err(ModelError::Backend("a classifier job was lost".into())));
        let (done, fine) = r?;
        tuned.extend(fine);
        let Some((clf, result)) = done else { continue };
        results.push(result);
        if *cond == Condition::Real && (*kind == ClassifierKind::Gru || feature_net.is_none()) {
            feature_net = Some(clf);
        }
    }
    results.extend(tuned);
    Ok((made, results, feature_net))
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
    let (confusion, walks) = classify(&clf, sets.test, nc)?;
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
        walks,
    })
}

/// The window sets a fold's classifiers train and test on.
#[derive(Clone, Copy)]
pub(super) struct ConditionSets<'a> {
    pub(super) real: &'a [LabelledWindow],
    pub(super) model: &'a [LabelledWindow],
    pub(super) baseline: &'a [LabelledWindow],
    pub(super) val: &'a [&'a LabelledWindow],
    pub(super) test: &'a [&'a LabelledWindow],
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
    let (confusion, walks) = classify(&clf, sets.test, nc)?;
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
        walks,
    };
    Ok(Some((clf, result)))
}

/// A job's trained classifier and, for a Synthetic only job, the result of fine-tuning it on
/// the real windows.
type JobDone = (Trained, Option<ConditionResult>);

/// One (classifier index, classifier, condition) job of a fold.
type Job = (usize, ClassifierKind, Condition);

/// What every job of a fold shares.
struct JobContext<'c, 'p> {
    cfg: &'c EvalConfig,
    nc: usize,
    fold_no: usize,
    device: &'c burn::tensor::Device,
    prefix: &'c (dyn Fn(&str) -> Prefixed<'p> + Sync),
}

impl JobContext<'_, '_> {
    /// Runs [`train_condition`] for job `k`; a Synthetic only classifier is fine-tuned on the
    /// real windows in the same job, right after it (as a stage of its own it ran alone while
    /// the other cores idled).
    fn run(
        &self,
        jobs: &[Job],
        k: usize,
        sets: &ConditionSets,
        progress: &dyn Progress,
        cancel: &CancelToken,
    ) -> Result<JobDone, ModelError> {
        let job = jobs[k];
        if cancel.is_cancelled() {
            return Err(ModelError::Cancelled);
        }
        let (cfg, nc, fold_no) = (self.cfg, self.nc, self.fold_no);
        let trained = train_condition(job, sets, cfg, nc, fold_no, self.device, progress, cancel)?;
        let tuned = match (&trained, job.2) {
            (Some((start, pre)), Condition::Synthetic) => {
                let p = (self.prefix)(&format!(
                    "{} · {}",
                    job.1.name(),
                    Condition::PretrainFinetune.name()
                ));
                Some(finetune_condition(
                    job.0, start, pre, sets, cfg, nc, fold_no, &p, cancel,
                )?)
            }
            _ => None,
        };
        Ok((trained, tuned))
    }
}

/// Job indices, the costliest first: training windows (an epoch draws at most
/// `epoch_windows` of them, but larger sets also take more epochs to settle; a Synthetic only
/// job adds the real windows its fine-tuning trains on) times the architecture's cost per
/// window as `bench` measures it (LSTM > GRU > CNN). Ties keep job order.
fn costliest_first(jobs: &[Job], sets: &ConditionSets) -> Vec<usize> {
    let windows = |c: Condition| -> usize {
        let own: usize = sets.parts(c).iter().map(|p| p.len()).sum();
        own + if c == Condition::Synthetic {
            sets.real.len()
        } else {
            0
        }
    };
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
