//! Fixed-length model windows: sequences -> per-frame feature vectors and back.
//!
//! Per frame (canonical frame, resampled to the model rate): the 11 non-pelvis common joints
//! relative to the pelvis (33 values, metres), the pelvis height (1) and the pelvis horizontal
//! velocity (2, m/s). Horizontal position is integrated back from the velocity on decoding, so
//! windows are translation invariant but keep progression.

use serde::{Deserialize, Serialize};

use crate::core::data::preprocess::{normalize_frame, resample_frames};
use crate::core::data::{CommonJoint, GaitSequence, Provenance, Skeleton};
use crate::core::math::Vec3;

/// Features per frame.
pub const FEATURES: usize = 36;

/// Joints encoded relative to the pelvis (all common joints but the pelvis), in feature order.
pub const REL_JOINTS: [CommonJoint; 11] = [
    CommonJoint::SpineMid,
    CommonJoint::Neck,
    CommonJoint::Head,
    CommonJoint::HipL,
    CommonJoint::KneeL,
    CommonJoint::AnkleL,
    CommonJoint::ToeL,
    CommonJoint::HipR,
    CommonJoint::KneeR,
    CommonJoint::AnkleR,
    CommonJoint::ToeR,
];

/// Window geometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowConfig {
    /// Frames per window (a multiple of 4: the encoder downsamples by 4).
    pub frames: usize,
    /// Model frame rate.
    pub fps: f32,
    /// Frames between window starts.
    pub hop: usize,
}

impl WindowConfig {
    /// `frames` made usable as a window length: at least 16, rounded down to a multiple of 4
    /// so the tokeniser's downsampling (by 4 or 2) covers it in whole latent steps.
    #[must_use]
    pub fn whole_frames(frames: usize) -> usize {
        (frames.max(16) / 4) * 4
    }
}

impl Default for WindowConfig {
    fn default() -> Self {
        // 64 frames at 30 Hz = 2.1 s, about two strides.
        Self {
            frames: 64,
            fps: 30.0,
            hop: 16,
        }
    }
}

/// Feature frames of a whole sequence at the model rate; `None` when the rig lacks a common
/// joint or the sequence is shorter than three frames.
#[must_use]
pub fn sequence_features(seq: &GaitSequence, fps: f32) -> Option<Vec<[f32; FEATURES]>> {
    let mut s = seq.clone();
    normalize_frame(&mut s);
    let n = ((s.duration_s() * fps).round() as usize).max(3);
    let s = resample_frames(&s, n);
    let pelvis = s.common_track(CommonJoint::Pelvis)?;
    let tracks: Vec<Vec<Vec3>> = REL_JOINTS
        .iter()
        .map(|j| s.common_track(*j))
        .collect::<Option<_>>()?;
    let dt = 1.0 / s.fps;
    let frames = pelvis.len();
    if frames < 3 {
        return None;
    }
    Some(
        (0..frames)
            .map(|f| {
                let mut v = [0.0f32; FEATURES];
                let p = pelvis[f];
                for (k, t) in tracks.iter().enumerate() {
                    for a in 0..3 {
                        v[3 * k + a] = t[f][a] - p[a];
                    }
                }
                v[33] = p[2];
                let (a, b) = (f.saturating_sub(1), (f + 1).min(frames - 1));
                let span = (b - a) as f32 * dt;
                v[34] = (pelvis[b][0] - pelvis[a][0]) / span;
                v[35] = (pelvis[b][1] - pelvis[a][1]) / span;
                v
            })
            .collect(),
    )
}

/// The same frame seen in a mirror across the body's sagittal plane: left and right legs
/// swap and lateral offsets and velocity change sign. Lets a model learn a one-sided pathology
/// once (affected side left) instead of twice, and mirror its output for the right side.
#[must_use]
pub fn mirror_frame(v: &[f32; FEATURES]) -> [f32; FEATURES] {
    let mut m = *v;
    for k in 0..REL_JOINTS.len() {
        // REL_JOINTS: 0-2 trunk and head, 3-6 left leg, 7-10 right leg.
        let src = match k {
            3..=6 => k + 4,
            7..=10 => k - 4,
            _ => k,
        };
        m[3 * k] = v[3 * src];
        m[3 * k + 1] = -v[3 * src + 1];
        m[3 * k + 2] = v[3 * src + 2];
    }
    m[35] = -v[35];
    m
}

/// The 12 common joints of one feature frame (in [`CommonJoint::ALL`] order: the pelvis, then
/// [`REL_JOINTS`]), with the pelvis at `pelvis_xy` and its stored height.
#[must_use]
pub fn frame_joints(v: &[f32; FEATURES], pelvis_xy: [f32; 2]) -> [Vec3; 12] {
    let pelvis = [pelvis_xy[0], pelvis_xy[1], v[33]];
    let mut p = [pelvis; 12];
    for k in 0..REL_JOINTS.len() {
        p[k + 1] = [
            pelvis[0] + v[3 * k],
            pelvis[1] + v[3 * k + 1],
            pelvis[2] + v[3 * k + 2],
        ];
    }
    p
}

/// Splits row-major `[frames * FEATURES]` values (a tensor read back) into feature frames.
#[must_use]
pub fn feature_rows(data: &[f32]) -> Vec<[f32; FEATURES]> {
    data.chunks_exact(FEATURES)
        .map(|c| {
            let mut row = [0.0f32; FEATURES];
            row.copy_from_slice(c);
            row
        })
        .collect()
}

/// Rebuilds a sequence on the common rig from feature frames (pelvis starts at the origin).
#[must_use]
pub fn features_to_sequence(
    frames: &[[f32; FEATURES]],
    fps: f32,
    id: &str,
    label: Option<String>,
    provenance: Provenance,
) -> GaitSequence {
    let skeleton = Skeleton::common();
    let mut positions = Vec::with_capacity(frames.len() * 12);
    let (mut x, mut y) = (0.0f32, 0.0f32);
    for (f, v) in frames.iter().enumerate() {
        if f > 0 {
            // Trapezoidal integration of the pelvis velocity.
            x += 0.5 * (frames[f - 1][34] + v[34]) / fps;
            y += 0.5 * (frames[f - 1][35] + v[35]) / fps;
        }
        positions.extend(frame_joints(v, [x, y]));
    }
    GaitSequence {
        id: id.to_string(),
        subject: "synthetic".into(),
        label,
        severity: None,
        side: None,
        fps,
        skeleton,
        positions,
        provenance,
        canonical: true,
        events: None,
    }
}

/// Per-feature mean and SD of the training windows; models see standardised features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Means, one per feature.
    pub mean: Vec<f32>,
    /// Standard deviations (floored at 1e-3 so constant features stay finite).
    pub std: Vec<f32>,
}

impl Normalizer {
    /// Fits on frames.
    #[must_use]
    pub fn fit(frames: &[[f32; FEATURES]]) -> Self {
        let n = frames.len().max(1) as f64;
        let mut mean = vec![0.0f64; FEATURES];
        for f in frames {
            for (m, v) in mean.iter_mut().zip(f) {
                *m += f64::from(*v) / n;
            }
        }
        let mut var = vec![0.0f64; FEATURES];
        for f in frames {
            for ((s, v), m) in var.iter_mut().zip(f).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2) / n;
            }
        }
        Self {
            mean: mean.iter().map(|m| *m as f32).collect(),
            std: var.iter().map(|v| (v.sqrt() as f32).max(1e-3)).collect(),
        }
    }

    /// Standardises a frame.
    #[must_use]
    pub fn apply(&self, f: &[f32; FEATURES]) -> [f32; FEATURES] {
        let mut o = [0.0; FEATURES];
        for i in 0..FEATURES {
            o[i] = (f[i] - self.mean[i]) / self.std[i];
        }
        o
    }

    /// Undoes [`Normalizer::apply`].
    #[must_use]
    pub fn invert(&self, f: &[f32; FEATURES]) -> [f32; FEATURES] {
        let mut o = [0.0; FEATURES];
        for i in 0..FEATURES {
            o[i] = f[i] * self.std[i] + self.mean[i];
        }
        o
    }
}

/// Start frames of the windows of a sequence with `frames` frames.
#[must_use]
pub fn window_starts(frames: usize, cfg: &WindowConfig) -> Vec<usize> {
    if frames < cfg.frames {
        return Vec::new();
    }
    (0..=frames - cfg.frames).step_by(cfg.hop.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{GaitParams, generate};

    #[test]
    fn features_round_trip_to_positions() {
        let mut p = GaitParams::normal(1.7, 110.0);
        p.fps = 30.0;
        let s = generate(&p, "a", "s", 1);
        let feats = sequence_features(&s, 30.0).unwrap();
        assert_eq!(feats.len(), s.frames());
        let back = features_to_sequence(&feats, 30.0, "b", None, s.provenance.clone());
        // Same joints relative to the pelvis; pelvis path within 2 cm after integration.
        for f in [0, 40, feats.len() - 1] {
            for c in [CommonJoint::KneeL, CommonJoint::ToeR, CommonJoint::Head] {
                let a = s.common(f, c).unwrap();
                let pa = s.common(f, CommonJoint::Pelvis).unwrap();
                let b = back.common(f, c).unwrap();
                let pb = back.common(f, CommonJoint::Pelvis).unwrap();
                for k in 0..3 {
                    assert!(((a[k] - pa[k]) - (b[k] - pb[k])).abs() < 1e-4);
                }
                assert!((pa[0] - pa0(&s) - pb[0]).abs() < 0.02, "frame {f}");
            }
        }
        let n = Normalizer::fit(&feats);
        let z = n.apply(&feats[10]);
        let r = n.invert(&z);
        assert!(r.iter().zip(&feats[10]).all(|(a, b)| (a - b).abs() < 1e-4));
    }

    fn pa0(s: &GaitSequence) -> f32 {
        s.common(0, CommonJoint::Pelvis).unwrap()[0]
    }

    #[test]
    #[allow(clippy::float_cmp)] // mirroring copies and negates values: exact equality is intended
    fn mirroring_swaps_legs_and_lateral_sign() {
        use crate::core::data::Side;
        use crate::core::demo::Pathology;
        // A left-affected stiff-legged walk, mirrored, is the right-affected one.
        let mut p = GaitParams::normal(1.7, 110.0);
        p.fps = 30.0;
        let left = generate(
            &p.clone()
                .with_pathology(Pathology::StiffLegged, 0.8, Side::Left),
            "l",
            "s",
            1,
        );
        let right = generate(
            &p.with_pathology(Pathology::StiffLegged, 0.8, Side::Right),
            "r",
            "s",
            1,
        );
        let (fl, fr) = (
            sequence_features(&left, 30.0).unwrap(),
            sequence_features(&right, 30.0).unwrap(),
        );
        let f = 20;
        let m = mirror_frame(&fl[f]);
        // Knee L -> knee R: REL_JOINTS index 4 -> 8.
        assert_eq!(m[3 * 8], fl[f][3 * 4]);
        assert_eq!(m[3 * 8 + 1], -fl[f][3 * 4 + 1]);
        assert_eq!(m[35], -fl[f][35]);
        assert_eq!(mirror_frame(&m), fl[f], "mirroring twice is the identity");
        // The stiff knee moves side: the mirrored left walk's right knee stays as straight as
        // the right-affected walk's, within noise.
        let knee_drop = |v: &[[f32; FEATURES]], k: usize| {
            v.iter().map(|x| x[3 * k + 2]).fold(f32::INFINITY, f32::min)
        };
        let ml: Vec<[f32; FEATURES]> = fl.iter().map(mirror_frame).collect();
        assert!((knee_drop(&ml, 8) - knee_drop(&fr, 8)).abs() < 0.02);
        assert!((knee_drop(&ml, 4) - knee_drop(&fr, 4)).abs() < 0.02);
    }

    #[test]
    fn relative_joints_follow_the_common_order() {
        assert_eq!(&CommonJoint::ALL[1..], &REL_JOINTS[..]);
        assert_eq!(CommonJoint::ALL[0], CommonJoint::Pelvis);
    }

    #[test]
    fn windows_tile_the_sequence() {
        let cfg = WindowConfig {
            frames: 64,
            fps: 30.0,
            hop: 16,
        };
        assert_eq!(window_starts(150, &cfg), vec![0, 16, 32, 48, 64, 80]);
        assert!(window_starts(40, &cfg).is_empty());
    }
}
