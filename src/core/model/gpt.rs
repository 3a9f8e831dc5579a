//! A GPT-2-architecture decoder-only transformer over the gait-language vocabulary: token and
//! learned position embeddings, pre-LayerNorm blocks of causal multi-head self-attention and a
//! GELU MLP (4x width), final `LayerNorm` and a linear head.
//!
//! Shapes: tokens `[B, L]` -> logits `[B, L, V]`.

use burn::nn::attention::{
    MhaInput, MultiHeadAttention, MultiHeadAttentionConfig, generate_autoregressive_mask,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::prelude::*;
use burn::tensor::activation::gelu;
use serde::{Deserialize, Serialize};

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
    ln1: LayerNorm,
    attn: MultiHeadAttention,
    ln2: LayerNorm,
    fc: Linear,
    proj: Linear,
    drop: Dropout,
}

impl Block {
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
}
