//! The tokeniser's training loop and what both generator stages share (stage settings,
//! held-out plateau stops, step logs read from the device in groups); the GPT's loop is in
//! [`super::gpt_training`]. Loops report through the core's progress sink, are cancellable
//! between steps and draw seeded batches, so a run is repeatable.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::checkpoint::StageCheckpoint;
pub use super::checkpoint::StepLog;
use super::data::{TrainingSet, Window};
use super::ema::DeviceEma;
use super::features::{FEATURES, Normalizer};
use super::losses::biomech_losses;
use super::parallel::{materialise, run_shards, seeded, shards_for, sum_grads};
pub(super) use super::stage::{Plateau, check_due, check_subset};
pub use super::stage::{StageConfig, StageEnd};
use super::tokenizer::{GaitTokenizer, TokenizerConfig, TokenizerOutput};
use super::vq::VqEma;
use super::{ModelError, read_floats, read_scalar};
use crate::core::jobs::{CancelToken, Progress};

/// Loss weights of the tokeniser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Commitment (per codebook).
    pub commitment: f32,
    /// Auxiliary class prediction from the pathological codes.
    pub aux_class: f32,
    /// Auxiliary prior regression from the pathological codes.
    pub aux_prior: f32,
    /// Bone-length consistency (metres).
    pub bone: f32,
    /// Acceleration matching (smoothness).
    pub smooth: f32,
    /// Foot speed where the real foot is planted (foot contact).
    pub contact: f32,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            commitment: 0.25,
            aux_class: 0.3,
            aux_prior: 0.3,
            bone: 10.0,
            smooth: 0.5,
            contact: 1.0,
        }
    }
}

/// `[B, F, T]` batch of windows on a device.
#[must_use]
pub fn batch_tensor(windows: &[&Window], device: &Device) -> Tensor<3> {
    let b = windows.len();
    let t = windows.first().map_or(0, |w| w.frames.len());
    let data: Vec<f32> = windows
        .iter()
        .flat_map(|w| w.frames.iter().flat_map(|f| f.iter().copied()))
        .collect();
    Tensor::<3>::from_data(TensorData::new(data, [b, t, FEATURES]), device).swap_dims(1, 2)
}

fn standardisation(n: &Normalizer, device: &Device) -> (Tensor<3>, Tensor<3>) {
    let m = Tensor::<3>::from_data(TensorData::new(n.mean.clone(), [1, FEATURES, 1]), device);
    let s = Tensor::<3>::from_data(TensorData::new(n.std.clone(), [1, FEATURES, 1]), device);
    (m, s)
}

/// What every shard of a tokeniser step shares.
struct TokenizerTerms<'a> {
    weights: &'a LossWeights,
    mean: &'a Tensor<3>,
    std: &'a Tensor<3>,
    fps: f32,
    /// Windows in the whole batch: each shard's terms are weighted by its share.
    total: usize,
}

/// One shard's part of a tokeniser step; everything but the gradients stays on the device
/// (inner, no autodiff), read by nobody until the step's log is due.
struct TokenizerShard {
    grads: GradientsParams,
    /// `[2]`: this shard's share of the loss and of the reconstruction term.
    values: Tensor<1>,
    /// Per codebook: codes `[N]`.
    codes: [Tensor<1, Int>; 3],
    /// Per codebook: encoder latents `[N, D]`.
    latents: [Tensor<2>; 3],
}

/// Loss terms, gradients, codes and latents of one shard of a tokeniser batch. Every term is
/// a mean over equal-sized items, so shards weighted by their share of the batch add up to
/// the whole batch's loss and gradient.
fn tokenizer_shard(
    model: &GaitTokenizer,
    batch: &[&Window],
    t: &TokenizerTerms,
    device: &Device,
) -> TokenizerShard {
    let share = batch.len() as f32 / t.total.max(1) as f32;
    let x = batch_tensor(batch, device);
    let out: TokenizerOutput = model.forward(x.clone());
    let recon = (out.recon.clone() - x.clone())
        .powi_scalar(2)
        .mean()
        .reshape([1]);
    let commit = out
        .quantized
        .iter()
        .map(|q| q.commitment.clone())
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([1], device));
    let labels: Vec<i64> = batch.iter().map(|w| w.class as i64).collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch.len()]), device);
    let aux_class = CrossEntropyLossConfig::new()
        .init(device)
        .forward(out.class_logits.clone(), labels);
    let aux_t: Vec<f32> = batch.iter().flat_map(|w| w.aux).collect();
    let aux_t = Tensor::<2>::from_data(TensorData::new(aux_t, [batch.len(), 4]), device);
    let aux_prior = (out.prior_pred.clone() - aux_t)
        .powi_scalar(2)
        .mean()
        .reshape([1]);
    let (bone, smooth, contact) = biomech_losses(
        &(out.recon.clone() * t.std.clone() + t.mean.clone()),
        &(x * t.std.clone() + t.mean.clone()),
        t.fps,
    );
    let w = t.weights;
    let loss = (recon.clone()
        + commit.mul_scalar(w.commitment)
        + aux_class.mul_scalar(w.aux_class)
        + aux_prior.mul_scalar(w.aux_prior)
        + bone.mul_scalar(w.bone)
        + smooth.mul_scalar(w.smooth)
        + contact.mul_scalar(w.contact))
    .mul_scalar(share);
    let values = Tensor::cat(
        vec![
            loss.clone().detach().inner(),
            recon.detach().inner().mul_scalar(share),
        ],
        0,
    );
    let grads = GradientsParams::from_grads(loss.backward(), model);
    TokenizerShard {
        grads,
        values,
        codes: [0, 1, 2].map(|i| out.quantized[i].indices.clone().inner()),
        latents: [0, 1, 2].map(|i| out.latents[i].clone().inner()),
    }
}

/// A step's shards gathered: gradients summed in order, the loss and reconstruction values
/// `[2]` summed, and per codebook the codes `[N]` and latents `[N, D]` of all shards in batch
/// order.
#[allow(clippy::type_complexity)] // the four parts of a step, each used once by the caller
fn gather_shards(
    model: &GaitTokenizer,
    shards: Vec<Result<TokenizerShard, ModelError>>,
) -> Result<
    (
        GradientsParams,
        Tensor<1>,
        [Tensor<1, Int>; 3],
        [Tensor<2>; 3],
    ),
    ModelError,
> {
    let mut grads = Vec::with_capacity(shards.len());
    let mut values: Option<Tensor<1>> = None;
    let mut codes: [Vec<Tensor<1, Int>>; 3] = Default::default();
    let mut latents: [Vec<Tensor<2>>; 3] = Default::default();
    for r in shards {
        let r = r?;
        grads.push(r.grads);
        values = Some(values.map_or(r.values.clone(), |v| v + r.values));
        for (i, (c, z)) in r.codes.into_iter().zip(r.latents).enumerate() {
            codes[i].push(c);
            latents[i].push(z);
        }
    }
    let values =
        values.ok_or_else(|| ModelError::Data("a tokeniser step without windows".into()))?;
    Ok((
        sum_grads(model, grads),
        values,
        codes.map(|c| Tensor::cat(c, 0)),
        latents.map(|z| Tensor::cat(z, 0)),
    ))
}

/// EMA updates of the three codebooks from a step's codes and latents, on the device;
/// returns the mean code perplexity `[1]`.
fn update_codebooks(
    model: &mut GaitTokenizer,
    emas: &mut [DeviceEma; 3],
    codes: [Tensor<1, Int>; 3],
    latents: [Tensor<2>; 3],
    rng: &mut ChaCha8Rng,
) -> Tensor<1> {
    let codebooks = [
        &mut model.vq_spatial,
        &mut model.vq_temporal,
        &mut model.vq_path,
    ];
    let mut sum: Option<Tensor<1>> = None;
    for (((vq, ema), c), z) in codebooks.into_iter().zip(emas).zip(codes).zip(latents) {
        let (cb, p) = ema.update(z, c, rng);
        vq.set_codebook_tensor(cb);
        sum = Some(sum.map_or(p.clone(), |s| s + p));
    }
    sum.map_or_else(
        || Tensor::ones([1], &model.vq_path.codebook.val().device()),
        |s| s.div_scalar(3.0),
    )
}

/// [`read_pending`] for tokeniser steps (`[3]`: loss, reconstruction, perplexity).
fn read_tokenizer_pending(
    pending: &mut Vec<(usize, Tensor<1>)>,
    log: &mut Vec<StepLog>,
    progress: &dyn Progress,
) -> Result<Option<StepLog>, ModelError> {
    read_pending(
        pending,
        "tokeniser step values",
        log,
        progress,
        |step, v| StepLog {
            step,
            loss: v[0],
            main: v[1],
            perplexity: v[2],
        },
        |e| {
            vec![
                ("loss", f64::from(e.loss)),
                ("reconstruction", f64::from(e.main)),
                ("perplexity", f64::from(e.perplexity)),
            ]
        },
    )
}

/// Trains the tokeniser on `train` windows. Returns the model (on the inner, non-autodiff
/// device), its EMA statistics and the log.
///
/// # Errors
/// Cancellation, or an empty training set.
#[allow(clippy::too_many_arguments)] // one call site per front end; a struct would only rename these
pub fn train_tokenizer(
    set: &TrainingSet,
    train: &[usize],
    heldout: &[usize],
    cfg: &TokenizerConfig,
    stage: &StageConfig,
    weights: &LossWeights,
    device: &Device,
    seed: u64,
    ckpt: Option<&StageCheckpoint>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(GaitTokenizer, [VqEma; 3], Vec<StepLog>, StageEnd), ModelError> {
    if train.is_empty() {
        return Err(ModelError::Data("no training windows".into()));
    }
    let ad = device.clone().autodiff();
    // Weight initialisation draws from the backend's process-wide generator: seeded, so a run
    // is repeatable, and under the lock other threads' models are built under.
    let mut model = seeded(&ad, seed, || {
        let m = cfg.init(&ad);
        materialise(&m);
        m
    });
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut host_emas = cfg.codes.map(|k| VqEma::new(k, cfg.latent));
    let (mean, std) = standardisation(&set.normalizer, &ad);
    // Foot speeds are in m/s at the windows' own rate.
    let fps = set.fps.max(1.0);
    let mut log = Vec::with_capacity(stage.steps);
    let mut start = 1;
    let resumed = match ckpt {
        Some(c) => c.load::<_, Vec<VqEma>>("tokenizer", model.clone(), AdamConfig::new().init())?,
        None => None,
    };
    if let Some(r) = resumed
        && let Ok(e) = <[VqEma; 3]>::try_from(r.extra)
    {
        (model, optim, rng, log, host_emas, start) =
            (r.model, r.optim, r.rng, r.log, e, r.step + 1);
    }
    let mut emas = host_emas
        .each_ref()
        .map(|e| DeviceEma::from_host(e, device));
    let (mut plateau, mut end) = (Plateau::new("held-out loss"), StageEnd::default());
    let heldout = check_subset(heldout);
    let heldout = heldout.as_slice();
    progress.start("training tokeniser", stage.steps as u64);
    progress.advance((start - 1) as u64, "resumed from checkpoint");
    // Step values wait on the device and are read LOSS_READ_EVERY steps at a time.
    let mut pending: Vec<(usize, Tensor<1>)> = Vec::with_capacity(LOSS_READ_EVERY);
    let mut shown = String::from("loss …");
    for step in start..=stage.steps {
        if cancel.is_cancelled() {
            progress.finish();
            return Err(ModelError::Cancelled);
        }
        let batch: Vec<&Window> = (0..stage.batch.min(train.len()).max(1))
            .map(|_| &set.windows[train[rng.random_range(0..train.len())]])
            .collect();
        let terms = TokenizerTerms {
            weights,
            mean: &mean,
            std: &std,
            fps,
            total: batch.len(),
        };
        let chunks: Vec<&[&Window]> = batch
            .chunks(batch.len().div_ceil(shards_for(batch.len())))
            .collect();
        let shards = run_shards(&chunks, |_, c| {
            // A fork has its own autodiff graph (see `parallel`); one shard needs none.
            let m = if chunks.len() > 1 {
                model.clone().fork(&ad)
            } else {
                model.clone()
            };
            Ok(tokenizer_shard(&m, c, &terms, &ad))
        });
        let (grads, values, codes, latents) = gather_shards(&model, shards)?;
        model = optim.step(stage.lr, model, grads);
        let perplexity = update_codebooks(&mut model, &mut emas, codes, latents, &mut rng);
        // [3]: loss, reconstruction, mean perplexity.
        pending.push((step, Tensor::cat(vec![values, perplexity], 0)));
        progress.advance(1, &shown);
        let ckpt_due = ckpt.is_some_and(|c| c.due(step, stage.steps));
        let check = check_due(stage, step, heldout);
        if read_due(pending.len(), step, stage, ckpt_due || check)
            && let Some(e) = read_tokenizer_pending(&mut pending, &mut log, progress)?
        {
            shown = format!(
                "loss {:.4} recon {:.4} perplexity {:.1}",
                e.loss, e.main, e.perplexity
            );
            progress.advance(0, &shown);
        }
        if let Some(c) = ckpt
            && ckpt_due
        {
            let host = emas
                .iter()
                .map(DeviceEma::to_host)
                .collect::<Result<Vec<_>, _>>()?;
            c.save("tokenizer", step, &model, &optim, &log, &rng, &host)?;
        }
        if check {
            let loss = tokenizer_heldout_loss(&model.valid(), set, heldout, device)?;
            if let Some(why) = plateau.record(step, loss, stage, &mut end) {
                progress.advance(0, &why);
                end.stopped = Some(why);
                break;
            }
        }
    }
    progress.finish();
    let [a, b, c] = &emas;
    let emas = [a.to_host()?, b.to_host()?, c.to_host()?];
    Ok((model.valid(), emas, log, end))
}

/// Mean reconstruction MSE of `heldout` windows (standardised units, as the training term).
fn tokenizer_heldout_loss(
    model: &GaitTokenizer,
    set: &TrainingSet,
    heldout: &[usize],
    device: &Device,
) -> Result<f32, ModelError> {
    let mut total = 0.0f64;
    for chunk in heldout.chunks(64) {
        let refs: Vec<&Window> = chunk.iter().map(|&i| &set.windows[i]).collect();
        let x = batch_tensor(&refs, device);
        let mse = (model.forward(x.clone()).recon - x)
            .powi_scalar(2)
            .mean()
            .reshape([1]);
        total += f64::from(read_scalar(mse, "held-out reconstruction")?) * chunk.len() as f64;
    }
    Ok((total / heldout.len().max(1) as f64) as f32)
}

/// Step values (losses, perplexity) are read back from the device this many steps at a time: on a GPU a read
/// per step would wait for every step's queue to drain before the next could be sent.
pub(super) const LOSS_READ_EVERY: usize = 10;

/// Whether the pending step values are read now: `pending` steps fill a group, the stage's
/// last step is reached, or a checkpoint or held-out check (`needed`) wants the log complete.
pub(super) fn read_due(pending: usize, step: usize, stage: &StageConfig, needed: bool) -> bool {
    pending >= LOSS_READ_EVERY || step == stage.steps || needed
}

/// Reads the `pending` step values (one `[W]` tensor per step) in one transfer, appends a
/// log entry per step made by `entry` from its `W` values, reports each to `progress` through
/// `metrics`, and returns the last entry.
pub(super) fn read_pending(
    pending: &mut Vec<(usize, Tensor<1>)>,
    what: &str,
    log: &mut Vec<StepLog>,
    progress: &dyn Progress,
    entry: impl Fn(usize, &[f32]) -> StepLog,
    metrics: impl Fn(&StepLog) -> Vec<(&'static str, f64)>,
) -> Result<Option<StepLog>, ModelError> {
    if pending.is_empty() {
        return Ok(None);
    }
    let (steps, values): (Vec<usize>, Vec<Tensor<1>>) = pending.drain(..).unzip();
    let values = read_floats(Tensor::cat(values, 0), what)?;
    let width = values.len() / steps.len();
    let mut last = None;
    for (&step, v) in steps.iter().zip(values.chunks_exact(width.max(1))) {
        let e = entry(step, v);
        progress.metrics(step as u64, &metrics(&e));
        log.push(e);
        last = Some(e);
    }
    Ok(last)
}
