//! Gait classifiers used to judge synthetic data: GRU, LSTM and 1D-CNN over standardised
//! feature windows, trained with class-balanced batches and early stopping on a validation
//! split.
//!
//! Shapes: windows `[B, T, F]` (T = window frames / subsample, F = 36 features) ->
//! logits `[B, C]` and an embedding `[B, H]` (the pooled hidden features, used for the
//! Fréchet distance).

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, PaddingConfig1d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::recurrent::{Cell, Recurrent};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::evenly_spaced;
use crate::core::model::dropout::DropMasks;
use crate::core::model::features::FEATURES;
use crate::core::model::parallel::{materialise, seeded};
use crate::core::model::{ModelError, read_floats, read_scalar};

/// Classifier architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClassifierKind {
    /// Gated recurrent unit (the paper's classifier).
    Gru,
    /// Long short-term memory.
    Lstm,
    /// Temporal 1D convolutions.
    Cnn,
}

impl ClassifierKind {
    /// All kinds, in table order.
    pub const ALL: [Self; 3] = [Self::Gru, Self::Lstm, Self::Cnn];

    /// Name used in tables and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gru => "GRU",
            Self::Lstm => "LSTM",
            Self::Cnn => "CNN",
        }
    }

    /// Parses `gru`, `lstm` or `cnn` (any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Classifier size and optimisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClassifierConfig {
    /// Hidden width (recurrent state or convolution channels).
    pub hidden: usize,
    /// Dropout before the output layer.
    pub dropout: f64,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Keep every n-th frame (30 Hz windows -> 15 Hz with 2): halves recurrent steps while
    /// keeping the gait cycle's shape.
    pub subsample: usize,
    /// Windows drawn per epoch at most (0: as many as the training set has). On large sets
    /// (17,000 windows in a fold of the reference-sized set) a whole-set epoch is hundreds of
    /// steps between validation checks; a capped epoch lets early stopping see the plateau
    /// sooner. Batches are drawn with replacement either way.
    pub epoch_windows: usize,
    /// Validation windows scored per epoch at most (0: all): an evenly spaced, fixed subset,
    /// so every epoch is judged on the same windows.
    pub val_windows: usize,
    /// Score an epoch by the mean over classes of each class's mean validation loss, not the
    /// mean over windows. Training batches draw classes alike, and on an unbalanced set (the
    /// shared BVH set: 45 % of its walks in one class) a per-window mean lets the largest class
    /// choose the kept epoch. Off in reports from before it existed (`evaluate
    /// --validation windows` turns it off). Not written when off, so a run with it off has the
    /// settings, and reuses the saved folds, of a run by a build from before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub balanced_validation: bool,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            dropout: 0.2,
            max_epochs: 40,
            patience: 6,
            batch: 32,
            lr: 2e-3,
            subsample: 2,
            epoch_windows: 4096,
            val_windows: 1024,
            balanced_validation: true,
        }
    }
}

impl ClassifierConfig {
    /// FLOPs of a forward pass of `kind` over `batch` windows of `frames` frames (before
    /// subsampling): per time step a GRU runs 3 gates and an LSTM 4, each an input and a
    /// recurrent matrix product; the CNN's three convolutions (kernel 5, 5 stride 2, 3 stride 2).
    #[must_use]
    pub fn forward_flops(
        &self,
        kind: ClassifierKind,
        classes: usize,
        batch: usize,
        frames: usize,
    ) -> f64 {
        let (b, f, h) = (batch as f64, FEATURES as f64, self.hidden.max(2) as f64);
        let t = frames.div_ceil(self.subsample.max(1)) as f64;
        let head = 2.0 * b * h * classes.max(1) as f64;
        let rnn = |gates: f64| b * t * gates * 2.0 * (f * h + h * h);
        head + match kind {
            ClassifierKind::Gru => rnn(3.0),
            ClassifierKind::Lstm => rnn(4.0),
            ClassifierKind::Cnn => {
                let (t2, t3) = ((t / 2.0).ceil(), (t / 4.0).ceil());
                2.0 * b * (t * f * h * 5.0 + t2 * h * h * 5.0 + t3 * h * h * 3.0)
            }
        }
    }

    /// Optimiser steps in one epoch over `windows` training windows: `min(windows,
    /// epoch_windows) / batch`, at least one.
    #[must_use]
    pub fn steps_per_epoch(&self, windows: usize) -> usize {
        let per_epoch = match self.epoch_windows {
            0 => windows,
            cap => windows.min(cap),
        };
        per_epoch.div_ceil(self.batch.max(1)).max(1)
    }

    /// A tiny configuration for tests (seconds on a CPU).
    #[must_use]
    pub fn tiny() -> Self {
        Self {
            hidden: 16,
            dropout: 0.0,
            max_epochs: 4,
            patience: 2,
            batch: 16,
            lr: 5e-3,
            subsample: 4,
            epoch_windows: 0,
            val_windows: 0,
            balanced_validation: true,
        }
    }
}

/// One labelled, standardised window.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledWindow {
    /// Standardised feature frames.
    pub frames: Vec<[f32; FEATURES]>,
    /// Class index.
    pub class: usize,
    /// Index of the sequence it came from (windows of one sequence are pooled at test time).
    pub sequence: usize,
}

/// GRU over time, mean-pooled hidden states (see [`super::recurrent`]).
#[derive(Module, Debug)]
pub struct GruNet {
    rnn: Recurrent,
    head: Linear,
}

/// LSTM over time, mean-pooled hidden states (see [`super::recurrent`]).
#[derive(Module, Debug)]
pub struct LstmNet {
    rnn: Recurrent,
    head: Linear,
}

/// Three temporal convolutions (the last two stride 2), global average pooling.
#[derive(Module, Debug)]
pub struct CnnNet {
    c1: Conv1d,
    c2: Conv1d,
    c3: Conv1d,
    head: Linear,
}

/// Any of the three architectures.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one value per trained classifier: size is irrelevant
pub enum Net {
    /// GRU.
    Gru(GruNet),
    /// LSTM.
    Lstm(LstmNet),
    /// 1D CNN.
    Cnn(CnnNet),
}

impl Net {
    /// A fresh network.
    #[must_use]
    pub fn new(
        kind: ClassifierKind,
        cfg: &ClassifierConfig,
        classes: usize,
        device: &Device,
    ) -> Self {
        let h = cfg.hidden.max(2);
        let head = LinearConfig::new(h, classes.max(1)).init(device);
        match kind {
            ClassifierKind::Gru => Self::Gru(GruNet {
                rnn: Recurrent::new(Cell::Gru, FEATURES, h, device),
                head,
            }),
            ClassifierKind::Lstm => Self::Lstm(LstmNet {
                rnn: Recurrent::new(Cell::Lstm, FEATURES, h, device),
                head,
            }),
            ClassifierKind::Cnn => Self::Cnn(CnnNet {
                c1: Conv1dConfig::new(FEATURES, h, 5)
                    .with_padding(PaddingConfig1d::Explicit(2, 2))
                    .init(device),
                c2: Conv1dConfig::new(h, h, 5)
                    .with_stride(2)
                    .with_padding(PaddingConfig1d::Explicit(2, 2))
                    .init(device),
                c3: Conv1dConfig::new(h, h, 3)
                    .with_stride(2)
                    .with_padding(PaddingConfig1d::Explicit(1, 1))
                    .init(device),
                head,
            }),
        }
    }

    /// `[B, T, F]` -> (logits `[B, C]`, embedding `[B, H]`), without dropout (inference).
    #[must_use]
    pub fn forward(&self, x: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        self.forward_masked(x, None)
    }

    /// As [`Self::forward`], with `keep` (`[B, H]`: 0 or `1 / (1 - p)`) multiplying the
    /// embedding before the head: training dropout drawn by the caller's own seeded generator
    /// instead of the backend's process-wide one, so classifiers trained at the same time on
    /// several threads stay repeatable.
    #[must_use]
    pub fn forward_masked(&self, x: Tensor<3>, keep: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
        // The input carries no gradient, so cutting it into time steps costs no graph nodes.
        let steps =
            |x: Tensor<3>| -> Vec<Tensor<2>> { x.iter_dim(1).map(|s| s.squeeze_dim(1)).collect() };
        let (emb, head) = match self {
            Self::Gru(n) => (n.rnn.forward_mean(Cell::Gru, steps(x)), &n.head),
            Self::Lstm(n) => (n.rnn.forward_mean(Cell::Lstm, steps(x)), &n.head),
            Self::Cnn(n) => {
                let x = x.swap_dims(1, 2); // [B, F, T]
                let h = relu(n.c3.forward(relu(n.c2.forward(relu(n.c1.forward(x))))));
                let [b, w, _] = h.dims();
                (h.mean_dim(2).reshape([b, w]), &n.head)
            }
        };
        let dropped = match keep {
            Some(k) => emb.clone() * k,
            None => emb.clone(),
        };
        (head.forward(dropped), emb)
    }
}

/// What training did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitLog {
    /// Epochs run.
    pub epochs: usize,
    /// Epoch whose weights were kept (lowest validation loss), 1-based.
    pub best_epoch: usize,
    /// Validation loss per epoch (training loss when there is no validation set).
    pub val_loss: Vec<f32>,
}

/// A trained classifier (inference device, no autodiff).
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Architecture.
    pub kind: ClassifierKind,
    /// Classes it predicts.
    pub classes: usize,
    subsample: usize,
    net: Net,
    device: Device,
}

/// `[B, T, F]` tensor from windows, every `step`-th frame.
fn batch(windows: &[&LabelledWindow], step: usize, device: &Device) -> Tensor<3> {
    let step = step.max(1);
    let t = windows.first().map_or(0, |w| w.frames.len().div_ceil(step));
    let data: Vec<f32> = windows
        .iter()
        .flat_map(|w| {
            w.frames
                .iter()
                .step_by(step)
                .flat_map(|f| f.iter().copied())
        })
        .collect();
    Tensor::<3>::from_data(TensorData::new(data, [windows.len(), t, FEATURES]), device)
}

fn labels(windows: &[&LabelledWindow], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = windows.iter().map(|w| w.class as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(v, [windows.len()]), device)
}

/// Mean cross-entropy of `net` on `windows` (inference, chunks of 256).
fn mean_loss(
    net: &Net,
    windows: &[&LabelledWindow],
    step: usize,
    device: &Device,
) -> Result<f32, ModelError> {
    let ce = CrossEntropyLossConfig::new().init(device);
    let mut total = 0.0f64;
    for chunk in windows.chunks(256) {
        let (logits, _) = net.forward(batch(chunk, step, device));
        let l = ce.forward(logits, labels(chunk, device));
        total += f64::from(read_scalar(l, "classifier validation loss")?) * chunk.len() as f64;
    }
    Ok((total / windows.len().max(1) as f64) as f32)
}

/// Validation loss of `net` on `windows`: with `balanced`, the mean over the classes present of
/// each class's mean loss, else the mean over windows.
fn validation_loss(
    net: &Net,
    windows: &[&LabelledWindow],
    step: usize,
    balanced: bool,
    device: &Device,
) -> Result<f32, ModelError> {
    if !balanced {
        return mean_loss(net, windows, step, device);
    }
    let mut by_class: std::collections::BTreeMap<usize, Vec<&LabelledWindow>> =
        std::collections::BTreeMap::new();
    for &w in windows {
        by_class.entry(w.class).or_default().push(w);
    }
    let mut sum = 0.0f64;
    for ws in by_class.values() {
        sum += f64::from(mean_loss(net, ws, step, device)?);
    }
    Ok((sum / by_class.len().max(1) as f64) as f32)
}

/// Trains a classifier. Batches draw a class uniformly, then a window of it, so rare classes
/// count as much as common ones; an epoch is `min(train.len(), epoch_windows) / batch` steps,
/// and validation scores at most `val_windows` evenly spaced windows. The weights of the
/// epoch with the lowest validation loss (class-balanced by default, see
/// [`ClassifierConfig::balanced_validation`]) are kept.
///
/// # Errors
/// No training windows, or cancellation.
#[allow(clippy::too_many_arguments)] // the protocol passes these straight through
pub fn train_classifier(
    kind: ClassifierKind,
    cfg: &ClassifierConfig,
    classes: usize,
    train: &[&LabelledWindow],
    val: &[&LabelledWindow],
    device: &Device,
    seed: u64,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(Classifier, FitLog), ModelError> {
    let ad = device.clone().autodiff();
    let model = seeded(&ad, seed, || {
        let net = Net::new(kind, cfg, classes, &ad);
        materialise(&net);
        net
    });
    let fit = Fit {
        kind,
        cfg,
        classes,
        device,
        seed,
    };
    fit.run(
        model,
        &format!("{} classifier", kind.name()),
        train,
        val,
        progress,
        cancel,
    )
}

/// Continues training a trained classifier on other windows (pretraining on synthetic
/// windows, then fine-tuning on real ones): its weights are the starting point, `cfg` the
/// fine-tuning settings (a lower learning rate), and early stopping keeps the best epoch as
/// in [`train_classifier`].
///
/// # Errors
/// No training windows, or cancellation.
#[allow(clippy::too_many_arguments)] // as train_classifier
pub fn fine_tune(
    start: &Classifier,
    cfg: &ClassifierConfig,
    train: &[&LabelledWindow],
    val: &[&LabelledWindow],
    seed: u64,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(Classifier, FitLog), ModelError> {
    // `train()` turns the kept (validation) weights back into trainable ones on the
    // autodiff device.
    let model = start.net.clone().train();
    let fit = Fit {
        kind: start.kind,
        cfg,
        classes: start.classes,
        device: &start.device,
        seed,
    };
    let stage = format!("{} fine-tuning", start.kind.name());
    fit.run(model, &stage, train, val, progress, cancel)
}

/// What a training run of a classifier needs besides its weights and windows.
struct Fit<'a> {
    kind: ClassifierKind,
    cfg: &'a ClassifierConfig,
    classes: usize,
    device: &'a Device,
    seed: u64,
}

impl Fit<'_> {
    /// Trains `model` (on the autodiff device) with early stopping; see [`train_classifier`].
    fn run(
        &self,
        mut model: Net,
        stage: &str,
        train: &[&LabelledWindow],
        val: &[&LabelledWindow],
        progress: &dyn Progress,
        cancel: &CancelToken,
    ) -> Result<(Classifier, FitLog), ModelError> {
        let (cfg, classes, device) = (self.cfg, self.classes, self.device);
        let mut by_class: Vec<Vec<&LabelledWindow>> = vec![Vec::new(); classes];
        for w in train {
            if let Some(v) = by_class.get_mut(w.class) {
                v.push(w);
            }
        }
        let present: Vec<usize> = (0..classes).filter(|&c| !by_class[c].is_empty()).collect();
        if present.is_empty() {
            return Err(ModelError::Data("no classifier training windows".into()));
        }
        let ad = device.clone().autodiff();
        let mut optim = AdamConfig::new().init();
        let ce = CrossEntropyLossConfig::new().init(&ad);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let steps_per_epoch = cfg.steps_per_epoch(train.len());
        let val: Vec<&LabelledWindow> = evenly_spaced(val, cfg.val_windows)
            .into_iter()
            .copied()
            .collect();
        let mut log = FitLog::default();
        let mut best: Option<(f32, Net)> = None;
        let mut since_best = 0usize;
        progress.start(stage, cfg.max_epochs.max(1) as u64);
        for epoch in 1..=cfg.max_epochs.max(1) {
            // The training loss, summed on the device and read once per epoch (no host round
            // trip per step), scores the epoch when there is no validation set.
            let mut loss_sum: Option<Tensor<1>> = None;
            for _ in 0..steps_per_epoch {
                if cancel.is_cancelled() {
                    progress.finish();
                    return Err(ModelError::Cancelled);
                }
                let mut pick: Vec<&LabelledWindow> = (0..cfg.batch.max(1))
                    .map(|_| {
                        let c = present[rng.random_range(0..present.len())];
                        by_class[c][rng.random_range(0..by_class[c].len())]
                    })
                    .collect();
                pick.shuffle(&mut rng);
                let keep =
                    DropMasks::new(ChaCha8Rng::seed_from_u64(rng.random()), cfg.dropout, &ad)
                        .mask([pick.len(), cfg.hidden.max(2)]);
                let (logits, _) = model.forward_masked(batch(&pick, cfg.subsample, &ad), keep);
                let loss = ce.forward(logits, labels(&pick, &ad));
                // Only scored when there is no validation set.
                if val.is_empty() {
                    let l = loss.clone().inner();
                    loss_sum = Some(match loss_sum {
                        Some(s) => s + l,
                        None => l,
                    });
                }
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(cfg.lr, model, grads);
            }
            let inner = model.valid();
            let score = match (val.is_empty(), loss_sum) {
                (true, Some(sum)) => {
                    read_scalar(sum, "classifier training loss")? / steps_per_epoch as f32
                }
                _ => validation_loss(&inner, &val, cfg.subsample, cfg.balanced_validation, device)?,
            };
            log.val_loss.push(score);
            log.epochs = epoch;
            progress.advance(1, &format!("epoch {epoch} loss {score:.3}"));
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, inner));
                log.best_epoch = epoch;
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= cfg.patience.max(1) {
                    break;
                }
            }
        }
        progress.finish();
        let net = match best {
            Some((_, n)) => n,
            None => model.valid(),
        };
        Ok((
            Classifier {
                kind: self.kind,
                classes,
                subsample: cfg.subsample,
                net,
                device: device.clone(),
            },
            log,
        ))
    }
}

/// Index of the largest value (0 for an empty slice): the predicted class of a probability row.
#[must_use]
pub fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

impl Classifier {
    /// Class probabilities `[windows][classes]`.
    ///
    /// # Errors
    /// Probabilities that cannot be read back from the device.
    pub fn probabilities(&self, windows: &[&LabelledWindow]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(256) {
            let (logits, _) = self.net.forward(batch(chunk, self.subsample, &self.device));
            let p = read_floats(softmax(logits, 1), "classifier probabilities")?;
            out.extend(p.chunks_exact(self.classes.max(1)).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// Pooled hidden features `[windows][hidden]` (the space of the Fréchet distance).
    ///
    /// # Errors
    /// Features that cannot be read back from the device.
    pub fn embeddings(&self, windows: &[&LabelledWindow]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(256) {
            let (_, emb) = self.net.forward(batch(chunk, self.subsample, &self.device));
            let w = emb.dims()[1];
            let v = read_floats(emb, "classifier features")?;
            out.extend(v.chunks_exact(w.max(1)).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// One prediction per sequence: window probabilities averaged over each sequence's
    /// windows, then the most likely class. Returns `(sequence, true class, predicted)`.
    ///
    /// # Errors
    /// As [`Self::probabilities`].
    pub fn predict_sequences(
        &self,
        windows: &[&LabelledWindow],
    ) -> Result<Vec<(usize, usize, usize)>, ModelError> {
        let probs = self.probabilities(windows)?;
        let mut acc: std::collections::BTreeMap<usize, (usize, Vec<f32>)> =
            std::collections::BTreeMap::new();
        for (w, p) in windows.iter().zip(&probs) {
            let e = acc
                .entry(w.sequence)
                .or_insert_with(|| (w.class, vec![0.0; p.len()]));
            for (a, b) in e.1.iter_mut().zip(p) {
                *a += b;
            }
        }
        Ok(acc
            .into_iter()
            .map(|(s, (truth, p))| (s, truth, argmax(&p)))
            .collect())
    }
}
