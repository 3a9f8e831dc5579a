//! The codebooks' EMA statistics on the training device. [`VqEma`] (host vectors) is what
//! checkpoints and bundles store; during training the same statistics live here as tensors, so
//! a tokeniser step sends its codes and latents nowhere: counts come from a one-hot matrix,
//! assigned sums from one matrix product, dead codes are replaced by masks. On the CPU backend
//! this saves little; on a GPU the host version waited for every step's codes and latents.
//!
//! Differences from [`VqEma::update`], which the statistics otherwise follow step for step:
//! a reset candidate is drawn for every code at every step (the host drew one per dead code),
//! and all codes reset in one step share one restart weight (the host recomputed it after each
//! reset), so a run draws other batches after its first reset than the host version did.

use burn::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::vq::VqEma;
use super::{ModelError, read_floats, read_scalar};

/// One codebook's statistics on a device. Shapes: `K` codes of width `D`.
pub struct DeviceEma {
    codes: usize,
    dim: usize,
    decay: f32,
    dead_threshold: f32,
    /// `[K]` EMA of assignment counts.
    cluster_size: Tensor<1>,
    /// `[K, D]` EMA of summed assigned latents.
    embed_sum: Tensor<2>,
    /// `[K]` fast EMA (decay 0.9) of assignment counts.
    usage: Tensor<1>,
    initialised: bool,
    /// `[1]` codes reset on the device since `from_host`.
    resets: Tensor<1>,
    resets_before: u64,
}

impl DeviceEma {
    /// The host statistics, moved onto `device`.
    #[must_use]
    pub fn from_host(e: &VqEma, device: &Device) -> Self {
        let (k, d) = (e.codes, e.dim);
        let vec1 = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [k]), device);
        Self {
            codes: k,
            dim: d,
            decay: e.decay,
            dead_threshold: e.dead_threshold,
            cluster_size: vec1(&e.cluster_size),
            embed_sum: Tensor::<2>::from_data(TensorData::new(e.embed_sum.clone(), [k, d]), device),
            usage: vec1(&e.usage),
            initialised: e.initialised,
            resets: Tensor::zeros([1], device),
            resets_before: e.resets,
        }
    }

    /// The statistics read back into host form (checkpoints, the bundle).
    ///
    /// # Errors
    /// A tensor that cannot be read.
    pub fn to_host(&self) -> Result<VqEma, ModelError> {
        let resets = read_scalar(self.resets.clone(), "codebook resets")?;
        Ok(VqEma {
            codes: self.codes,
            dim: self.dim,
            decay: self.decay,
            cluster_size: read_floats(self.cluster_size.clone(), "codebook counts")?,
            embed_sum: read_floats(self.embed_sum.clone(), "codebook sums")?,
            usage: read_floats(self.usage.clone(), "codebook usage")?,
            dead_threshold: self.dead_threshold,
            initialised: self.initialised,
            resets: self.resets_before + resets.round() as u64,
        })
    }

    /// One EMA step from latents `z` `[N, D]` and their codes `[N]` (detached, on this
    /// device); returns the new codebook `[K, D]` and the perplexity of this batch's codes
    /// `[1]`. The first call seeds the codebook with random latents, as the host version.
    pub fn update(
        &mut self,
        z: Tensor<2>,
        codes: Tensor<1, Int>,
        rng: &mut ChaCha8Rng,
    ) -> (Tensor<2>, Tensor<1>) {
        let (k, n) = (self.codes, z.dims()[0]);
        let device = z.device();
        if n == 0 {
            return (self.codebook(), Tensor::ones([1], &device));
        }
        // One random latent per code: the reset candidates (and the seeds on the first call).
        let pick: Vec<i64> = (0..k).map(|_| rng.random_range(0..n) as i64).collect();
        let pick = Tensor::<1, Int>::from_data(TensorData::new(pick, [k]), &device);
        let candidates = z.clone().select(0, pick); // [K, D]
        let onehot = codes.one_hot::<2>(k).float(); // [N, K]
        let counts = onehot.clone().sum_dim(0).reshape([k]); // [K]
        let p = counts.clone().div_scalar(n as f32);
        let perplexity = (p.clone() * p.clamp_min(1e-12).log()).sum().neg().exp(); // [1]
        let avg = n as f32 / k as f32;
        if !self.initialised {
            self.embed_sum = candidates;
            self.cluster_size = Tensor::ones([k], &device);
            self.usage = Tensor::full([k], avg, &device);
            self.initialised = true;
            return (self.codebook(), perplexity);
        }
        let sums = onehot.transpose().matmul(z); // [K, D]
        let g = self.decay;
        self.cluster_size =
            self.cluster_size.clone().mul_scalar(g) + counts.clone().mul_scalar(1.0 - g);
        self.embed_sum = self.embed_sum.clone().mul_scalar(g) + sums.mul_scalar(1.0 - g);
        // Dead codes restart on their candidate latent with the mean count as weight, so they
        // are not reset again at once.
        self.usage = self.usage.clone().mul_scalar(0.9) + counts.mul_scalar(0.1);
        let dead = self.usage.clone().lower_elem(self.dead_threshold * avg); // [K]
        let w = self.cluster_size.clone().mean(); // [1]
        let restarted = candidates * w.clone().reshape([1, 1]);
        let dead_rows = dead.clone().reshape([k, 1]).expand([k, self.dim]);
        self.embed_sum = self.embed_sum.clone().mask_where(dead_rows, restarted);
        self.cluster_size = self
            .cluster_size
            .clone()
            .mask_where(dead.clone(), w.expand([k]));
        self.usage = self
            .usage
            .clone()
            .mask_where(dead.clone(), Tensor::full([k], avg, &device));
        self.resets = self.resets.clone() + dead.float().sum();
        (self.codebook(), perplexity)
    }

    /// Current codebook `[K, D]` from the statistics (Laplace-smoothed counts).
    #[must_use]
    pub fn codebook(&self) -> Tensor<2> {
        let k = self.codes as f32;
        let eps = 1e-5;
        let total = self.cluster_size.clone().sum(); // [1]
        let n =
            (self.cluster_size.clone().add_scalar(eps) / total.clone().add_scalar(k * eps)) * total; // [K]
        self.embed_sum.clone() / n.reshape([self.codes, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Without dead codes the device statistics follow the host ones step for step, and the
    /// first call seeds the codebook from the same draws.
    #[test]
    fn follows_the_host_statistics() {
        let device = Device::default();
        let (k, d, n) = (4usize, 3usize, 64usize);
        let mut host = VqEma::new(k, d);
        let mut dev = DeviceEma::from_host(&host, &device);
        // The same seed: the first call seeds both codebooks from the same draws.
        let mut rng_h = ChaCha8Rng::seed_from_u64(3);
        let mut rng_d = ChaCha8Rng::seed_from_u64(3);
        for step in 0..5 {
            let z: Vec<f32> = (0..n * d)
                .map(|i| ((i * 31 + step * 7) % 23) as f32 / 23.0 - 0.5)
                .collect();
            // Every code used evenly: none falls below the dead threshold.
            let codes: Vec<usize> = (0..n).map(|i| (i + step) % k).collect();
            let want = host.update(&z, &codes, &mut rng_h);
            let zt = Tensor::<2>::from_data(TensorData::new(z, [n, d]), &device);
            let ct = Tensor::<1, Int>::from_data(
                TensorData::new(codes.iter().map(|&c| c as i64).collect::<Vec<_>>(), [n]),
                &device,
            );
            let (got, perplexity) = dev.update(zt, ct, &mut rng_d);
            let got = read_floats(got, "test").unwrap();
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "step {step}: {a} vs {b}");
            }
            let p = read_scalar(perplexity, "test").unwrap();
            assert!((p - k as f32).abs() < 1e-3, "uniform use of {k} codes: {p}");
        }
        let back = dev.to_host().unwrap();
        for (a, b) in back.cluster_size.iter().zip(&host.cluster_size) {
            assert!((a - b).abs() < 1e-4);
        }
        assert_eq!(back.resets, 0);
    }

    /// A code nobody uses is restarted on a latent of the batch and counted.
    #[test]
    fn unused_codes_are_reset_onto_latents() {
        let device = Device::default();
        let (k, d, n) = (4usize, 2usize, 40usize);
        let mut dev = DeviceEma::from_host(&VqEma::new(k, d), &device);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let z: Vec<f32> = (0..n * d).map(|i| i as f32).collect();
        let zt = || Tensor::<2>::from_data(TensorData::new(z.clone(), [n, d]), &device);
        // Only codes 0 and 1 are ever assigned.
        let ct = || {
            Tensor::<1, Int>::from_data(
                TensorData::new((0..n).map(|i| (i % 2) as i64).collect::<Vec<_>>(), [n]),
                &device,
            )
        };
        for _ in 0..40 {
            let _ = dev.update(zt(), ct(), &mut rng);
        }
        let host = dev.to_host().unwrap();
        assert!(host.resets > 0, "codes 2 and 3 were never used: {host:?}");
        assert!(host.cluster_size.iter().all(|c| c.is_finite() && *c > 0.0));
        // Reset codes sit on batch latents (scaled back by their count in the codebook).
        let cb = read_floats(dev.codebook(), "test").unwrap();
        assert!(cb.iter().all(|v| v.is_finite()));
    }
}
