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

use super::ModelError;
use super::dropout::DropMasks;
use super::gpt::Gpt;
use super::vocab::PAD;
use crate::core::jobs::run_parallel;

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

/// Inputs, targets and loss weights (1 on positions after the prompt) of token sequences,
/// cut to `context + 1` tokens: `(input [B * (L-1)], target, weight, B, L)`.
fn lm_arrays(
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
) -> (Vec<i64>, Vec<i64>, Vec<f32>, usize, usize) {
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
    (input, target, weight, b, l)
}

/// Summed next-token negative log-likelihood `[1]` of the predicted positions of `seqs`, and
/// how many positions were predicted.
fn lm_nll(
    model: &Gpt,
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
    drop: &mut DropMasks,
    device: &Device,
) -> (Tensor<1>, f32) {
    let (input, target, weight, b, l) = lm_arrays(seqs, prompt_len, context);
    let count: f32 = weight.iter().sum();
    let n = b * (l - 1);
    let input = Tensor::<2, Int>::from_data(TensorData::new(input, [b, l - 1]), device);
    let target = Tensor::<2, Int>::from_data(TensorData::new(target, [n, 1]), device);
    let weight = Tensor::<1>::from_data(TensorData::new(weight, [n]), device);
    let logits = model.forward_train(input, drop); // [B, L-1, V]
    let v = logits.dims()[2];
    let logp = log_softmax(logits.reshape([n, v]), 1);
    let nll = logp.gather(1, target).reshape([n]).neg();
    ((nll * weight).sum().reshape([1]), count)
}

fn read_scalar(t: Tensor<1>, stage: &str) -> Result<f32, ModelError> {
    t.into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| ModelError::Backend(format!("{stage}: cannot read the loss: {e:?}")))?
        .first()
        .copied()
        .ok_or_else(|| ModelError::Backend(format!("{stage}: empty loss tensor")))
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
    let (sum, count) = lm_nll(
        model,
        seqs,
        prompt_len,
        context,
        &mut DropMasks::off(device),
        device,
    );
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
/// batch's mean next-token cross-entropy and the gradients summed over shards. `drop_seed`
/// seeds the shards' dropout masks (probability `p`).
///
/// # Errors
/// A loss that cannot be read, or a worker that cannot start or panicked.
#[allow(clippy::too_many_arguments)] // the training loop passes its settings through
pub fn lm_step(
    model: &Gpt,
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
    p: f64,
    drop_seed: u64,
    device: &Device,
) -> Result<(f32, GradientsParams), ModelError> {
    let total: f32 = seqs
        .iter()
        .map(|s| {
            lm_arrays(std::slice::from_ref(s), prompt_len, context)
                .2
                .iter()
                .sum::<f32>()
        })
        .sum();
    let shards = shards_for(seqs.len());
    let size = seqs.len().div_ceil(shards).max(1);
    let chunks: Vec<&[Vec<usize>]> = seqs.chunks(size).collect();
    let masks = |i: usize| {
        DropMasks::new(
            ChaCha8Rng::seed_from_u64(
                drop_seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1)),
            ),
            p,
            device,
        )
    };
    let parts = run_shards(&chunks, |i, c| {
        // A fork has its own autodiff graph: shards never wait on each other's backward.
        let m = if chunks.len() > 1 {
            model.clone().fork(device)
        } else {
            model.clone()
        };
        shard_step(&m, c, prompt_len, context, masks(i), total, device)
    });
    let mut loss = 0.0f32;
    let mut grads = Vec::with_capacity(parts.len());
    for part in parts {
        let (l, g) = part?;
        loss += l;
        grads.push(g);
    }
    let sum = sum_grads(model, grads);
    Ok((loss, sum))
}

/// One shard's share of the step: its summed NLL divided by the whole batch's count, so the
/// shards' losses and gradients add up to the whole batch's mean (the value is read before
/// the backward pass consumes the loss).
fn shard_step(
    model: &Gpt,
    seqs: &[Vec<usize>],
    prompt_len: usize,
    context: usize,
    mut drop: DropMasks,
    total: f32,
    device: &Device,
) -> Result<(f32, GradientsParams), ModelError> {
    let (sum, _) = lm_nll(model, seqs, prompt_len, context, &mut drop, device);
    let loss = sum.div_scalar(total.max(1.0));
    let value = read_scalar(loss.clone().detach(), "GPT step")?;
    let grads = GradientsParams::from_grads(loss.backward(), model);
    Ok((value, grads))
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
/// [`crate::core::jobs::run_parallel`]); results in chunk order.
pub fn run_shards<'a, C: Sync, T: Send>(
    chunks: &[&'a [C]],
    work: impl Fn(usize, &'a [C]) -> Result<T, ModelError> + Sync,
) -> Vec<Result<T, ModelError>> {
    run_parallel(
        chunks,
        "pathogait-shard",
        |i, c| work(i, c),
        || ModelError::Backend("a training shard did not finish".into()),
    )
}
