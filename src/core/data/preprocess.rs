//! Preprocessing to one convention: metres, Z up, walking along +X with the left side at +Y.
//!
//! Also: missing-sample repair (NaN gaps, outliers) with a per-file report, zero-phase
//! Butterworth smoothing, root-centring and resampling to a fixed length.

use serde::{Deserialize, Serialize};

use super::sequence::GaitSequence;
use super::skeleton::{Axis, CommonJoint, JointDef, Skeleton};
use crate::core::math::{Vec3, dot, is_finite, median, norm, quantile, sub};

/// Thresholds for [`clean`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CleanConfig {
    /// Any coordinate beyond this absolute value (metres) is an outlier (Kinect: 4 m).
    pub max_abs_coord_m: Option<f32>,
    /// A joint farther than this from the frame's median joint is an outlier.
    pub max_from_body_m: f32,
    /// A joint farther than this from its own 5-frame temporal median is a spike.
    pub max_spike_m: f32,
    /// Gaps longer than this are still interpolated but reported as long gaps.
    pub max_gap_s: f32,
}

impl Default for CleanConfig {
    fn default() -> Self {
        Self {
            max_abs_coord_m: None,
            max_from_body_m: 1.5,
            max_spike_m: 0.3,
            max_gap_s: 0.25,
        }
    }
}

/// A gap in one joint's track that was longer than [`CleanConfig::max_gap_s`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongGap {
    /// Joint name.
    pub joint: String,
    /// First missing frame (in the original numbering).
    pub start_frame: usize,
    /// Number of missing frames.
    pub frames: usize,
}

/// What [`clean`] found and did to one sequence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CleanReport {
    /// Frames in which every coordinate was missing (e.g. NaN rows in Kinect files).
    pub empty_frames: usize,
    /// Frames with at least one missing coordinate before repair.
    pub incomplete_frames: usize,
    /// Samples (joint x frame) rejected as outliers.
    pub outlier_samples: usize,
    /// Samples filled by linear interpolation.
    pub interpolated_samples: usize,
    /// Frames dropped at the start because required joints were missing there.
    pub trimmed_start: usize,
    /// Frames dropped at the end.
    pub trimmed_end: usize,
    /// Gaps longer than the configured limit.
    pub long_gaps: Vec<LongGap>,
    /// Joints never tracked in any frame, removed from the rig (only joints that gait
    /// analysis does not need; a needed one is an error).
    pub removed_joints: Vec<String>,
}

impl CleanReport {
    /// True when nothing had to be repaired.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.incomplete_frames == 0
            && self.outlier_samples == 0
            && self.trimmed_start == 0
            && self.trimmed_end == 0
    }

    /// One line per kind of repair, for import summaries.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.removed_joints.is_empty() {
            out.push(format!(
                "never tracked, removed from the rig: {}",
                self.removed_joints.join(", ")
            ));
        }
        if self.empty_frames > 0 {
            out.push(format!("{} empty (all-NaN) frame(s)", self.empty_frames));
        }
        if self.incomplete_frames > self.empty_frames {
            out.push(format!(
                "{} frame(s) with missing joints",
                self.incomplete_frames - self.empty_frames
            ));
        }
        if self.outlier_samples > 0 {
            out.push(format!(
                "{} outlier sample(s) rejected",
                self.outlier_samples
            ));
        }
        if self.interpolated_samples > 0 {
            out.push(format!(
                "{} sample(s) interpolated",
                self.interpolated_samples
            ));
        }
        if self.trimmed_start + self.trimmed_end > 0 {
            out.push(format!(
                "trimmed {} frame(s) at start, {} at end",
                self.trimmed_start, self.trimmed_end
            ));
        }
        for g in &self.long_gaps {
            out.push(format!(
                "long gap: {} missing for {} frames from frame {}",
                g.joint, g.frames, g.start_frame
            ));
        }
        out
    }
}

/// Why a sequence could not be repaired.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    /// Fewer usable frames than the minimum after cleaning.
    #[error("only {valid} usable frame(s) after removing missing data (need at least {needed})")]
    TooFewFrames {
        /// Frames left.
        valid: usize,
        /// Frames needed.
        needed: usize,
    },
    /// A required joint never has a valid position.
    #[error("joint '{0}' has no valid position in any frame")]
    JointNeverSeen(String),
}

/// Rejects outliers, interpolates gaps and trims unusable ends, in place.
///
/// # Errors
/// When fewer than 10 frames remain or a joint is never observed.
pub fn clean(seq: &mut GaitSequence, cfg: &CleanConfig) -> Result<CleanReport, PreprocessError> {
    let nj = seq.skeleton.joint_count();
    let nf = seq.frames();
    let mut report = CleanReport::default();
    for f in 0..nf {
        let fr = seq.frame(f);
        if fr.iter().all(|p| p.iter().all(|v| !v.is_finite())) {
            report.empty_frames += 1;
        }
        if !fr.iter().all(|p| is_finite(*p)) {
            report.incomplete_frames += 1;
        }
    }
    // Any non-finite coordinate invalidates the whole joint sample.
    for p in &mut seq.positions {
        if !is_finite(*p) {
            *p = [f32::NAN; 3];
        }
    }
    let reject = |p: &mut Vec3, report: &mut CleanReport| {
        *p = [f32::NAN; 3];
        report.outlier_samples += 1;
    };
    for f in 0..nf {
        let row = &mut seq.positions[f * nj..(f + 1) * nj];
        if let Some(lim) = cfg.max_abs_coord_m {
            for p in row.iter_mut() {
                if is_finite(*p) && p.iter().any(|v| v.abs() > lim) {
                    reject(p, &mut report);
                }
            }
        }
        let centre = frame_median(row);
        if let Some(c) = centre {
            for p in row.iter_mut() {
                if is_finite(*p) && norm(sub(*p, c)) > cfg.max_from_body_m {
                    reject(p, &mut report);
                }
            }
        }
    }
    // Temporal spikes: a monotone track equals its 5-frame median, so only glitches deviate.
    for j in 0..nj {
        let track: Vec<Vec3> = (0..nf).map(|f| seq.positions[f * nj + j]).collect();
        for f in 0..nf {
            if !is_finite(track[f]) {
                continue;
            }
            let lo = f.saturating_sub(2);
            let hi = (f + 3).min(nf);
            let window: Vec<Vec3> = track[lo..hi]
                .iter()
                .copied()
                .filter(|p| is_finite(*p))
                .collect();
            if window.len() < 3 {
                continue;
            }
            if let Some(m) = frame_median(&window)
                && norm(sub(track[f], m)) > cfg.max_spike_m
            {
                reject(&mut seq.positions[f * nj + j], &mut report);
            }
        }
    }
    remove_untracked(seq, &mut report)?;
    let nj = seq.skeleton.joint_count();
    // Trim ends where any required (or, for unknown rigs, any) joint is missing.
    let needed: Vec<usize> = needed_joints(seq);
    let frame_ok = |s: &GaitSequence, f: usize| needed.iter().all(|&j| is_finite(s.pos(f, j)));
    let first = (0..nf).find(|&f| frame_ok(seq, f));
    let last = (0..nf).rev().find(|&f| frame_ok(seq, f));
    let (Some(first), Some(last)) = (first, last) else {
        return Err(PreprocessError::TooFewFrames {
            valid: 0,
            needed: 10,
        });
    };
    report.trimmed_start = first;
    report.trimmed_end = nf - 1 - last;
    *seq = seq.slice_frames(first, last + 1);
    let nf = seq.frames();
    if nf < 10 {
        return Err(PreprocessError::TooFewFrames {
            valid: nf,
            needed: 10,
        });
    }
    let max_gap = (cfg.max_gap_s * seq.fps).round().max(1.0) as usize;
    for j in 0..nj {
        interpolate_joint(seq, j, first, max_gap, &mut report)?;
    }
    Ok(report)
}

/// Drops joints that are missing in every frame (e.g. a file written without arms) when gait
/// analysis does not need them; children of a dropped joint hang from its nearest kept
/// ancestor.
fn remove_untracked(
    seq: &mut GaitSequence,
    report: &mut CleanReport,
) -> Result<(), PreprocessError> {
    let nj = seq.skeleton.joint_count();
    let nf = seq.frames();
    let never: Vec<usize> = (0..nj)
        .filter(|&j| (0..nf).all(|f| !is_finite(seq.positions[f * nj + j])))
        .collect();
    if never.is_empty() {
        return Ok(());
    }
    if never.len() == nj {
        return Err(PreprocessError::TooFewFrames {
            valid: 0,
            needed: 10,
        });
    }
    let needed = needed_joints(seq);
    if let Some(&j) = never.iter().find(|j| needed.contains(j)) {
        return Err(PreprocessError::JointNeverSeen(
            seq.skeleton.joints[j].name.clone(),
        ));
    }
    let keep: Vec<usize> = (0..nj).filter(|j| !never.contains(j)).collect();
    let new_index = |j: usize| keep.iter().position(|&k| k == j);
    let joints = keep
        .iter()
        .map(|&j| {
            let mut parent = seq.skeleton.joints[j].parent;
            while let Some(p) = parent {
                if new_index(p).is_some() {
                    break;
                }
                parent = seq.skeleton.joints[p].parent;
            }
            JointDef {
                name: seq.skeleton.joints[j].name.clone(),
                parent: parent.and_then(new_index),
            }
        })
        .collect();
    let sk = &seq.skeleton;
    let skeleton = Skeleton::new(
        format!("{} (tracked joints)", sk.name),
        joints,
        sk.up,
        sk.source_units,
    );
    seq.positions = (0..nf)
        .flat_map(|f| keep.iter().map(move |&j| (f, j)))
        .map(|(f, j)| seq.positions[f * nj + j])
        .collect();
    report.removed_joints = never.iter().map(|&j| sk.joints[j].name.clone()).collect();
    seq.skeleton = skeleton;
    Ok(())
}

fn needed_joints(seq: &GaitSequence) -> Vec<usize> {
    let sk = &seq.skeleton;
    if sk.missing_required().is_empty() {
        CommonJoint::REQUIRED
            .iter()
            .filter_map(|c| sk.common_sources(*c))
            .flatten()
            .copied()
            .collect()
    } else {
        (0..sk.joint_count()).collect()
    }
}

fn interpolate_joint(
    seq: &mut GaitSequence,
    j: usize,
    frame_offset: usize,
    max_gap: usize,
    report: &mut CleanReport,
) -> Result<(), PreprocessError> {
    let nj = seq.skeleton.joint_count();
    let nf = seq.frames();
    let valid: Vec<usize> = (0..nf)
        .filter(|&f| is_finite(seq.positions[f * nj + j]))
        .collect();
    let Some(&first_valid) = valid.first() else {
        return Err(PreprocessError::JointNeverSeen(
            seq.skeleton.joints[j].name.clone(),
        ));
    };
    let last_valid = valid[valid.len() - 1];
    // Optional joints may be missing at the ends: hold the nearest value there.
    for f in (0..first_valid).chain(last_valid + 1..nf) {
        let src = if f < first_valid {
            first_valid
        } else {
            last_valid
        };
        seq.positions[f * nj + j] = seq.positions[src * nj + j];
        report.interpolated_samples += 1;
    }
    for w in valid.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b - a <= 1 {
            continue;
        }
        let gap = b - a - 1;
        if gap > max_gap {
            report.long_gaps.push(LongGap {
                joint: seq.skeleton.joints[j].name.clone(),
                start_frame: a + 1 + frame_offset,
                frames: gap,
            });
        }
        let pa = seq.positions[a * nj + j];
        let pb = seq.positions[b * nj + j];
        for f in a + 1..b {
            let t = (f - a) as f32 / (b - a) as f32;
            seq.positions[f * nj + j] = [
                pa[0] + (pb[0] - pa[0]) * t,
                pa[1] + (pb[1] - pa[1]) * t,
                pa[2] + (pb[2] - pa[2]) * t,
            ];
            report.interpolated_samples += 1;
        }
    }
    Ok(())
}

fn frame_median(points: &[Vec3]) -> Option<Vec3> {
    let axis = |k: usize| -> Option<f32> {
        let v: Vec<f64> = points
            .iter()
            .filter(|p| is_finite(**p))
            .map(|p| f64::from(p[k]))
            .collect();
        median(&v).map(|m| m as f32)
    };
    Some([axis(0)?, axis(1)?, axis(2)?])
}

/// What [`normalize_frame`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameReport {
    /// Rotation about Z applied to align the walking direction with +X, degrees.
    pub heading_deg: f32,
    /// True when left/right appeared swapped (mirrored data) and Y was negated.
    pub mirrored: bool,
    /// True when the pelvis moved less than 0.3 m (treadmill or in place): heading then comes
    /// from the hip line instead of the path.
    pub in_place: bool,
}

/// Converts a (clean) sequence to the canonical frame: Z up, walking along +X, left at +Y,
/// ground at z = 0 and the pelvis starting above the origin. Idempotent. The report is
/// informational; importers turn it into warnings.
pub fn normalize_frame(seq: &mut GaitSequence) -> FrameReport {
    let mut report = FrameReport::default();
    if seq.canonical {
        return report;
    }
    for p in &mut seq.positions {
        *p = match seq.skeleton.up {
            Axis::PosZ => *p,
            Axis::PosY => [p[0], -p[2], p[1]],
            Axis::PosX => [-p[2], p[1], p[0]],
        };
    }
    seq.skeleton.up = Axis::PosZ;
    let pelvis = seq
        .common_track(CommonJoint::Pelvis)
        .unwrap_or_else(|| (0..seq.frames()).map(|f| seq.pos(f, 0)).collect());
    let lateral = mean_hip_line(seq);
    let travel = pelvis
        .last()
        .zip(pelvis.first())
        .map_or([0.0; 3], |(b, a)| [b[0] - a[0], b[1] - a[1], 0.0]);
    let forward = if norm(travel) >= 0.3 {
        travel
    } else {
        report.in_place = true;
        // forward = lateral x up, with lateral pointing to the subject's left.
        lateral.map_or([1.0, 0.0, 0.0], |l| [l[1], -l[0], 0.0])
    };
    let heading = forward[1].atan2(forward[0]);
    report.heading_deg = heading.to_degrees();
    let (s, c) = (-heading).sin_cos();
    for p in &mut seq.positions {
        *p = [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]];
    }
    if mean_hip_line(seq).is_some_and(|l| l[1] < 0.0) {
        report.mirrored = true;
        for p in &mut seq.positions {
            p[1] = -p[1];
        }
    }
    // Ground: the 2nd percentile of the lowest foot joint; origin under the first pelvis.
    let feet: Vec<f64> = [
        CommonJoint::AnkleL,
        CommonJoint::AnkleR,
        CommonJoint::ToeL,
        CommonJoint::ToeR,
    ]
    .iter()
    .filter_map(|c| seq.common_track(*c))
    .flatten()
    .map(|p| f64::from(p[2]))
    .collect();
    let ground = quantile(&feet, 0.02).unwrap_or(0.0) as f32;
    let start = seq
        .common_track(CommonJoint::Pelvis)
        .and_then(|t| t.first().copied())
        .unwrap_or([0.0; 3]);
    for p in &mut seq.positions {
        *p = [p[0] - start[0], p[1] - start[1], p[2] - ground];
    }
    seq.canonical = true;
    report
}

fn mean_hip_line(seq: &GaitSequence) -> Option<Vec3> {
    let l = seq.common_track(CommonJoint::HipL)?;
    let r = seq.common_track(CommonJoint::HipR)?;
    let mut acc = [0.0f32; 3];
    for (a, b) in l.iter().zip(&r) {
        let d = sub(*a, *b);
        if is_finite(d) {
            acc = [acc[0] + d[0], acc[1] + d[1], 0.0];
        }
    }
    (norm(acc) > 0.0).then_some(acc)
}

/// Subtracts the pelvis' horizontal position from every joint in every frame (height is kept
/// so foot clearance stays meaningful). Models consume root-centred sequences.
#[must_use]
pub fn root_centred(seq: &GaitSequence) -> GaitSequence {
    let mut out = seq.clone();
    let nj = seq.skeleton.joint_count();
    if let Some(pelvis) = seq.common_track(CommonJoint::Pelvis) {
        for (f, root) in pelvis.iter().enumerate() {
            for p in &mut out.positions[f * nj..(f + 1) * nj] {
                p[0] -= root[0];
                p[1] -= root[1];
            }
        }
    }
    out
}

/// Zero-phase 2nd-order Butterworth low-pass (forward-backward, so 4th-order magnitude) on
/// every coordinate, the usual treatment of kinematic data (cutoff typically 6 Hz).
pub fn smooth(seq: &mut GaitSequence, cutoff_hz: f32) {
    let nj = seq.skeleton.joint_count();
    let nf = seq.frames();
    if nf < 4 || cutoff_hz <= 0.0 || cutoff_hz >= 0.45 * seq.fps {
        return;
    }
    for j in 0..nj {
        for k in 0..3 {
            let x: Vec<f64> = (0..nf)
                .map(|f| f64::from(seq.positions[f * nj + j][k]))
                .collect();
            let y = filtfilt_butter2(&x, f64::from(cutoff_hz), f64::from(seq.fps));
            for (f, v) in y.into_iter().enumerate() {
                seq.positions[f * nj + j][k] = v as f32;
            }
        }
    }
}

/// Butterworth 2nd-order low-pass applied forward and backward with odd-reflection padding.
#[must_use]
pub fn filtfilt_butter2(x: &[f64], cutoff_hz: f64, fs_hz: f64) -> Vec<f64> {
    let n = x.len();
    if n < 4 {
        return x.to_vec();
    }
    let k = (std::f64::consts::PI * cutoff_hz / fs_hz).tan();
    let r2 = std::f64::consts::SQRT_2;
    let norm = 1.0 / (1.0 + r2 * k + k * k);
    let b0 = k * k * norm;
    let (b1, b2) = (2.0 * b0, b0);
    let a1 = 2.0 * (k * k - 1.0) * norm;
    let a2 = (1.0 - r2 * k + k * k) * norm;
    let pad = (n - 1).min(30);
    // Odd reflection about the end samples keeps the slope continuous: no edge transients.
    let mut ext = Vec::with_capacity(n + 2 * pad);
    ext.extend((1..=pad).rev().map(|i| 2.0 * x[0] - x[i]));
    ext.extend_from_slice(x);
    ext.extend((1..=pad).map(|i| 2.0 * x[n - 1] - x[n - 1 - i]));
    let run = |v: &mut Vec<f64>| {
        let (mut x1, mut x2, mut y1, mut y2) = (v[0], v[0], v[0], v[0]);
        for s in v.iter_mut() {
            let x0 = *s;
            let y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            (x2, x1, y2, y1) = (x1, x0, y1, y0);
            *s = y0;
        }
    };
    run(&mut ext);
    ext.reverse();
    run(&mut ext);
    ext.reverse();
    ext[pad..pad + n].to_vec()
}

/// Resamples to exactly `frames` frames spanning the same duration (linear in time); the fps
/// changes accordingly. Models use this for fixed-length inputs.
#[must_use]
pub fn resample_frames(seq: &GaitSequence, frames: usize) -> GaitSequence {
    let nj = seq.skeleton.joint_count();
    let nf = seq.frames();
    let mut out = seq.clone();
    if nf < 2 || frames < 2 {
        return out;
    }
    out.positions = Vec::with_capacity(frames * nj);
    for i in 0..frames {
        let x = i as f32 * (nf - 1) as f32 / (frames - 1) as f32;
        let lo = (x.floor() as usize).min(nf - 2);
        let t = x - lo as f32;
        for j in 0..nj {
            let a = seq.pos(lo, j);
            let b = seq.pos(lo + 1, j);
            out.positions.push([
                a[0] + (b[0] - a[0]) * t,
                a[1] + (b[1] - a[1]) * t,
                a[2] + (b[2] - a[2]) * t,
            ]);
        }
    }
    out.fps = seq.fps * (frames - 1) as f32 / (nf - 1) as f32;
    out.events = seq.events.as_ref().map(|e| e.resampled(nf, frames));
    out
}

/// Horizontal walking direction per frame (unit, from the smoothed pelvis velocity), falling
/// back to +X where the pelvis barely moves. Used for events and step geometry.
#[must_use]
pub fn heading_track(pelvis: &[Vec3], fps: f32) -> Vec<Vec3> {
    let n = pelvis.len();
    let half = ((0.5 * fps) as usize).max(1);
    (0..n)
        .map(|f| {
            let a = pelvis[f.saturating_sub(half)];
            let b = pelvis[(f + half).min(n - 1)];
            let d = [b[0] - a[0], b[1] - a[1], 0.0];
            let len = norm(d);
            if len > 0.05 {
                [d[0] / len, d[1] / len, 0.0]
            } else {
                [1.0, 0.0, 0.0]
            }
        })
        .collect()
}

/// Projection helper: `(p - origin) . dir`.
#[must_use]
pub fn along(p: Vec3, origin: Vec3, dir: Vec3) -> f32 {
    dot(sub(p, origin), dir)
}
