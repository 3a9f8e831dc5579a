//! Data-parallel training steps on the CPU: a batch is cut into fixed shards, each shard's
//! forward and backward pass runs on its own worker thread over a fork of the model (its own
//! autodiff graph), and the shards' gradients are summed into one optimiser step.
//!
//! Why: burn's CPU backend parallelises large matrix products, but the element-wise work of a
//! small model (norms, activations, masks, the autodiff bookkeeping) runs on one thread, which
//! held a training step at one core of the machine. Shards keep every core busy.
//!
//! The result does not depend on the machine: the number of shards follows from the batch
//! size alone ([`shards_for`]), shards are summed in order, and each shard draws its dropout
//! masks from its own seeded generator.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::dropout::DropMasks;
use super::gpt::Gpt;
use super::vocab::PAD;
use super::{ModelError, read_scalar};
use crate::core::jobs::run_pooled;

/// Sequences per shard below which splitting costs more than it gains.
const MIN_SHARD: usize = 16;
/// Most shards of one batch.
const MAX_SHARDS: usize = 8;

/// Shards of a batch of `batch` items: one per 16 items, at most 8; a function of the batch
/// size only, so a run gives the same result on any machine.
#[must_use]
pub fn shards_for(batch: usize) -> usize {
    (batch / MIN_SHARD).clamp(1, MAX_SHARDS)
}

/// Inputs, targets and loss weights (1 on positions after the prompt) of token sequences cut
/// to `context + 1` tokens, built on the host: `input` and `target` are `[B * (L-1)]`.
struct LmBatch {
    input: Vec<i64>,
    target: Vec<i64>,
    weight: Vec<f32>,
    b: usize,
    l: usize,
}

impl LmBatch {
    fn new(seqs: &[Vec<usize>], prompt_len: usize, context: usize) -> Self {
        let l = seqs
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(2)
            .min(context + 1)
            .max(2);
        let b = seqs.len();
        let mut input = vec![PAD as i64; b * (l - 1)];
        let mut target = vec![PAD as i64; b * (l - 1)];
        let mut weight = vec![0.0f32; b * (l - 1)];
        for (r, s) in seqs.iter().enumerate() {
            for p in 0..l - 1 {
                if p + 1 < s.len() {
                    input[r * (l - 1) + p] = s[p] as i64;
                    target[r * (l - 1) + p] = s[p + 1] as i64;
                    // Predict only what follows the prompt (the prompt is given).
                    weight[r * (l - 1) + p] = if p + 1 >= prompt_len { 1.0 } else { 0.0 };
                }
            }
        }
        Self {
            input,
            target,
            weight,
            b,
            l,
        }
    }

    /// Positions whose next token is predicted (the loss's denominator).
    fn count(&self) -> f32 {
        self.weight.iter().sum()
    }
}

/// Summed next-token negative log-likelihood `[1]` of the predicted positions of `batch`.
fn lm_nll(model: &Gpt, batch: &LmBatch, drop: &mut DropMasks, device: &Device) -> Tensor<1> {
    let (b, l) = (batch.b, batch.l);
    let n = b * (l - 1);
    let input =
        Tensor::<2, Int>::from_data(TensorData::new(batch.input.clone(), [b, l - 1]), device);
    let target = Tensor::<2, Int>::from_data(TensorData::new(batch.target.clone(), [n, 1]), device);
    let weight = Tensor::<1>::from_data(TensorData::new(batch.weight.clone(), [n]), device);
    let logits = model.forward_train(input, drop); // [B, L-1, V]
    let v = logits.dims()[2];
    let logp = log_softmax(logits.reshape([n, v]), 1);
    let nll = logp.gather(1, target).reshape([n]).neg();
    (nll * weight).sum().reshape([1])
}

/// Mean cross-entropy of `model` (inference, no dropout) on `seqs`, and the positions counted.
///
/// # Errors
/// A loss that cannot be read back from the device.
pub fn lm_mean_loss(
    model: &Gpt,
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
    device: &Device,
) -> Result<(f32, f32), ModelError> {
    let batch = LmBatch::new(seqs, prompt_len, context);
    let sum = lm_nll(model, &batch, &mut DropMasks::off(device), device);
    let count = batch.count();
    Ok((read_scalar(sum, "held-out loss")? / count.max(1.0), count))
}

/// Adds gradients of one shard into the running sum, parameter by parameter.
struct AddGrads<'a> {
    from: &'a mut GradientsParams,
    into: &'a mut GradientsParams,
}

impl ModuleVisitor for AddGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.from.remove::<D>(param.id) {
            let sum = match self.into.remove::<D>(param.id) {
                Some(a) => a + g,
                None => g,
            };
            self.into.register(param.id, sum);
        }
    }
}

/// A data-parallel training step of the GPT on `seqs` (see the module docs): returns the
/// batch's mean next-token cross-entropy `[1]`, detached and still on the device (the caller
/// reads several steps' losses at once), and the gradients summed over shards. `drop_seed`
/// seeds the shards' dropout masks (probability `p`).
///
/// # Errors
/// A worker that cannot start or panicked.
#[allow(clippy::too_many_arguments)] // the training loop passes its settings through
pub fn lm_step(
    model: &Gpt,
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
    p: f64,
    drop_seed: u64,
    device: &Device,
) -> Result<(Tensor<1>, GradientsParams), ModelError> {
    let shards = shards_for(seqs.len());
    let size = seqs.len().div_ceil(shards).max(1);
    // Each shard's arrays once; their counts add up to the whole batch's denominator.
    let batches: Vec<LmBatch> = seqs
        .chunks(size)
        .map(|c| LmBatch::new(c, prompt_len, context))
        .collect();
    let total: f32 = batches.iter().map(LmBatch::count).sum();
    let masks = |i: usize| {
        DropMasks::new(
            ChaCha8Rng::seed_from_u64(
                drop_seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1)),
            ),
            p,
            device,
        )
    };
    let parts = run_pooled(
        &batches,
        |i, batch| {
            // A fork has its own autodiff graph: shards never wait on each other's backward.
            let m = if batches.len() > 1 {
                model.clone().fork(device)
            } else {
                model.clone()
            };
            Ok(shard_step(&m, batch, masks(i), total, device))
        },
        || ModelError::Backend("a training shard did not finish".into()),
    );
    let mut loss: Option<Tensor<1>> = None;
    let mut grads = Vec::with_capacity(parts.len());
    for part in parts {
        let (l, g) = part?;
        loss = Some(match loss {
            Some(s) => s + l,
            None => l,
        });
        grads.push(g);
    }
    let sum = sum_grads(model, grads);
    let loss = loss.ok_or_else(|| ModelError::Data("a GPT step without sequences".into()))?;
    Ok((loss, sum))
}

/// One shard's share of the step: its summed NLL divided by the whole batch's count, so the
/// shards' losses and gradients add up to the whole batch's mean (the value is kept, detached,
/// before the backward pass consumes the loss).
fn shard_step(
    model: &Gpt,
    batch: &LmBatch,
    mut drop: DropMasks,
    total: f32,
    device: &Device,
) -> (Tensor<1>, GradientsParams) {
    let sum = lm_nll(model, batch, &mut drop, device);
    let loss = sum.div_scalar(total.max(1.0));
    let value = loss.clone().detach().inner();
    let grads = GradientsParams::from_grads(loss.backward(), model);
    (value, grads)
}

/// Draws every lazily initialised parameter of `model` now. burn draws initial weights on a
/// parameter's first use, from the CPU backend's process-wide generator: on the first step
/// of several shards or workers, the order of those draws (and so the weights) would depend
/// on the thread schedule. Called right after building a model, under the seed just set.
pub fn materialise<M: Module>(model: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
        fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
            let _ = param.val();
        }
        fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// Seeding the backend and drawing a model's initial weights happen under this lock.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Seeds the backend's generator with `seed` and runs `build` (which makes a model and calls
/// [`materialise`] on it) under one process-wide lock. The CPU backend's generator is
/// process-wide and models train on several threads at once (a fold's classifiers beside
/// each other and beside its generator): without the lock another thread could reseed the
/// generator or draw from it between this seed and these draws, and the weights would depend
/// on the thread schedule.
pub fn seeded<T>(device: &Device, seed: u64, build: impl FnOnce() -> T) -> T {
    let _turn = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    device.seed(seed);
    build()
}

/// Gradients of several shards summed parameter by parameter, in order.
#[must_use]
pub fn sum_grads<M: Module>(model: &M, parts: Vec<GradientsParams>) -> GradientsParams {
    let mut parts = parts.into_iter();
    let Some(mut sum) = parts.next() else {
        return GradientsParams::new();
    };
    for mut g in parts {
        model.visit(&mut AddGrads {
            from: &mut g,
            into: &mut sum,
        });
    }
    sum
}

/// Runs `work(i, chunk)` for every chunk on parallel workers (see
/// [`crate::core::jobs::run_pooled`]); results in chunk order.
pub fn run_shards<'a, C: Sync, T: Send>(
    chunks: &[&'a [C]],
    work: impl Fn(usize, &'a [C]) -> Result<T, ModelError> + Sync,
) -> Vec<Result<T, ModelError>> {
    run_pooled(
        chunks,
        |i, c| work(i, c),
        || ModelError::Backend("a training shard did not finish".into()),
    )
}
