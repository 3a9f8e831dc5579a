//! Dropout masks drawn from a caller's own seeded generator. burn's dropout draws from the CPU
//! backend's process-wide generator, so two models training at once on different threads
//! would interleave their draws and no run could be repeated; with masks from a generator
//! per worker and step, the result depends on the seed only, whatever the schedule.

use burn::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Draws inverted-dropout masks: each entry 0 with probability `p`, else `1 / (1 - p)`.
pub struct DropMasks {
    rng: ChaCha8Rng,
    p: f64,
    device: Device,
}

impl DropMasks {
    /// Masks with drop probability `p` (clamped below 0.99) on `device`.
    #[must_use]
    pub fn new(rng: ChaCha8Rng, p: f64, device: &Device) -> Self {
        Self {
            rng,
            p: p.clamp(0.0, 0.99),
            device: device.clone(),
        }
    }

    /// No dropout at all (inference, or a model trained without it).
    #[must_use]
    pub fn off(device: &Device) -> Self {
        use rand::SeedableRng;
        Self::new(ChaCha8Rng::seed_from_u64(0), 0.0, device)
    }

    /// A mask of `dims`, or `None` when nothing is dropped.
    pub fn mask<const D: usize>(&mut self, dims: [usize; D]) -> Option<Tensor<D>> {
        if self.p <= 0.0 {
            return None;
        }
        let scale = (1.0 / (1.0 - self.p)) as f32;
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                if self.rng.random_bool(self.p) {
                    0.0
                } else {
                    scale
                }
            })
            .collect();
        Some(Tensor::<D>::from_data(
            TensorData::new(v, dims),
            &self.device,
        ))
    }

    /// `x` with dropout applied.
    pub fn apply<const D: usize>(&mut self, x: Tensor<D>) -> Tensor<D> {
        match self.mask(x.dims()) {
            Some(m) => x * m,
            None => x,
        }
    }
}
