//! The parametric gait generator: pathology-edited joint-angle curves, stance-phase timing,
//! and forward kinematics with ground contact, producing labelled synthetic walks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::body::{ArmPose, Body, LegPose, Pose, kinect_joints, lowest_foot_z};
use super::curves::SideCurves;
use super::pathology::{Pathology, apply};
use crate::core::data::{GaitSequence, Provenance, Side, Skeleton};
use crate::core::math::Vec3;

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
    /// Stride-to-stride variability: SD of stride time over its mean (0 = every stride alike).
    #[serde(default)]
    pub stride_cv: f32,
    /// Festination: cadence rises and strides shorten by this fraction over the walk (0 = none).
    #[serde(default)]
    pub festination: f32,
    /// Crouch gait: calcaneus (excess dorsiflexion) instead of equinus.
    #[serde(default)]
    pub calcaneus: bool,
    /// Leg length relative to the adult body model (children's legs are shorter for their
    /// height; see [`super::age`]).
    #[serde(default = "one")]
    pub leg_scale: f32,
    /// Age of the virtual subject, years, when drawn from age norms.
    #[serde(default)]
    pub age_years: Option<f32>,
}

fn one() -> f32 {
    1.0
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
            stride_cv: 0.0,
            festination: 0.0,
            calcaneus: false,
            leg_scale: 1.0,
            age_years: None,
        }
    }

    /// Applies a pathology of `severity` on `side` to these (normal) parameters.
    #[must_use]
    pub fn with_pathology(mut self, p: Pathology, severity: f32, side: Side) -> Self {
        let s = severity.clamp(0.0, 1.0);
        self.pathology = p;
        self.severity = s;
        self.side = side;
        apply(&mut self, p, s, side);
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
        let side = if self.pathology.has_side() {
            self.side.letter()
        } else {
            "both"
        };
        let mut t = format!(
            "{} severity {:.2} side {side} height {:.2} m cadence {:.1} steps/min stride {:.2} m stance L/R {:.1}/{:.1} %",
            self.pathology.label(),
            self.severity,
            self.height_m,
            self.cadence_steps_min,
            self.stride_length_m,
            self.stance_pct[0],
            self.stance_pct[1]
        );
        if let Some(age) = self.age_years {
            t = format!("{t} age {age:.0} y leg scale {:.3}", self.leg_scale);
        }
        if self.stride_cv > 0.0 {
            t = format!("{t} stride-time CV {:.1} %", 100.0 * self.stride_cv);
        }
        if self.festination > 0.0 {
            t = format!("{t} festination {:.2}", self.festination);
        }
        if self.pathology == Pathology::Crouch {
            t = format!(
                "{t} ankle {}",
                if self.calcaneus {
                    "calcaneus"
                } else {
                    "equinus"
                }
            );
        }
        t
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
    let body = Body::for_legs(params.height_m, params.leg_scale);
    let frames = (params.duration_s * params.fps).round().max(2.0) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start_phase: f32 = rng.random_range(0.0..1.0);
    // Stride noise has its own stream, so walks without it keep their sensor noise.
    let mut stride_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_57D1_DE00_0001);
    let line = Timeline::new(
        params,
        start_phase,
        frames as f32 / params.fps,
        &mut stride_rng,
    );
    let mut positions: Vec<Vec3> = Vec::with_capacity(frames * 25);
    let mut k = 0usize;
    for f in 0..frames {
        let t = f as f32 / params.fps;
        while k + 1 < line.starts.len() && t >= line.starts[k + 1] {
            k += 1;
        }
        let (ph_l, x) = line.at(k, t);
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
        // Each arm follows the opposite leg's phase (see `SideCurves::shoulder_flexion`).
        let arm = |k: usize| ArmPose {
            shoulder_flexion: c[k].shoulder_flexion.at(q[1 - k]),
            elbow_flexion: c[k].elbow_flexion.at(q[1 - k]),
        };
        let mut pose = Pose {
            pelvis: [x, sway, 0.0],
            pelvic_obliquity: obliquity,
            pelvic_tilt: params.pelvic_tilt_deg,
            trunk_forward: trunk_fwd,
            trunk_left,
            legs: [leg(0), leg(1)],
            arms: [arm(0), arm(1)],
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
        side: params.pathology.has_side().then_some(params.side),
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

/// The walk's strides in time: where each starts, how long it lasts and how far the pelvis
/// travels in it, so phase and progression follow stride-to-stride variability and
/// festination. Stride `k` spans the left leg's phase `[k, k + 1)`; stride 0 starts before
/// the first frame, at the walk's random start phase.
struct Timeline {
    /// Start of each stride, s (the first is at or before 0).
    starts: Vec<f32>,
    /// Duration of each stride, s.
    durations: Vec<f32>,
    /// Pelvis travel of each stride, m.
    lengths: Vec<f32>,
    /// Pelvis position at each stride's start, m.
    x0: Vec<f32>,
}

impl Timeline {
    fn new(p: &GaitParams, start_phase: f32, total_s: f32, rng: &mut ChaCha8Rng) -> Self {
        let t_mean = p.stride_time_s();
        let mut line = Self {
            starts: vec![-start_phase * t_mean],
            durations: Vec::new(),
            lengths: Vec::new(),
            x0: Vec::new(),
        };
        let speed = p.stride_length_m / t_mean;
        line.x0.push(line.starts[0] * speed);
        loop {
            let k = line.durations.len();
            let start = line.starts[k];
            let progress = (start / total_s.max(1e-3)).clamp(0.0, 1.0);
            // Festination: quicker, shorter steps as the walk goes on.
            let fest = p.festination * progress;
            let mut d = t_mean / (1.0 + fest);
            if p.stride_cv > 0.0 {
                d *= (1.0 + p.stride_cv * gauss(rng)).clamp(0.7, 1.3);
            }
            let len = p.stride_length_m * (1.0 - fest) * d / (t_mean / (1.0 + fest));
            line.durations.push(d);
            line.lengths.push(len);
            let end = start + d;
            line.starts.push(end);
            line.x0.push(line.x0[k] + len);
            if end > total_s {
                break;
            }
        }
        line
    }

    /// Left-leg phase and pelvis position at time `t` within stride `k`.
    fn at(&self, k: usize, t: f32) -> (f32, f32) {
        let k = k.min(self.durations.len() - 1);
        let u = (t - self.starts[k]) / self.durations[k];
        (k as f32 + u, self.x0[k] + u * self.lengths[k])
    }
}

/// Standard normal sample (Box-Muller), to avoid another dependency for one distribution.
fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}
