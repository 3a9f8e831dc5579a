//! The gait tokeniser: a temporal-convolution pose encoder (x4 downsampling) with three branches
//! quantised by their own codebooks, spatial (pose), temporal (frame-to-frame motion) and
//! pathological (trained with auxiliary class and prior heads so its codes keep pathology
//! cues), and a decoder from the fused codes back to joint features.
//!
//! Shapes: input `[B, F, T]` standardised features (F = 36), latents `[B, D, T/r]` with `r` the
//! configured downsampling (4 by default, 2 for finer detail at twice the gait tokens).

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::ModelError;
use super::features::FEATURES;
use super::vq::{Quantized, VectorQuantizer};

/// Tokeniser size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenizerConfig {
    /// Hidden channels.
    pub hidden: usize,
    /// Latent (code) width.
    pub latent: usize,
    /// Codebook sizes: spatial, temporal, pathological.
    pub codes: [usize; 3],
    /// Classes for the pathological branch's auxiliary head.
    pub classes: usize,
    /// Prior targets for the auxiliary regression head.
    pub priors: usize,
    /// Frames per latent step (4 or 2): 2 keeps more detail of each stride (asymmetries,
    /// peaks) at the price of twice the gait tokens for the GPT.
    #[serde(default = "default_downsample")]
    pub downsample: usize,
}

fn default_downsample() -> usize {
    4
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            hidden: 96,
            latent: 32,
            codes: [128, 64, 32],
            classes: 6,
            priors: 4,
            downsample: 4,
        }
    }
}

fn conv(i: usize, o: usize, k: usize, s: usize, device: &Device) -> Conv1d {
    // Kernel 3 / stride 1 keeps the length; kernel 4 / stride 2 halves it.
    let pad = if s == 1 { (k - 1) / 2 } else { 1 };
    Conv1dConfig::new(i, o, k)
        .with_stride(s)
        .with_padding(PaddingConfig1d::Explicit(pad, pad))
        .init(device)
}

/// Temporal-convolution encoder `[B, F, T] -> [B, D, T/r]`.
#[derive(Module, Debug)]
pub struct PoseEncoder {
    c1: Conv1d,
    c2: Conv1d,
    c3: Conv1d,
    c4: Conv1d,
}

impl PoseEncoder {
    fn new(input: usize, hidden: usize, latent: usize, r: usize, device: &Device) -> Self {
        Self {
            c1: conv(input, hidden, 3, 1, device),
            c2: conv(hidden, hidden, 4, 2, device),
            // The second halving only when four frames share a latent step.
            c3: if r >= 4 {
                conv(hidden, hidden, 4, 2, device)
            } else {
                conv(hidden, hidden, 3, 1, device)
            },
            c4: conv(hidden, latent, 3, 1, device),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = relu(self.c1.forward(x));
        let x = relu(self.c2.forward(x));
        let x = relu(self.c3.forward(x));
        self.c4.forward(x)
    }
}

/// Decoder `[B, 3D, T/r] -> [B, F, T]` (nearest upsampling + convolutions).
#[derive(Module, Debug)]
pub struct PoseDecoder {
    c1: Conv1d,
    c2: Conv1d,
    c3: Conv1d,
    c4: Conv1d,
    /// Upsamplings by 2 (log2 of the downsampling).
    ups: usize,
}

fn upsample2(x: Tensor<3>) -> Tensor<3> {
    let [b, c, t] = x.dims();
    x.unsqueeze_dim::<4>(3)
        .repeat_dim(3, 2)
        .reshape([b, c, 2 * t])
}

impl PoseDecoder {
    fn new(latent: usize, hidden: usize, out: usize, r: usize, device: &Device) -> Self {
        Self {
            c1: conv(latent, hidden, 3, 1, device),
            c2: conv(hidden, hidden, 3, 1, device),
            c3: conv(hidden, hidden, 3, 1, device),
            c4: conv(hidden, out, 3, 1, device),
            ups: if r >= 4 { 2 } else { 1 },
        }
    }

    fn forward(&self, z: Tensor<3>) -> Tensor<3> {
        let x = relu(self.c1.forward(z));
        let x = relu(self.c2.forward(upsample2(x)));
        let x = if self.ups >= 2 { upsample2(x) } else { x };
        let x = relu(self.c3.forward(x));
        self.c4.forward(x)
    }
}

/// The tokeniser.
#[derive(Module, Debug)]
pub struct GaitTokenizer {
    enc_spatial: PoseEncoder,
    enc_temporal: PoseEncoder,
    enc_path: PoseEncoder,
    /// Spatial codebook.
    pub vq_spatial: VectorQuantizer,
    /// Temporal codebook.
    pub vq_temporal: VectorQuantizer,
    /// Pathological codebook.
    pub vq_path: VectorQuantizer,
    decoder: PoseDecoder,
    aux_class: Linear,
    aux_prior: Linear,
}

/// Everything one forward pass produces.
#[derive(Debug, Clone)]
pub struct TokenizerOutput {
    /// Reconstruction `[B, F, T]`.
    pub recon: Tensor<3>,
    /// Per branch: quantisation results over `N = B * T/r` latents.
    pub quantized: [Quantized; 3],
    /// Per branch: the encoder latents `[N, D]` (detached), for EMA updates.
    pub latents: [Tensor<2>; 3],
    /// Class logits from the pathological codes `[B, C]`.
    pub class_logits: Tensor<2>,
    /// Prior predictions from the pathological codes `[B, P]`.
    pub prior_pred: Tensor<2>,
}

/// `[B, D, T'] -> [B * T', D]`.
fn flatten_latent(z: Tensor<3>) -> Tensor<2> {
    let [b, d, t] = z.dims();
    z.swap_dims(1, 2).reshape([b * t, d])
}

/// `[B * T', D] -> [B, D, T']`.
fn unflatten_latent(z: Tensor<2>, b: usize) -> Tensor<3> {
    let [n, d] = z.dims();
    z.reshape([b, n / b, d]).swap_dims(1, 2)
}

impl TokenizerConfig {
    /// Latent steps of a window of `frames` frames.
    #[must_use]
    pub fn latent_steps(&self, frames: usize) -> usize {
        frames / self.downsample.max(1)
    }

    /// FLOPs of a forward pass over `batch` windows of `frames` frames: three encoders, the
    /// three codebook distance matrices, the decoder and the auxiliary heads. A convolution
    /// with `i` inputs, `o` outputs and kernel `k` costs `2 i o k` per output position.
    #[must_use]
    pub fn forward_flops(&self, batch: usize, frames: usize) -> f64 {
        let (b, t, f) = (batch as f64, frames as f64, FEATURES as f64);
        let (h, d) = (self.hidden as f64, self.latent as f64);
        let r = self.downsample.max(1) as f64;
        let conv = |i: f64, o: f64, k: f64, out_len: f64| 2.0 * b * out_len * i * o * k;
        let c3 = if self.downsample >= 4 {
            conv(h, h, 4.0, t / 4.0)
        } else {
            conv(h, h, 3.0, t / 2.0)
        };
        let encoder = conv(f, h, 3.0, t) + conv(h, h, 4.0, t / 2.0) + c3 + conv(h, d, 3.0, t / r);
        let latents = b * t / r;
        let codebooks: f64 = self
            .codes
            .iter()
            .map(|&k| 2.0 * latents * k as f64 * d)
            .sum();
        let decoder = conv(3.0 * d, h, 3.0, t / r)
            + conv(h, h, 3.0, 2.0 * t / r)
            + conv(h, h, 3.0, t)
            + conv(h, f, 3.0, t);
        let heads = 2.0 * b * d * (self.classes + self.priors) as f64;
        3.0 * encoder + codebooks + decoder + heads
    }

    /// FLOPs of decoding `batch` windows of `frames` frames from their codes (generation).
    #[must_use]
    pub fn decode_flops(&self, batch: usize, frames: usize) -> f64 {
        let (b, t, f) = (batch as f64, frames as f64, FEATURES as f64);
        let (h, d) = (self.hidden as f64, self.latent as f64);
        let r = self.downsample.max(1) as f64;
        let conv = |i: f64, o: f64, out_len: f64| 2.0 * b * out_len * i * o * 3.0;
        conv(3.0 * d, h, t / r) + conv(h, h, 2.0 * t / r) + conv(h, h, t) + conv(h, f, t)
    }

    /// FLOPs of one training step (forward + backward) on `batch` windows.
    #[must_use]
    pub fn train_step_flops(&self, batch: usize, frames: usize) -> f64 {
        super::TRAIN_STEP_FACTOR * self.forward_flops(batch, frames)
    }

    /// Builds the model on a device.
    #[must_use]
    pub fn init(&self, device: &Device) -> GaitTokenizer {
        let (h, d, r) = (self.hidden, self.latent, self.downsample);
        GaitTokenizer {
            enc_spatial: PoseEncoder::new(FEATURES, h, d, r, device),
            enc_temporal: PoseEncoder::new(FEATURES, h, d, r, device),
            enc_path: PoseEncoder::new(FEATURES, h, d, r, device),
            vq_spatial: VectorQuantizer::new(self.codes[0], d, device),
            vq_temporal: VectorQuantizer::new(self.codes[1], d, device),
            vq_path: VectorQuantizer::new(self.codes[2], d, device),
            decoder: PoseDecoder::new(3 * d, h, FEATURES, r, device),
            aux_class: LinearConfig::new(d, self.classes.max(1)).init(device),
            aux_prior: LinearConfig::new(d, self.priors.max(1)).init(device),
        }
    }
}

/// Frame differences along time, first frame zero: the temporal branch sees motion only.
fn frame_diff(x: &Tensor<3>) -> Tensor<3> {
    let [b, f, t] = x.dims();
    let d = x.clone().slice([0..b, 0..f, 1..t]) - x.clone().slice([0..b, 0..f, 0..t - 1]);
    Tensor::cat(vec![Tensor::zeros([b, f, 1], &x.device()), d], 2)
}

impl GaitTokenizer {
    fn codebooks(&self) -> [&VectorQuantizer; 3] {
        [&self.vq_spatial, &self.vq_temporal, &self.vq_path]
    }

    /// The three encoders' latents `[N, D]` of `x: [B, F, T]` and their quantisations.
    fn quantize_all(&self, x: Tensor<3>) -> ([Tensor<2>; 3], [Quantized; 3]) {
        let zs = [
            flatten_latent(self.enc_spatial.forward(x.clone())),
            flatten_latent(self.enc_temporal.forward(frame_diff(&x))),
            flatten_latent(self.enc_path.forward(x)),
        ];
        let cbs = self.codebooks();
        let quantized = [
            cbs[0].quantize(zs[0].clone()),
            cbs[1].quantize(zs[1].clone()),
            cbs[2].quantize(zs[2].clone()),
        ];
        (zs, quantized)
    }

    /// The reconstruction `[B, F, T]` of a batch of `b` windows from its three branches'
    /// quantised latents (each `[B * T/r, D]`).
    fn decode_quantized(&self, quantized: &[Quantized; 3], b: usize) -> Tensor<3> {
        let fused = Tensor::cat(
            quantized
                .iter()
                .map(|q| unflatten_latent(q.z_q.clone(), b))
                .collect(),
            1,
        );
        self.decoder.forward(fused)
    }

    /// Encodes and quantises `x: [B, F, T]` (T a multiple of 4) and decodes it back.
    #[must_use]
    pub fn forward(&self, x: Tensor<3>) -> TokenizerOutput {
        let b = x.dims()[0];
        let (zs, quantized) = self.quantize_all(x);
        let recon = self.decode_quantized(&quantized, b);
        let pooled = unflatten_latent(quantized[2].z_q.clone(), b)
            .mean_dim(2)
            .squeeze_dim::<2>(2); // [B, D]
        TokenizerOutput {
            recon,
            class_logits: self.aux_class.forward(pooled.clone()),
            prior_pred: self.aux_prior.forward(pooled),
            latents: zs.map(burn::Tensor::detach),
            quantized,
        }
    }

    /// Codes of `x: [B, F, T]` per branch, each `[B, T/r]` flattened row-major.
    ///
    /// # Errors
    /// When the backend cannot read the codes back.
    pub fn encode(&self, x: Tensor<3>) -> Result<[Vec<usize>; 3], ModelError> {
        // Codes need the encoders and codebooks only, not the decoder.
        read_codes(self.quantize_all(x).1)
    }

    /// Codes of `x: [B, F, T]` (as [`GaitTokenizer::encode`]) and the reconstruction
    /// `[B, F, T]` decoded from them, from one pass through the encoders.
    ///
    /// # Errors
    /// When the backend cannot read the codes back.
    pub fn encode_decode(&self, x: Tensor<3>) -> Result<([Vec<usize>; 3], Tensor<3>), ModelError> {
        let b = x.dims()[0];
        let (_, quantized) = self.quantize_all(x);
        let recon = self.decode_quantized(&quantized, b);
        Ok((read_codes(quantized)?, recon))
    }

    /// Decodes codes (each `[B * T']`, row-major per batch item) to features `[B, F, 4 T']`.
    #[must_use]
    pub fn decode(&self, codes: &[Vec<usize>; 3], batch: usize, device: &Device) -> Tensor<3> {
        let cbs = self.codebooks();
        let parts: Vec<Tensor<3>> = (0..3)
            .map(|i| {
                let idx: Vec<i64> = codes[i].iter().map(|c| *c as i64).collect();
                let n = idx.len();
                let t = Tensor::<1, Int>::from_data(TensorData::new(idx, [n]), device);
                unflatten_latent(cbs[i].lookup(t), batch)
            })
            .collect();
        self.decoder.forward(Tensor::cat(parts, 1))
    }
}

/// The code indices of each branch's quantisation, read back to the host.
fn read_codes(quantized: [Quantized; 3]) -> Result<[Vec<usize>; 3], ModelError> {
    let mut codes: [Vec<usize>; 3] = Default::default();
    for (slot, q) in codes.iter_mut().zip(quantized) {
        let v: Vec<i64> = q.indices.into_data().try_to_vec_as::<i64>().map_err(|e| {
            ModelError::Backend(format!("tokeniser codes: cannot read the tensor: {e:?}"))
        })?;
        *slot = v.into_iter().map(|c| c.max(0) as usize).collect();
    }
    Ok(codes)
}
