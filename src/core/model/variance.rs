//! Global variance compensation of the tokeniser's decoder.
//!
//! A decoder trained on a mean-squared error regresses towards the mean: its reconstructions
//! of the training windows vary less than the windows (on the demo data they keep about 90 %
//! of the real windows' diversity), and so do the walks it decodes from sampled codes. Speech
//! synthesis met the same over-smoothing and answered it with global variance compensation
//! (Toda & Tokuda 2007; Silén et al. 2012 as a post-filter): after training, each feature of
//! the generated output is moved and scaled so its mean and variance over the training data
//! match the data's. [`VarianceMatch`] is that post-filter, fitted per feature on the
//! standardised training windows and their reconstructions.
//!
//! A model keeps one filter over all its training windows and one per class
//! ([`VarianceMatch::fit_class`]). Generation uses the class's: pooled over the classes, a
//! feature's spread is mostly the gaps between the classes' means, which the decoder keeps, so
//! the pooled scale reads close to 1 while each class's own spread is squashed.

use serde::{Deserialize, Serialize};

use super::features::FEATURES;

/// Scales are kept within this factor of 1: a feature the decoder flattened almost entirely is
/// noise, not signal, once blown up.
const MAX_SCALE: f64 = 3.0;

/// Training windows a class needs for a filter of its own.
pub const MIN_CLASS_WINDOWS: usize = 8;

/// Per-feature sums of one window and its reconstruction (standardised units), to pool over
/// many windows without keeping their frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Frames summed.
    pub frames: usize,
    /// Sum and sum of squares of the window's features.
    pub real: [[f64; FEATURES]; 2],
    /// Sum and sum of squares of the reconstruction's features.
    pub recon: [[f64; FEATURES]; 2],
}

impl Moments {
    /// The sums of `real` frames and their reconstruction `recon` (frames beyond the shorter
    /// of the two are left out).
    #[must_use]
    pub fn of(real: &[[f32; FEATURES]], recon: &[[f32; FEATURES]]) -> Self {
        let mut m = Self {
            frames: 0,
            real: [[0.0; FEATURES]; 2],
            recon: [[0.0; FEATURES]; 2],
        };
        for (a, b) in real.iter().zip(recon) {
            m.frames += 1;
            for f in 0..FEATURES {
                let (x, y) = (f64::from(a[f]), f64::from(b[f]));
                m.real[0][f] += x;
                m.real[1][f] += x * x;
                m.recon[0][f] += y;
                m.recon[1][f] += y * y;
            }
        }
        m
    }
}

/// Mean and SD of one feature from pooled sums (SD 0 for fewer than two frames).
fn mean_sd(sum: f64, sq: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = sum / n as f64;
    let var = if n > 1 {
        ((sq - n as f64 * mean * mean) / (n - 1) as f64).max(0.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// The factor that takes a feature's spread `have` to `target`, within 1/3..3; 1 where either
/// is flat (a feature the decoder outputs as a constant has no variance to rescale).
fn scale_between(target: f64, have: f64) -> f64 {
    if have > 1e-6 && target > 1e-6 {
        (target / have).clamp(1.0 / MAX_SCALE, MAX_SCALE)
    } else {
        1.0
    }
}

/// Per-feature post-filter of decoded rows (standardised units): `real_mean + scale * (x -
/// recon_mean)`. Empty (a model trained before it existed) leaves rows as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VarianceMatch {
    /// Mean of each feature over the training windows.
    pub real_mean: Vec<f32>,
    /// Mean of each feature over their reconstructions.
    pub recon_mean: Vec<f32>,
    /// SD of the windows over SD of the reconstructions, per feature, within 1/3..3.
    pub scale: Vec<f32>,
    /// SD of each feature over the training windows, kept so the filter can be fitted again
    /// to sampled walks ([`Self::calibrated`]). Empty in models from before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub real_sd: Vec<f32>,
}

impl VarianceMatch {
    /// Fits the filter on the pooled moments of training windows; empty for no frames.
    #[must_use]
    pub fn fit<'a>(windows: impl IntoIterator<Item = &'a Moments>) -> Self {
        let mut total = Moments::of(&[], &[]);
        for w in windows {
            total.frames += w.frames;
            for k in 0..2 {
                for f in 0..FEATURES {
                    total.real[k][f] += w.real[k][f];
                    total.recon[k][f] += w.recon[k][f];
                }
            }
        }
        if total.frames < 2 {
            return Self::default();
        }
        let mut out = Self::default();
        for f in 0..FEATURES {
            let (rm, rs) = mean_sd(total.real[0][f], total.real[1][f], total.frames);
            let (cm, cs) = mean_sd(total.recon[0][f], total.recon[1][f], total.frames);
            let scale = scale_between(rs, cs);
            out.real_mean.push(rm as f32);
            out.recon_mean.push(cm as f32);
            out.scale.push(scale as f32);
            out.real_sd.push(rs as f32);
        }
        out
    }

    /// [`Self::fit`] on one class's windows; empty for fewer than [`MIN_CLASS_WINDOWS`], whose
    /// pooled spread says more about the few walks than about the class.
    #[must_use]
    pub fn fit_class(windows: &[&Moments]) -> Self {
        if windows.len() < MIN_CLASS_WINDOWS {
            return Self::default();
        }
        Self::fit(windows.iter().copied())
    }

    /// The same target (the training windows' mean and SD) fitted to rows the model sampled
    /// and decoded itself, instead of its reconstructions of the training windows: sampling
    /// keeps the common codes and squashes the spread further than decoding alone, which a
    /// filter fitted on reconstructions cannot see. `None` without a target SD (a filter from
    /// before it was kept) or with fewer than two rows.
    #[must_use]
    pub fn calibrated(&self, sampled: &[[f32; FEATURES]]) -> Option<Self> {
        if self.is_empty() || self.real_sd.len() != FEATURES || sampled.len() < 2 {
            return None;
        }
        let mut sums = Moments::of(&[], &[]);
        for r in sampled {
            sums.frames += 1;
            for f in 0..FEATURES {
                let x = f64::from(r[f]);
                sums.recon[0][f] += x;
                sums.recon[1][f] += x * x;
            }
        }
        let mut out = Self {
            real_mean: self.real_mean.clone(),
            real_sd: self.real_sd.clone(),
            ..Self::default()
        };
        for f in 0..FEATURES {
            let (sm, ss) = mean_sd(sums.recon[0][f], sums.recon[1][f], sums.frames);
            let scale = scale_between(f64::from(self.real_sd[f]), ss);
            out.recon_mean.push(sm as f32);
            out.scale.push(scale as f32);
        }
        Some(out)
    }

    /// Whether there is no filter (models trained before it existed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.scale.len() != FEATURES
            || self.real_mean.len() != FEATURES
            || self.recon_mean.len() != FEATURES
    }

    /// `row` with each feature's mean and variance moved to the training windows'.
    #[must_use]
    pub fn apply(&self, row: &[f32; FEATURES]) -> [f32; FEATURES] {
        if self.is_empty() {
            return *row;
        }
        std::array::from_fn(|f| self.real_mean[f] + self.scale[f] * (row[f] - self.recon_mean[f]))
    }

    /// The smallest and largest scale (1, 1 when empty), for provenance and reports.
    #[must_use]
    pub fn scale_range(&self) -> (f32, f32) {
        if self.is_empty() {
            return (1.0, 1.0);
        }
        self.scale
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), s| {
                (lo.min(*s), hi.max(*s))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(f: impl Fn(usize) -> f32, n: usize) -> Vec<[f32; FEATURES]> {
        (0..n).map(|t| [f(t); FEATURES]).collect()
    }

    #[test]
    fn a_shrunk_and_shifted_reconstruction_is_restored() {
        // Real: a wave of SD ~0.7 around 0.2; reconstruction: half its amplitude around 0.
        let wave = |t: usize| (t as f32 * 0.37).sin();
        let real = rows(|t| 0.2 + wave(t), 200);
        let recon = rows(|t| 0.5 * wave(t), 200);
        let m = VarianceMatch::fit([&Moments::of(&real, &recon)]);
        assert!(!m.is_empty());
        for f in 0..FEATURES {
            assert!((m.scale[f] - 2.0).abs() < 1e-3, "{}", m.scale[f]);
        }
        for (r, c) in real.iter().zip(&recon) {
            let back = m.apply(c);
            assert!((back[0] - r[0]).abs() < 1e-3, "{} vs {}", back[0], r[0]);
        }
        assert_eq!(m.scale_range(), (m.scale[0], m.scale[0]));
    }

    #[test]
    fn a_filter_calibrated_on_sampled_rows_gives_them_the_windows_mean_and_sd() {
        let wave = |t: usize| (t as f32 * 0.37).sin();
        let real = rows(|t| 0.2 + wave(t), 300);
        let recon = rows(|t| 0.5 * wave(t), 300);
        let m = VarianceMatch::fit([&Moments::of(&real, &recon)]);
        // Sampled walks squashed further (0.4 of the spread) and shifted: the filter fitted
        // on reconstructions (scale 2) leaves them at 0.8 of the windows' SD; the calibrated
        // one (scale 2.5) restores it.
        let sampled = rows(|t| -0.1 + 0.4 * wave(t + 7), 300);
        let sd = |v: &[[f32; FEATURES]]| {
            let n = v.len() as f32;
            let mean = v.iter().map(|r| r[3]).sum::<f32>() / n;
            let var = v.iter().map(|r| (r[3] - mean).powi(2)).sum::<f32>() / (n - 1.0);
            (mean, var.sqrt())
        };
        let (_, real_sd) = sd(&real);
        let plain: Vec<_> = sampled.iter().map(|r| m.apply(r)).collect();
        assert!(
            (sd(&plain).1 / real_sd - 0.8).abs() < 0.02,
            "{:?}",
            sd(&plain)
        );
        let c = m.calibrated(&sampled).unwrap();
        let fixed: Vec<_> = sampled.iter().map(|r| c.apply(r)).collect();
        let (mean, s) = sd(&fixed);
        assert!((s / real_sd - 1.0).abs() < 1e-3, "{s} vs {real_sd}");
        assert!((mean - sd(&real).0).abs() < 1e-3, "{mean}");
        // Nothing to calibrate against: a filter without its target SD, or one row.
        let old = VarianceMatch {
            real_sd: Vec::new(),
            ..m.clone()
        };
        assert!(old.calibrated(&sampled).is_none());
        assert!(m.calibrated(&sampled[..1]).is_none());
    }

    #[test]
    fn moments_pool_over_windows_as_over_their_frames() {
        let real = rows(|t| (t % 7) as f32, 60);
        let recon = rows(|t| 0.3 * (t % 5) as f32, 60);
        let whole = VarianceMatch::fit([&Moments::of(&real, &recon)]);
        let parts = [
            Moments::of(&real[..25], &recon[..25]),
            Moments::of(&real[25..], &recon[25..]),
        ];
        let pooled = VarianceMatch::fit(&parts);
        for f in 0..FEATURES {
            assert!((whole.scale[f] - pooled.scale[f]).abs() < 1e-4);
            assert!((whole.recon_mean[f] - pooled.recon_mean[f]).abs() < 1e-4);
        }
    }

    #[test]
    fn a_class_filter_sees_the_squashing_that_the_classes_spread_hides() {
        // Two classes 6 apart, each reconstructed at half its own spread: pooled, the gap
        // between the classes (kept by the decoder) dominates and the scale reads ~1.1; per
        // class it is 2.
        let wave = |t: usize| (t as f32 * 0.37).sin();
        let class = |offset: f32| -> Vec<Moments> {
            (0..8)
                .map(|k| {
                    let real = rows(|t| offset + wave(t + 20 * k), 40);
                    let recon = rows(|t| offset + 0.5 * wave(t + 20 * k), 40);
                    Moments::of(&real, &recon)
                })
                .collect()
        };
        let (a, b) = (class(0.0), class(6.0));
        let pooled = VarianceMatch::fit(a.iter().chain(&b));
        assert!(pooled.scale[0] < 1.2, "{}", pooled.scale[0]);
        for c in [&a, &b] {
            let refs: Vec<&Moments> = c.iter().collect();
            let m = VarianceMatch::fit_class(&refs);
            assert!((m.scale[0] - 2.0).abs() < 0.05, "{}", m.scale[0]);
            // Too few windows: no filter of the class's own.
            assert!(VarianceMatch::fit_class(&refs[..MIN_CLASS_WINDOWS - 1]).is_empty());
        }
    }

    #[test]
    fn flat_or_absent_statistics_leave_rows_alone_and_scales_are_bounded() {
        let row = [0.25; FEATURES];
        let same = VarianceMatch::default().apply(&row);
        assert!(same.iter().zip(&row).all(|(a, b)| (a - b).abs() < 1e-9));
        assert!(VarianceMatch::fit([]).is_empty());
        // A constant reconstruction: no variance to scale.
        let m = VarianceMatch::fit([&Moments::of(&rows(|t| t as f32, 10), &rows(|_| 1.0, 10))]);
        assert!(m.scale.iter().all(|s| (*s - 1.0).abs() < 1e-9));
        // A nearly flat one: the scale stops at 3.
        let m = VarianceMatch::fit([&Moments::of(
            &rows(|t| t as f32, 10),
            &rows(|t| 1e-3 * t as f32, 10),
        )]);
        assert!(m.scale.iter().all(|s| (*s - 3.0).abs() < 1e-6));
    }
}
