//! The baseline a generator must beat: class-conditional augmentation of real windows by
//! smooth time warping, magnitude scaling and joint jitter (Um et al. 2017). It produces as
//! many windows per class as the model, from the same training subjects, so the evaluation
//! table shows whether the model adds more than simple augmentation.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::model::features::FEATURES;

/// Augmentation strengths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Standard deviation of Gaussian noise added to each joint coordinate (metres).
    pub jitter_m: f32,
    /// Largest relative change of playback speed within a window (0.2 = ±20 %).
    pub warp: f32,
    /// Largest relative change of body size (0.05 = ±5 %).
    pub scale: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            jitter_m: 0.005,
            warp: 0.2,
            scale: 0.05,
        }
    }
}

/// One standard normal draw (Box-Muller).
fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// A smooth monotonic time warp: source positions (in frames) for `n` output frames, spanning
/// the whole source. Local speed is `1 + a sin(2π k t + φ)` with `|a| <= warp`, integrated and
/// rescaled, so the window keeps its length and start/end while its rhythm changes.
#[must_use]
pub fn warp_positions(n: usize, warp: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    if n < 2 {
        return vec![0.0; n];
    }
    let a = rng.random_range(-1.0..=1.0f32) * warp.clamp(0.0, 0.9);
    let k = rng.random_range(0.5..1.5f32);
    let phi = rng.random_range(0.0..std::f32::consts::TAU);
    let mut cum = vec![0.0f32; n];
    for i in 1..n {
        let t = i as f32 / (n - 1) as f32;
        cum[i] = cum[i - 1] + 1.0 + a * (std::f32::consts::TAU * k * t + phi).sin();
    }
    let last = cum[n - 1].max(f32::EPSILON);
    cum.iter().map(|c| c / last * (n - 1) as f32).collect()
}

/// One augmented copy of a raw (not standardised) feature window.
#[must_use]
pub fn augment_window(
    src: &[[f32; FEATURES]],
    cfg: &AugmentConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<[f32; FEATURES]> {
    let n = src.len();
    let pos = warp_positions(n, cfg.warp, rng);
    let s = 1.0 + rng.random_range(-1.0..=1.0f32) * cfg.scale;
    pos.iter()
        .map(|&p| {
            let i = (p.floor() as usize).min(n.saturating_sub(1));
            let j = (i + 1).min(n - 1);
            let f = p - i as f32;
            let mut v = [0.0f32; FEATURES];
            for d in 0..FEATURES {
                v[d] = src[i][d] * (1.0 - f) + src[j][d] * f;
            }
            // Joints relative to the pelvis and pelvis height scale with body size; the
            // pelvis velocity scales with it too (same cadence, proportionally longer steps).
            for x in &mut v {
                *x *= s;
            }
            for x in &mut v[..33] {
                *x += cfg.jitter_m * gauss(rng);
            }
            v
        })
        .collect()
}

/// `per_class` augmented windows for each class from its source windows (raw features).
/// Classes without sources get none. Returns `(class, frames)` pairs, class by class.
#[must_use]
pub fn baseline_windows(
    sources: &[(usize, &[[f32; FEATURES]])],
    classes: usize,
    per_class: usize,
    cfg: &AugmentConfig,
    seed: u64,
) -> Vec<(usize, Vec<[f32; FEATURES]>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(classes * per_class);
    for c in 0..classes {
        let pool: Vec<&[[f32; FEATURES]]> = sources
            .iter()
            .filter(|(k, _)| *k == c)
            .map(|(_, w)| *w)
            .collect();
        if pool.is_empty() {
            continue;
        }
        for _ in 0..per_class {
            let src = pool[rng.random_range(0..pool.len())];
            out.push((c, augment_window(src, cfg, &mut rng)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warp_is_monotonic_and_spans_the_window() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let p = warp_positions(64, 0.3, &mut rng);
            assert!(p.windows(2).all(|w| w[1] > w[0]));
            assert!(p[0].abs() < 1e-6 && (p[63] - 63.0).abs() < 1e-3);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let p = warp_positions(64, 0.0, &mut rng);
        assert!(
            p.iter()
                .enumerate()
                .all(|(i, x)| (x - i as f32).abs() < 1e-3)
        );
    }

    #[test]
    fn augmentation_stays_near_its_source_and_is_seeded() {
        let src: Vec<[f32; FEATURES]> = (0..64)
            .map(|t| {
                let mut v = [0.0f32; FEATURES];
                for (d, x) in v.iter_mut().enumerate() {
                    *x = ((t as f32) * 0.1 + d as f32).sin() * 0.3;
                }
                v
            })
            .collect();
        let sources = [(0usize, src.as_slice()), (1, src.as_slice())];
        let cfg = AugmentConfig::default();
        let a = baseline_windows(&sources, 3, 5, &cfg, 9);
        assert_eq!(a.len(), 10, "class 2 has no source");
        assert_eq!(a.iter().filter(|(c, _)| *c == 1).count(), 5);
        assert_eq!(a, baseline_windows(&sources, 3, 5, &cfg, 9));
        assert_ne!(a, baseline_windows(&sources, 3, 5, &cfg, 10));
        for (_, w) in &a {
            assert_eq!(w.len(), 64);
            let diff: f32 = w
                .iter()
                .zip(&src)
                .map(|(x, y)| (x[10] - y[10]).abs())
                .sum::<f32>()
                / 64.0;
            assert!(diff > 1e-4 && diff < 0.15, "mean change {diff}");
        }
    }
}
