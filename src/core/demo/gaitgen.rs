//! The parametric gait generator: pathology-edited joint-angle curves, stance-phase timing,
//! and forward kinematics with ground contact, producing labelled synthetic walks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::body::{Body, LegPose, Pose, kinect_joints, lowest_foot_z};
use super::curves::SideCurves;
use crate::core::data::{GaitSequence, Provenance, Side, Skeleton};
use crate::core::math::Vec3;

/// The six classes of the Jun et al. 2020 dataset, named as in its folder layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pathology {
    /// Typical gait.
    Normal,
    /// Pain avoidance: short stance on the painful side.
    Antalgic,
    /// Gluteus maximus (backward trunk) lurch.
    Lurch,
    /// Foot drop: plantarflexed swing, high hip/knee lift.
    Steppage,
    /// Knee held extended through swing, with circumduction and hip hiking.
    StiffLegged,
    /// Weak hip abductors: contralateral pelvic drop in stance, trunk lean over the stance leg.
    Trendelenburg,
}

impl Pathology {
    /// All classes.
    pub const ALL: [Self; 6] = [
        Self::Normal,
        Self::Antalgic,
        Self::Lurch,
        Self::Steppage,
        Self::StiffLegged,
        Self::Trendelenburg,
    ];

    /// Label as in the Kinect dataset's folders.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Antalgic => "antalgic",
            Self::Lurch => "lurch",
            Self::Steppage => "steppage",
            Self::StiffLegged => "stiff_legged",
            Self::Trendelenburg => "trendelenburg",
        }
    }

    /// Parses a label (also "lurching", "stiff-legged", "stiff", "trendelenburg").
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let n: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphabetic)
            .collect();
        match n.as_str() {
            "normal" | "healthy" => Some(Self::Normal),
            "antalgic" => Some(Self::Antalgic),
            "lurch" | "lurching" => Some(Self::Lurch),
            "steppage" => Some(Self::Steppage),
            "stiffleg" | "stifflegged" | "stiff" | "stiffknee" => Some(Self::StiffLegged),
            "trendelenburg" => Some(Self::Trendelenburg),
            _ => None,
        }
    }
}

/// Everything that defines one synthetic walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaitParams {
    /// Class.
    pub pathology: Pathology,
    /// Severity in [0, 1] (0 = as normal).
    pub severity: f32,
    /// Affected side.
    pub side: Side,
    /// Body height, m.
    pub height_m: f32,
    /// Steps per minute.
    pub cadence_steps_min: f32,
    /// Stride length, m.
    pub stride_length_m: f32,
    /// Stance as % of stride `[left, right]`.
    pub stance_pct: [f32; 2],
    /// Phase of right heel strike within the left cycle (0.5 = symmetric steps).
    pub right_offset: f32,
    /// Curves `[left, right]`.
    pub curves: [SideCurves; 2],
    /// Static trunk forward lean, degrees.
    pub trunk_forward_deg: f32,
    /// Pelvic tilt of the lower trunk, degrees.
    pub pelvic_tilt_deg: f32,
    /// Frames per second.
    pub fps: f32,
    /// Duration, s.
    pub duration_s: f32,
    /// SD of per-coordinate sensor noise, m.
    pub noise_m: f32,
}

impl GaitParams {
    /// Typical walk of a subject of `height_m` at `cadence` steps/min.
    #[must_use]
    pub fn normal(height_m: f32, cadence: f32) -> Self {
        Self {
            pathology: Pathology::Normal,
            severity: 0.0,
            side: Side::Left,
            height_m,
            cadence_steps_min: cadence,
            // Stride length grows with height and cadence (Grieve's relation, roughly).
            stride_length_m: height_m * (0.72 + 0.003 * (cadence - 110.0)),
            stance_pct: [60.0, 60.0],
            right_offset: 0.5,
            curves: [SideCurves::normal(), SideCurves::normal()],
            trunk_forward_deg: 3.0,
            pelvic_tilt_deg: 8.0,
            fps: 30.0,
            duration_s: 5.0,
            noise_m: 0.0,
        }
    }

    /// Applies a pathology of `severity` on `side` to these (normal) parameters.
    #[must_use]
    pub fn with_pathology(mut self, p: Pathology, severity: f32, side: Side) -> Self {
        let s = severity.clamp(0.0, 1.0);
        let a = usize::from(side == Side::Right);
        let o = 1 - a;
        self.pathology = p;
        self.severity = s;
        self.side = side;
        let sign = if side == Side::Left { 1.0 } else { -1.0 };
        match p {
            Pathology::Normal => {}
            Pathology::Antalgic => {
                self.stance_pct[a] -= 10.0 * s;
                self.stance_pct[o] += 4.0 * s;
                // The sound foot lands early: shorter step onto it.
                self.right_offset -= sign * 0.07 * s;
                self.cadence_steps_min *= 1.0 - 0.08 * s;
                self.stride_length_m *= 1.0 - 0.18 * s;
                let c = &mut self.curves[a];
                c.knee_flexion.add(5.0, 40.0, -8.0 * s);
                c.hip_flexion.scale_about(0.0, 1.0 - 0.25 * s);
                c.ankle_dorsiflexion.scale_about(0.0, 1.0 - 0.35 * s);
                c.trunk_lateral.add(10.0, 35.0, 5.0 * s);
            }
            Pathology::Lurch => {
                self.cadence_steps_min *= 1.0 - 0.1 * s;
                self.stride_length_m *= 1.0 - 0.12 * s;
                let c = &mut self.curves[a];
                c.trunk_forward.add(5.0, 45.0, -14.0 * s);
                c.hip_flexion.add(40.0, 60.0, -4.0 * s);
                self.trunk_forward_deg -= 2.0 * s;
            }
            Pathology::Steppage => {
                self.cadence_steps_min *= 1.0 - 0.06 * s;
                let c = &mut self.curves[a];
                c.ankle_dorsiflexion.add(0.0, 8.0, -10.0 * s);
                c.ankle_dorsiflexion.add(62.0, 100.0, -18.0 * s);
                c.hip_flexion.add(70.0, 90.0, 14.0 * s);
                c.knee_flexion.add(65.0, 82.0, 20.0 * s);
            }
            Pathology::StiffLegged => {
                self.cadence_steps_min *= 1.0 - 0.1 * s;
                self.stride_length_m *= 1.0 - 0.1 * s;
                let c = &mut self.curves[a];
                c.knee_flexion.scale_about(4.0, 1.0 - 0.75 * s);
                c.hip_adduction.add(60.0, 85.0, -10.0 * s);
                c.pelvic_obliquity.add(60.0, 85.0, 9.0 * s);
                self.curves[o].ankle_dorsiflexion.add(40.0, 55.0, -8.0 * s);
            }
            Pathology::Trendelenburg => {
                self.cadence_steps_min *= 1.0 - 0.05 * s;
                let c = &mut self.curves[a];
                c.pelvic_obliquity.add(5.0, 50.0, 7.0 * s);
                c.trunk_lateral.add(5.0, 45.0, 8.0 * s);
                c.hip_adduction.add(5.0, 45.0, 6.0 * s);
            }
        }
        self
    }

    /// Stride time, s.
    #[must_use]
    pub fn stride_time_s(&self) -> f32 {
        120.0 / self.cadence_steps_min
    }

    /// One-line summary for provenance.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "{} severity {:.2} side {} height {:.2} m cadence {:.1} steps/min stride {:.2} m stance L/R {:.1}/{:.1} %",
            self.pathology.label(),
            self.severity,
            self.side.letter(),
            self.height_m,
            self.cadence_steps_min,
            self.stride_length_m,
            self.stance_pct[0],
            self.stance_pct[1]
        )
    }
}

/// Where the canonical curves' toe leaves its most posterior point relative to the pelvis
/// (Zeni's toe-off definition), as a fraction of their cycle. The textbook curves put toe off
/// at 60 %, but on this rigid-foot model the toe keeps moving back while the ankle
/// plantarflexes, so event detection sees it here; mapping stance onto this point makes
/// `stance_pct` the stance that analysis measures (checked by the demo metric tests).
const CURVE_TOE_OFF: f32 = 0.655;

/// Maps a side's own phase to the canonical curve phase, where stance spans 0-`CURVE_TOE_OFF`.
fn canonical_phase(phase: f32, stance_pct: f32) -> f32 {
    let p = phase.rem_euclid(1.0);
    let st = (stance_pct / 100.0).clamp(0.3, 0.85);
    let c = CURVE_TOE_OFF;
    if p < st {
        c * p / st
    } else {
        c + (1.0 - c) * (p - st) / (1.0 - st)
    }
}

/// Generates the walk in the canonical frame on the Kinect v2 rig, labelled synthetic.
#[must_use]
pub fn generate(params: &GaitParams, id: &str, subject: &str, seed: u64) -> GaitSequence {
    let body = Body::from_height(params.height_m);
    let frames = (params.duration_s * params.fps).round().max(2.0) as usize;
    let stride_t = params.stride_time_s();
    let speed = params.stride_length_m / stride_t;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start_phase: f32 = rng.random_range(0.0..1.0);
    let mut positions: Vec<Vec3> = Vec::with_capacity(frames * 25);
    for f in 0..frames {
        let t = f as f32 / params.fps;
        let ph_l = start_phase + t / stride_t;
        let ph = [ph_l, ph_l - params.right_offset];
        let q = [
            canonical_phase(ph[0], params.stance_pct[0]),
            canonical_phase(ph[1], params.stance_pct[1]),
        ];
        let c = &params.curves;
        let leg = |k: usize| LegPose {
            hip_flexion: c[k].hip_flexion.at(q[k]),
            hip_adduction: c[k].hip_adduction.at(q[k]),
            knee_flexion: c[k].knee_flexion.at(q[k]),
            ankle_dorsiflexion: c[k].ankle_dorsiflexion.at(q[k]),
        };
        let obliquity = 0.5 * (c[0].pelvic_obliquity.at(q[0]) - c[1].pelvic_obliquity.at(q[1]));
        let trunk_left = 0.5 * (c[0].trunk_lateral.at(q[0]) - c[1].trunk_lateral.at(q[1]));
        let trunk_fwd =
            params.trunk_forward_deg + c[0].trunk_forward.at(q[0]) + c[1].trunk_forward.at(q[1]);
        let sway = 0.015
            * params.height_m
            * (2.0 * std::f32::consts::PI * (ph_l.rem_euclid(1.0) - 0.15)).sin();
        let mut pose = Pose {
            pelvis: [speed * t, sway, 0.0],
            pelvic_obliquity: obliquity,
            pelvic_tilt: params.pelvic_tilt_deg,
            trunk_forward: trunk_fwd,
            trunk_left,
            legs: [leg(0), leg(1)],
        };
        let probe = kinect_joints(&body, &pose);
        pose.pelvis[2] = -lowest_foot_z(&body, &probe);
        let joints = kinect_joints(&body, &pose);
        for p in joints {
            let n = if params.noise_m > 0.0 {
                [
                    gauss(&mut rng) * params.noise_m,
                    gauss(&mut rng) * params.noise_m,
                    gauss(&mut rng) * params.noise_m,
                ]
            } else {
                [0.0; 3]
            };
            positions.push([p[0] + n[0], p[1] + n[1], p[2] + n[2]]);
        }
    }
    GaitSequence {
        id: id.to_string(),
        subject: subject.to_string(),
        label: Some(params.pathology.label().to_string()),
        severity: (params.pathology != Pathology::Normal).then_some(params.severity),
        side: (params.pathology != Pathology::Normal).then_some(params.side),
        fps: params.fps,
        skeleton: Skeleton::kinect_v2(),
        positions,
        provenance: Provenance::SyntheticDemo {
            seed,
            params: params.summary(),
        },
        canonical: true,
        events: None,
    }
}

/// Standard normal sample (Box-Muller), to avoid another dependency for one distribution.
fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}
