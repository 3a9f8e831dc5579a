//! A GPT-2-architecture decoder-only transformer over the gait-language vocabulary: token and
//! learned position embeddings, pre-LayerNorm blocks of causal multi-head self-attention and a
//! GELU MLP (4x width), final `LayerNorm` and a linear head.
//!
//! Shapes: tokens `[B, L]` -> logits `[B, L, V]`.

use super::kernels::gelu;
use burn::nn::attention::{
    MhaInput, MultiHeadAttention, MultiHeadAttentionConfig, generate_autoregressive_mask,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use super::dropout::DropMasks;

/// GPT size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Maximum sequence length.
    pub context: usize,
    /// Model width.
    pub width: usize,
    /// Blocks.
    pub layers: usize,
    /// Attention heads (must divide `width`).
    pub heads: usize,
    /// Dropout probability.
    pub dropout: f64,
}

/// One pre-LN transformer block.
#[derive(Module, Debug)]
pub struct Block {
    pub(crate) ln1: LayerNorm,
    pub(crate) attn: MultiHeadAttention,
    pub(crate) ln2: LayerNorm,
    pub(crate) fc: Linear,
    pub(crate) proj: Linear,
    drop: Dropout,
}

/// Keys and values of earlier positions per block, `[B, heads, L, d_k]` each: incremental
/// decoding then costs one position per step instead of the whole sequence.
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
}

impl KvCache {
    /// Positions already in the cache.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first step.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// `[B, n, W] -> [B, H, n, W/H]`.
fn heads(x: Tensor<3>, h: usize) -> Tensor<4> {
    let [b, n, w] = x.dims();
    x.reshape([b, n, h, w / h]).swap_dims(1, 2)
}

impl Block {
    /// Attention of `n` new positions over the cached ones plus themselves (inference only).
    fn forward_cached(
        &self,
        x: Tensor<3>,
        start: usize,
        cache: &mut Option<(Tensor<4>, Tensor<4>)>,
    ) -> Tensor<3> {
        let [b, n, w] = x.dims();
        let a = &self.attn;
        let h = self.ln1.forward(x.clone());
        let q = heads(a.query.forward(h.clone()), a.n_heads);
        let (mut k, mut v) = (
            heads(a.key.forward(h.clone()), a.n_heads),
            heads(a.value.forward(h), a.n_heads),
        );
        if let Some((ck, cv)) = cache.take() {
            k = Tensor::cat(vec![ck, k], 2);
            v = Tensor::cat(vec![cv, v], 2);
        }
        let l = k.dims()[2];
        let scores = q
            .matmul(k.clone().swap_dims(2, 3))
            .div_scalar((a.d_k as f64).sqrt()); // [B, H, n, L]
        // New position i (absolute start + i) may see keys up to start + i.
        let mask = Tensor::<2, Bool>::tril_mask([n, l], start as i64, &x.device())
            .reshape([1, 1, n, l])
            .expand([b, a.n_heads, n, l]);
        let weights = softmax(scores.mask_fill(mask, a.min_float), 3);
        let ctx = weights.matmul(v.clone()).swap_dims(1, 2).reshape([b, n, w]);
        *cache = Some((k, v));
        let x = x + a.output.forward(ctx);
        let m = self
            .proj
            .forward(gelu(self.fc.forward(self.ln2.forward(x.clone()))));
        x + m
    }

    /// Training pass over whole sequences `[B, L, W]` with dropout from `drop` on the
    /// attention weights and both residual branches, where burn's attention would draw from
    /// the backend's process-wide generator (see [`super::dropout`]).
    fn forward_train(&self, x: Tensor<3>, drop: &mut DropMasks) -> Tensor<3> {
        let [b, l, w] = x.dims();
        let a = &self.attn;
        let h = self.ln1.forward(x.clone());
        let q = heads(a.query.forward(h.clone()), a.n_heads);
        let k = heads(a.key.forward(h.clone()), a.n_heads);
        let v = heads(a.value.forward(h), a.n_heads);
        let scores = q
            .matmul(k.swap_dims(2, 3))
            .div_scalar((a.d_k as f64).sqrt()); // [B, H, L, L]
        let mask = Tensor::<2, Bool>::tril_mask([l, l], 0, &x.device())
            .reshape([1, 1, l, l])
            .expand([b, a.n_heads, l, l]);
        let weights = drop.apply(softmax(scores.mask_fill(mask, a.min_float), 3));
        let ctx = weights.matmul(v).swap_dims(1, 2).reshape([b, l, w]);
        let x = x + drop.apply(a.output.forward(ctx));
        let m = self
            .proj
            .forward(gelu(self.fc.forward(self.ln2.forward(x.clone()))));
        x + drop.apply(m)
    }

    fn forward(&self, x: Tensor<3>, mask: Tensor<3, Bool>) -> Tensor<3> {
        let a = self
            .attn
            .forward(MhaInput::self_attn(self.ln1.forward(x.clone())).mask_attn(mask))
            .context;
        let x = x + self.drop.forward(a);
        let m = self
            .proj
            .forward(gelu(self.fc.forward(self.ln2.forward(x.clone()))));
        x + self.drop.forward(m)
    }
}

/// The model.
#[derive(Module, Debug)]
pub struct Gpt {
    tok: Embedding,
    pos: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Linear,
    drop: Dropout,
}

impl GptConfig {
    /// Floating-point operations (a multiply-add counts 2) of `new` positions of `batch`
    /// sequences attending over `total` positions (`new == total` is a full forward pass,
    /// `new == 1` one cached decoding step): per block the Q, K, V and output projections
    /// (`8 W^2`) and the 4x MLP (`16 W^2`) per position, scores and context (`4 total W`),
    /// then the vocabulary head (`2 W V`). Norms, softmax and embeddings are a few percent and
    /// left out, so achieved rates read slightly low, never high.
    #[must_use]
    pub fn forward_flops(&self, batch: usize, new: usize, total: usize) -> f64 {
        let (w, v) = (self.width as f64, self.vocab as f64);
        let rows = (batch * new) as f64;
        let per_block = rows * 24.0 * w * w + rows * 4.0 * total as f64 * w;
        self.layers as f64 * per_block + rows * 2.0 * w * v
    }

    /// FLOPs of one training step on `batch` sequences of `len` input tokens: forward plus
    /// backward, taken as [`super::TRAIN_STEP_FACTOR`] forward passes.
    #[must_use]
    pub fn train_step_flops(&self, batch: usize, len: usize) -> f64 {
        super::TRAIN_STEP_FACTOR * self.forward_flops(batch, len, len)
    }

    /// Builds the model on a device.
    #[must_use]
    pub fn init(&self, device: &Device) -> Gpt {
        let w = self.width;
        let blocks = (0..self.layers)
            .map(|_| Block {
                ln1: LayerNormConfig::new(w).init(device),
                attn: MultiHeadAttentionConfig::new(w, self.heads)
                    .with_dropout(self.dropout)
                    .init(device),
                ln2: LayerNormConfig::new(w).init(device),
                fc: LinearConfig::new(w, 4 * w).init(device),
                proj: LinearConfig::new(4 * w, w).init(device),
                drop: DropoutConfig::new(self.dropout).init(),
            })
            .collect();
        Gpt {
            tok: EmbeddingConfig::new(self.vocab, w).init(device),
            pos: EmbeddingConfig::new(self.context, w).init(device),
            blocks,
            ln_f: LayerNormConfig::new(w).init(device),
            head: LinearConfig::new(w, self.vocab).init(device),
            drop: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl Gpt {
    /// Model width.
    #[must_use]
    pub fn width(&self) -> usize {
        self.ln_f.gamma.val().dims()[0]
    }

    /// Maximum sequence length.
    #[must_use]
    pub fn context(&self) -> usize {
        self.pos.weight.val().dims()[0]
    }

    /// Device of the parameters.
    #[must_use]
    pub fn device(&self) -> Device {
        self.ln_f.gamma.val().device()
    }

    pub(crate) fn blocks_mut(&mut self) -> &mut Vec<Block> {
        &mut self.blocks
    }

    /// Sets the final `LayerNorm` and the position embeddings (pretrained initialisation).
    pub(crate) fn set_final(&mut self, gamma: Tensor<1>, beta: Tensor<1>, pos: Tensor<2>) {
        self.ln_f.gamma = self.ln_f.gamma.clone().map(|_| gamma);
        if let Some(b) = self.ln_f.beta.take() {
            self.ln_f.beta = Some(b.map(|_| beta));
        }
        self.pos.weight = self.pos.weight.clone().map(|_| pos);
    }

    /// Next-token logits for every position of `tokens: [B, L]` (L <= context).
    #[must_use]
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        let [b, l] = tokens.dims();
        let device = tokens.device();
        let positions = Tensor::<1, Int>::arange(0..l as i64, &device)
            .reshape([1, l])
            .repeat_dim(0, b);
        let mut x = self
            .drop
            .forward(self.tok.forward(tokens) + self.pos.forward(positions));
        let mask = generate_autoregressive_mask(b, l, &device);
        for blk in &self.blocks {
            x = blk.forward(x, mask.clone());
        }
        self.head.forward(self.ln_f.forward(x))
    }

    /// Training pass: next-token logits `[B, L, V]` with dropout masks drawn from `drop`
    /// (the same function as [`Self::forward`] when `drop` drops nothing).
    #[must_use]
    pub fn forward_train(&self, tokens: Tensor<2, Int>, drop: &mut DropMasks) -> Tensor<3> {
        let [b, l] = tokens.dims();
        let device = tokens.device();
        let positions = Tensor::<1, Int>::arange(0..l as i64, &device)
            .reshape([1, l])
            .repeat_dim(0, b);
        let mut x = drop.apply(self.tok.forward(tokens) + self.pos.forward(positions));
        for blk in &self.blocks {
            x = blk.forward_train(x, drop);
        }
        self.head.forward(self.ln_f.forward(x))
    }

    /// Incremental inference: feeds `tokens: [B, n]` that follow the `cache.len()` positions
    /// already seen and returns the next-token logits after the last of them, `[B, V]`.
    #[must_use]
    pub fn forward_step(&self, tokens: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        let [b, n] = tokens.dims();
        let device = tokens.device();
        let start = cache.len;
        if cache.layers.len() != self.blocks.len() {
            cache.layers = (0..self.blocks.len()).map(|_| None).collect();
        }
        let positions = Tensor::<1, Int>::arange(start as i64..(start + n) as i64, &device)
            .reshape([1, n])
            .repeat_dim(0, b);
        let mut x = self.tok.forward(tokens) + self.pos.forward(positions);
        for (blk, c) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = blk.forward_cached(x, start, c);
        }
        cache.len += n;
        let w = x.dims()[2];
        let last = x.slice([0..b, n - 1..n, 0..w]);
        let v = self.head.forward(self.ln_f.forward(last));
        let vocab = v.dims()[2];
        v.reshape([b, vocab])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::float_cmp)] // whole numbers, counted exactly
    fn flop_count_matches_the_model_weights() {
        let cfg = GptConfig {
            vocab: 37,
            context: 20,
            width: 24,
            layers: 3,
            heads: 2,
            dropout: 0.0,
        };
        let m = cfg.init(&Device::flex());
        let (w, v, n) = (24usize, 37usize, 3usize);
        // Every weight matrix is used once per position (2 FLOPs per weight); embeddings,
        // norms and biases are not matrix products.
        let not_matmul = v * w + 20 * w + (2 * n + 1) * 2 * w + n * 9 * w + v;
        let matmul_weights = m.num_params() - not_matmul;
        let attention = n * 4 * w; // one position attending over one
        assert_eq!(
            cfg.forward_flops(1, 1, 1),
            (2 * matmul_weights + attention) as f64
        );
        // Linear in batch and positions; attention grows with the positions attended.
        assert_eq!(cfg.forward_flops(4, 1, 1), 4.0 * cfg.forward_flops(1, 1, 1));
        assert!(cfg.forward_flops(1, 1, 10) > cfg.forward_flops(1, 1, 1));
        assert_eq!(cfg.train_step_flops(2, 5), 3.0 * cfg.forward_flops(2, 5, 5));
    }

    #[test]
    fn cached_decoding_matches_the_full_forward() {
        let device = Device::flex();
        let cfg = GptConfig {
            vocab: 20,
            context: 16,
            width: 16,
            layers: 2,
            heads: 2,
            dropout: 0.0,
        };
        let m = cfg.init(&device);
        let toks: Vec<i64> = vec![1, 5, 7, 2, 9, 9, 3, 4, 1, 1, 6, 8];
        let all = Tensor::<2, Int>::from_data(TensorData::new(toks.clone(), [2, 6]), &device);
        let full = m.forward(all); // [2, 6, 20]
        let mut cache = KvCache::default();
        let prompt = Tensor::<2, Int>::from_data(
            TensorData::new(vec![1i64, 5, 7, 3, 4, 1], [2, 3]),
            &device,
        );
        let _ = m.forward_step(prompt, &mut cache);
        let mut last = None;
        for p in 3..6 {
            let t = Tensor::<2, Int>::from_data(
                TensorData::new(vec![toks[p], toks[6 + p]], [2, 1]),
                &device,
            );
            last = Some(m.forward_step(t, &mut cache));
        }
        assert_eq!(cache.len(), 6);
        let inc: Vec<f32> = last.unwrap().into_data().try_to_vec_as::<f32>().unwrap();
        let reference: Vec<f32> = full
            .clone()
            .slice([0..2, 5..6, 0..20])
            .reshape([2, 20])
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap();
        for (a, b) in inc.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // The training pass without dropout is the same function as burn's attention.
        let all = Tensor::<2, Int>::from_data(TensorData::new(toks, [2, 6]), &device);
        let train: Vec<f32> = m
            .forward_train(all, &mut DropMasks::off(&device))
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap();
        let reference: Vec<f32> = full.into_data().try_to_vec_as::<f32>().unwrap();
        for (a, b) in train.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
