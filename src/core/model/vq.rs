//! Vector quantisation with EMA codebook updates, dead-code reset and a commitment loss
//! (van den Oord et al. 2017; EMA variant of Razavi et al. 2019). burn has no VQ layer, so the
//! lookup is written with argmin + select and the straight-through estimator with detach.
//!
//! The codebook is a parameter that receives no gradient: it is replaced after each training
//! step from EMA statistics: [`VqEma`] holds them on the host (what bundles and checkpoints
//! store), `super::ema::DeviceEma` on the training device.

use burn::module::Param;
use burn::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A codebook of `K` vectors of width `D`.
#[derive(Module, Debug)]
pub struct VectorQuantizer {
    /// `[K, D]`, updated by EMA, never by the optimiser.
    pub codebook: Param<Tensor<2>>,
}

/// Result of quantising a batch of latents.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// Straight-through quantised latents `[N, D]` (forward: codes; backward: identity).
    pub z_q: Tensor<2>,
    /// Chosen codes `[N]`.
    pub indices: Tensor<1, Int>,
    /// Commitment loss `mean ||z - sg(q)||^2` (scalar `[1]`).
    pub commitment: Tensor<1>,
}

impl VectorQuantizer {
    /// A codebook initialised uniformly in `[-1, 1]` (replaced by data on the first step).
    #[must_use]
    pub fn new(codes: usize, dim: usize, device: &Device) -> Self {
        let t = Tensor::<2>::random(
            [codes, dim],
            burn::tensor::Distribution::Uniform(-1.0, 1.0),
            device,
        );
        Self {
            codebook: Param::from_tensor(t).set_require_grad(false),
        }
    }

    /// Nearest-code lookup for `z: [N, D]`.
    #[must_use]
    pub fn quantize(&self, z: Tensor<2>) -> Quantized {
        let [n, _] = z.dims();
        let c = self.codebook.val().detach(); // [K, D]
        let k = c.dims()[0];
        let z2 = z.clone().detach().powi_scalar(2).sum_dim(1); // [N, 1]
        let c2 = c.clone().powi_scalar(2).sum_dim(1).reshape([1, k]); // [1, K]
        let dist = z2 + c2
            - z.clone()
                .detach()
                .matmul(c.clone().transpose())
                .mul_scalar(2.0); // [N, K]
        let indices = dist.argmin(1).reshape([n]);
        let q = c.select(0, indices.clone()); // [N, D]
        let commitment = (z.clone() - q.clone()).powi_scalar(2).mean().reshape([1]);
        let z_q = z.clone() + (q - z).detach();
        Quantized {
            z_q,
            indices,
            commitment,
        }
    }

    /// Codebook entries for codes (L2G decoding): `[N, D]`.
    #[must_use]
    pub fn lookup(&self, codes: Tensor<1, Int>) -> Tensor<2> {
        self.codebook.val().select(0, codes)
    }

    /// Replaces the codebook with `values` `[K, D]` computed on the device (keeps the
    /// parameter id, no gradient).
    pub fn set_codebook_tensor(&mut self, values: Tensor<2>) {
        let t = if self.codebook.val().is_autodiff() {
            values.autodiff()
        } else {
            values
        };
        let old = std::mem::replace(&mut self.codebook, Param::from_tensor(t.clone()));
        self.codebook = old.map(|_| t).set_require_grad(false);
    }
}

/// Host-side EMA statistics of one codebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqEma {
    /// Codes.
    pub codes: usize,
    /// Code width.
    pub dim: usize,
    /// EMA decay (0.99 typical).
    pub decay: f32,
    /// EMA of assignment counts per code.
    pub cluster_size: Vec<f32>,
    /// EMA of summed assigned latents, `[K * D]`.
    pub embed_sum: Vec<f32>,
    /// Fast EMA (decay 0.9) of assignment counts, to notice unused codes within ~10 steps.
    pub usage: Vec<f32>,
    /// A code whose fast usage falls below this fraction of the mean usage is reset to a
    /// random latent of the batch.
    pub dead_threshold: f32,
    /// True once initialised from data.
    pub initialised: bool,
    /// Codes reset so far.
    pub resets: u64,
}

impl VqEma {
    /// Fresh statistics.
    #[must_use]
    pub fn new(codes: usize, dim: usize) -> Self {
        Self {
            codes,
            dim,
            decay: 0.99,
            cluster_size: vec![1.0; codes],
            embed_sum: vec![0.0; codes * dim],
            usage: vec![1.0; codes],
            dead_threshold: 0.03,
            initialised: false,
            resets: 0,
        }
    }

    /// One EMA step from latents `z` (`[N * D]`, row-major) and their codes; returns the new
    /// codebook `[K * D]`. The first call seeds the codebook with random latents, so no code
    /// starts far from the data.
    pub fn update(&mut self, z: &[f32], codes: &[usize], rng: &mut ChaCha8Rng) -> Vec<f32> {
        let (k, d) = (self.codes, self.dim);
        let n = codes.len();
        if n == 0 {
            return self.codebook();
        }
        if !self.initialised {
            for c in 0..k {
                let r = rng.random_range(0..n);
                self.embed_sum[c * d..(c + 1) * d].copy_from_slice(&z[r * d..(r + 1) * d]);
                self.cluster_size[c] = 1.0;
                self.usage[c] = n as f32 / k as f32;
            }
            self.initialised = true;
            return self.codebook();
        }
        let mut counts = vec![0.0f32; k];
        let mut sums = vec![0.0f32; k * d];
        for (i, &c) in codes.iter().enumerate() {
            counts[c] += 1.0;
            for j in 0..d {
                sums[c * d + j] += z[i * d + j];
            }
        }
        let g = self.decay;
        for c in 0..k {
            self.cluster_size[c] = g * self.cluster_size[c] + (1.0 - g) * counts[c];
            for j in 0..d {
                self.embed_sum[c * d + j] =
                    g * self.embed_sum[c * d + j] + (1.0 - g) * sums[c * d + j];
            }
        }
        // Dead codes: restart them on random latents so the whole codebook stays in use.
        let avg = n as f32 / k as f32;
        for c in 0..k {
            self.usage[c] = 0.9 * self.usage[c] + 0.1 * counts[c];
            if self.usage[c] < self.dead_threshold * avg {
                let r = rng.random_range(0..n);
                self.embed_sum[c * d..(c + 1) * d].copy_from_slice(&z[r * d..(r + 1) * d]);
                // Restart with the mean's weight, so the code is not reset again at once.
                let w = self.cluster_size.iter().sum::<f32>() / k as f32;
                for j in 0..d {
                    self.embed_sum[c * d + j] *= w;
                }
                self.cluster_size[c] = w;
                self.usage[c] = avg;
                self.resets += 1;
            }
        }
        self.codebook()
    }

    /// Current codebook from the statistics (Laplace-smoothed counts).
    #[must_use]
    pub fn codebook(&self) -> Vec<f32> {
        let (k, d) = (self.codes, self.dim);
        let total: f32 = self.cluster_size.iter().sum();
        let eps = 1e-5;
        let mut out = vec![0.0; k * d];
        for c in 0..k {
            let n = (self.cluster_size[c] + eps) / (total + k as f32 * eps) * total;
            for j in 0..d {
                out[c * d + j] = self.embed_sum[c * d + j] / n;
            }
        }
        out
    }
}

/// Usage statistics of code assignments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CodeUsage {
    /// Fraction of codes used at least once.
    pub used_fraction: f64,
    /// Perplexity `exp(H)` of the code distribution (K = uniform use of all codes).
    pub perplexity: f64,
}

/// Usage of `k` codes by `codes`.
#[must_use]
pub fn code_usage(codes: &[usize], k: usize) -> CodeUsage {
    let mut counts = vec![0usize; k];
    for &c in codes {
        if c < k {
            counts[c] += 1;
        }
    }
    let n = codes.len().max(1) as f64;
    let h: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum();
    CodeUsage {
        used_fraction: counts.iter().filter(|c| **c > 0).count() as f64 / k.max(1) as f64,
        perplexity: h.exp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ema_moves_codes_to_cluster_means_and_resets_dead_codes() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut ema = VqEma::new(3, 1);
        ema.decay = 0.5;
        let z = [0.0, 0.1, 10.0, 10.1];
        let _ = ema.update(&z, &[0, 0, 1, 1], &mut rng);
        for _ in 0..40 {
            let _ = ema.update(&z, &[0, 0, 1, 1], &mut rng);
        }
        let cb = ema.codebook();
        assert!((cb[0] - 0.05).abs() < 1e-3, "{cb:?}");
        assert!((cb[1] - 10.05).abs() < 1e-3, "{cb:?}");
        assert!(ema.resets > 0, "code 2 is never used and must be reset");
        let u = code_usage(&[0, 0, 1, 1], 4);
        assert!((u.used_fraction - 0.5).abs() < 1e-12 && (u.perplexity - 2.0).abs() < 1e-9);
    }

    #[test]
    fn quantize_picks_nearest_and_passes_gradients_straight_through() {
        let device = Device::flex().autodiff();
        let mut vq = VectorQuantizer::new(2, 2, &device);
        vq.set_codebook_tensor(Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 1.0, 1.0], [2, 2]),
            &device,
        ));
        let z = Tensor::<2>::from_data(
            TensorData::new(vec![0.9f32, 0.8, 0.1, -0.1], [2, 2]),
            &device,
        )
        .require_grad();
        let q = vq.quantize(z.clone());
        let idx: Vec<i64> = q.indices.into_data().try_to_vec_as::<i64>().unwrap();
        assert_eq!(idx, vec![1, 0]);
        let v: Vec<f32> = q.z_q.clone().into_data().try_to_vec_as::<f32>().unwrap();
        assert_eq!(v, vec![1.0, 1.0, 0.0, 0.0]);
        let grads = q.z_q.sum().backward();
        let g: Vec<f32> = z
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap();
        assert_eq!(g, vec![1.0; 4]);
    }
}
