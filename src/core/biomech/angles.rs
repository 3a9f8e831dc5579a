//! Joint angles from joint positions, and their time-normalisation to the gait cycle.
//!
//! Skeletons carry no segment orientations, so angles are defined from segment directions in
//! the body's walking frame (forward = pelvis heading, up = +Z, lateral = up x forward, i.e.
//! the subject's left). Conventions follow clinical gait reports: flexion, dorsiflexion,
//! adduction, anterior tilt and elevation of the named side are positive.
//! - hip flexion: thigh (hip->knee) inclination from vertical in the sagittal plane
//!   (relative to vertical, because a skeleton's pelvis has no tilt reference);
//! - knee flexion: thigh inclination minus shank (knee->ankle) inclination;
//! - ankle dorsiflexion: foot (ankle->toe) pitch minus shank inclination, with the foot's
//!   pitch at mid-stance (15-35 % of the cycle, foot flat) taken as neutral;
//! - hip adduction: thigh medial inclination in the frontal plane plus that side's pelvic
//!   elevation (so it is relative to the pelvis);
//! - pelvic obliquity: elevation of the named side's hip over the other, frontal plane;
//! - pelvic tilt: lower-trunk (pelvis->spine) forward inclination;
//! - trunk lean: pelvis->neck inclination, forward and toward the named side.

use serde::{Deserialize, Serialize};

use super::events::Cycle;
use crate::core::data::preprocess::heading_track;
use crate::core::data::{CommonJoint, GaitSequence, Side};
use crate::core::math::{Vec3, dot, median, resample_linear, std_dev, sub};

/// Points in a time-normalised cycle curve (0, 1, ..., 100 % of the gait cycle).
pub const CYCLE_POINTS: usize = 101;

/// An angle variable reported per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AngleVar {
    /// Pelvic tilt (anterior +).
    PelvicTilt,
    /// Pelvic obliquity (this side up +).
    PelvicObliquity,
    /// Hip flexion (+) / extension (-).
    HipFlexion,
    /// Hip adduction (+) / abduction (-).
    HipAdduction,
    /// Knee flexion (+).
    KneeFlexion,
    /// Ankle dorsiflexion (+) / plantarflexion (-).
    AnkleDorsiflexion,
    /// Trunk forward lean (+).
    TrunkLeanForward,
    /// Trunk lean toward this side (+).
    TrunkLeanLateral,
    /// Arm swing: the upper arm's forward inclination relative to the trunk's line (+).
    ShoulderFlexion,
    /// Elbow flexion (+).
    ElbowFlexion,
}

impl AngleVar {
    /// All variables, in report order (the arm variables last: they exist only for rigs
    /// with arms).
    pub const ALL: [Self; 10] = [
        Self::PelvicTilt,
        Self::PelvicObliquity,
        Self::HipFlexion,
        Self::HipAdduction,
        Self::KneeFlexion,
        Self::AnkleDorsiflexion,
        Self::TrunkLeanForward,
        Self::TrunkLeanLateral,
        Self::ShoulderFlexion,
        Self::ElbowFlexion,
    ];

    /// Whether this is an arm variable (kept out of the Gait Profile Score, which Baker et al.
    /// 2009 define over pelvis and lower-limb kinematics).
    #[must_use]
    pub fn is_arm(self) -> bool {
        matches!(self, Self::ShoulderFlexion | Self::ElbowFlexion)
    }

    /// Human-readable name with sign convention.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::PelvicTilt => "Pelvic tilt (ant +)",
            Self::PelvicObliquity => "Pelvic obliquity (up +)",
            Self::HipFlexion => "Hip flexion (+)",
            Self::HipAdduction => "Hip adduction (+)",
            Self::KneeFlexion => "Knee flexion (+)",
            Self::AnkleDorsiflexion => "Ankle dorsiflexion (+)",
            Self::TrunkLeanForward => "Trunk lean forward (+)",
            Self::TrunkLeanLateral => "Trunk lean to side (+)",
            Self::ShoulderFlexion => "Arm swing: shoulder flexion (+)",
            Self::ElbowFlexion => "Elbow flexion (+)",
        }
    }

    /// Short `snake_case` key used in feature tables and files.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::PelvicTilt => "pelvic_tilt",
            Self::PelvicObliquity => "pelvic_obliquity",
            Self::HipFlexion => "hip_flexion",
            Self::HipAdduction => "hip_adduction",
            Self::KneeFlexion => "knee_flexion",
            Self::AnkleDorsiflexion => "ankle_dorsiflexion",
            Self::TrunkLeanForward => "trunk_lean_forward",
            Self::TrunkLeanLateral => "trunk_lean_lateral",
            Self::ShoulderFlexion => "shoulder_flexion",
            Self::ElbowFlexion => "elbow_flexion",
        }
    }
}

/// Per-frame angle tracks (degrees) of one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AngleTracks {
    /// Side.
    pub side: Side,
    /// `(variable, per-frame degrees)`; NaN where a joint is missing.
    pub tracks: Vec<(AngleVar, Vec<f64>)>,
}

/// Mean and SD over cycles of one variable on one side, 101 points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleCurve {
    /// Variable.
    pub var: AngleVar,
    /// Side.
    pub side: Side,
    /// Mean over cycles at 0..=100 % (degrees).
    pub mean: Vec<f64>,
    /// Between-cycle SD at each point (0 with one cycle).
    pub sd: Vec<f64>,
    /// Number of cycles averaged.
    pub cycles: usize,
}

impl CycleCurve {
    /// Range of motion of the mean curve (max - min), degrees.
    #[must_use]
    pub fn rom_deg(&self) -> f64 {
        let max = self.mean.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = self.mean.iter().copied().fold(f64::INFINITY, f64::min);
        max - min
    }
}

fn incline(v: Vec3, axis: Vec3, up: Vec3) -> f64 {
    f64::from(dot(v, axis))
        .atan2(-f64::from(dot(v, up)))
        .to_degrees()
}

fn elevation(v: Vec3, axis: Vec3, up: Vec3) -> f64 {
    f64::from(dot(v, up))
        .atan2(f64::from(dot(v, axis)))
        .to_degrees()
}

/// Computes per-frame angle tracks for both sides of a canonical sequence; `None` when the rig
/// lacks a required joint.
#[must_use]
pub fn angle_tracks(seq: &GaitSequence) -> Option<[AngleTracks; 2]> {
    let t = |j| seq.common_track(j);
    let pelvis = t(CommonJoint::Pelvis)?;
    let (hl, kl, al, tl) = (
        t(CommonJoint::HipL)?,
        t(CommonJoint::KneeL)?,
        t(CommonJoint::AnkleL)?,
        t(CommonJoint::ToeL)?,
    );
    let (hr, kr, ar, tr) = (
        t(CommonJoint::HipR)?,
        t(CommonJoint::KneeR)?,
        t(CommonJoint::AnkleR)?,
        t(CommonJoint::ToeR)?,
    );
    let spine = t(CommonJoint::SpineMid);
    let neck = t(CommonJoint::Neck);
    let arms = [
        [
            t(CommonJoint::ShoulderL),
            t(CommonJoint::ElbowL),
            t(CommonJoint::WristL),
        ],
        [
            t(CommonJoint::ShoulderR),
            t(CommonJoint::ElbowR),
            t(CommonJoint::WristR),
        ],
    ];
    let heading = heading_track(&pelvis, seq.fps);
    let up: Vec3 = [0.0, 0.0, 1.0];
    let n = pelvis.len();
    let mut out = Side::BOTH.map(|side| AngleTracks {
        side,
        tracks: Vec::new(),
    });
    for (si, side) in Side::BOTH.into_iter().enumerate() {
        let s = if side == Side::Left { 1.0f32 } else { -1.0 };
        let (hip, knee, ankle, toe) = if side == Side::Left {
            (&hl, &kl, &al, &tl)
        } else {
            (&hr, &kr, &ar, &tr)
        };
        let mut cols: Vec<(AngleVar, Vec<f64>)> = AngleVar::ALL
            .iter()
            .map(|v| (*v, Vec::with_capacity(n)))
            .collect();
        for f in 0..n {
            let fwd = heading[f];
            let lat: Vec3 = [-fwd[1], fwd[0], 0.0];
            let thigh = sub(knee[f], hip[f]);
            let shank = sub(ankle[f], knee[f]);
            let foot = sub(toe[f], ankle[f]);
            let hip_line = sub(hl[f], hr[f]);
            let obliq = s as f64
                * f64::from(dot(hip_line, up))
                    .atan2(f64::from(dot(hip_line, lat)))
                    .to_degrees();
            let thigh_sag = incline(thigh, fwd, up);
            let shank_sag = incline(shank, fwd, up);
            let medial = incline(thigh, scale_axis(lat, -s), up);
            let trunk_fwd = neck.as_ref().map_or(f64::NAN, |nk| {
                incline(sub(nk[f], pelvis[f]), fwd, [0.0, 0.0, -1.0])
            });
            let (shoulder, elbow) = arm_angles(&arms[si], f, fwd, up, trunk_fwd);
            let vals = [
                spine.as_ref().map_or(f64::NAN, |sp| {
                    incline(sub(sp[f], pelvis[f]), fwd, [0.0, 0.0, -1.0])
                }),
                obliq,
                thigh_sag,
                medial + obliq,
                thigh_sag - shank_sag,
                elevation(foot, fwd, up) - shank_sag,
                trunk_fwd,
                neck.as_ref().map_or(f64::NAN, |nk| {
                    incline(sub(nk[f], pelvis[f]), scale_axis(lat, s), [0.0, 0.0, -1.0])
                }),
                shoulder,
                elbow,
            ];
            for (c, v) in cols.iter_mut().zip(vals) {
                c.1.push(v);
            }
        }
        out[si].tracks = cols;
    }
    Some(out)
}

/// Shoulder flexion (upper arm forward of the trunk's line: its sagittal inclination from
/// hanging straight down, plus the trunk's forward lean) and elbow flexion (forearm inclination
/// minus upper-arm inclination) at frame `f`; NaN without arms.
fn arm_angles(
    arm: &[Option<Vec<Vec3>>; 3],
    f: usize,
    fwd: Vec3,
    up: Vec3,
    trunk_fwd: f64,
) -> (f64, f64) {
    let [Some(sh), Some(el), Some(wr)] = arm else {
        return (f64::NAN, f64::NAN);
    };
    let upper = incline(sub(el[f], sh[f]), fwd, up);
    let fore = incline(sub(wr[f], el[f]), fwd, up);
    (upper + trunk_fwd, fore - upper)
}

fn scale_axis(a: Vec3, s: f32) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// Time-normalises one side's tracks over its cycles and averages them. The ankle's neutral
/// (foot-flat) offset is removed here because it needs the cycles.
#[must_use]
pub fn cycle_curves(tracks: &AngleTracks, cycles: &[Cycle]) -> Vec<CycleCurve> {
    if cycles.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (var, track) in &tracks.tracks {
        let mut per_cycle: Vec<Vec<f64>> = cycles
            .iter()
            .filter(|c| c.end < track.len())
            .map(|c| resample_linear(&track[c.start..=c.end], CYCLE_POINTS))
            .collect();
        if per_cycle.is_empty() || per_cycle.iter().any(|c| c.iter().any(|v| !v.is_finite())) {
            continue;
        }
        if *var == AngleVar::AnkleDorsiflexion {
            let flat: Vec<f64> = per_cycle
                .iter()
                .flat_map(|c| c[15..=35].iter().copied())
                .collect();
            let neutral = median(&flat).unwrap_or(0.0);
            for c in &mut per_cycle {
                for v in c.iter_mut() {
                    *v -= neutral;
                }
            }
        }
        let mean: Vec<f64> = (0..CYCLE_POINTS)
            .map(|i| per_cycle.iter().map(|c| c[i]).sum::<f64>() / per_cycle.len() as f64)
            .collect();
        let sd: Vec<f64> = (0..CYCLE_POINTS)
            .map(|i| std_dev(&per_cycle.iter().map(|c| c[i]).collect::<Vec<_>>()).unwrap_or(0.0))
            .collect();
        out.push(CycleCurve {
            var: *var,
            side: tracks.side,
            mean,
            sd,
            cycles: per_cycle.len(),
        });
    }
    out
}
