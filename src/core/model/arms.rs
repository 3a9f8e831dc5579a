//! Arms for generated walks. The model's windows hold the pelvis, trunk and legs (the joints
//! every rig has); a generated walk gets shoulders, elbows and wrists afterwards, swinging
//! with its own legs: each arm follows the *opposite* thigh's sagittal angle (phase-locked to
//! the opposite leg, as in human walking), scaled to the arm-swing range the prompt asks for
//! (the class's prior, moved by severity like the other descriptors, or a bin chosen by a
//! descriptor word), with the class's left/right asymmetry on the affected side.

use crate::core::biomech::AngleVar;
use crate::core::biomech::angles::angle_tracks;
use crate::core::biomech::priors::GroupPriors;
use crate::core::data::preprocess::heading_track;
use crate::core::data::{CommonJoint, GaitSequence, Side, Skeleton};
use crate::core::math::{Vec3, add, norm, scale, sub};

use super::prompt::ExpandedPrompt;
use super::vocab::{BINS, Vocab};

/// Arm-swing range of motion per side `[left, right]`, degrees, for a generated walk of the
/// prompt's class and severity on `side`; `None` when the training data had no arms.
#[must_use]
pub fn arm_targets(
    expanded: &ExpandedPrompt,
    vocab: &Vocab,
    class_priors: &[GroupPriors],
    severity: f32,
    side: Option<Side>,
) -> Option<[f64; 2]> {
    let class = vocab.classes.get(expanded.values.class)?;
    let prior = |c: &str, k: &str| {
        class_priors
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(c))
            .and_then(|g| g.features.get(k))
            .map(|s| s.q50)
            .filter(|v| v.is_finite())
    };
    let scale_by_severity =
        |m: f64, n: Option<f64>| n.map_or(m, |n| n + (m - n) * (0.5 + f64::from(severity)));
    let normal = vocab.normal_class.as_deref();
    let mean_rom = match vocab.descriptor_index("arm_swing_rom_deg") {
        Some(i) => requested(expanded, vocab, i)?,
        None => scale_by_severity(
            prior(class, "arm_swing_rom_deg")?,
            normal.and_then(|n| prior(n, "arm_swing_rom_deg")),
        ),
    };
    let si = scale_by_severity(
        prior(class, "si_arm_swing_pct").unwrap_or(0.0),
        normal.and_then(|n| prior(n, "si_arm_swing_pct")),
    )
    .clamp(0.0, 190.0);
    let mean_rom = mean_rom.max(1.0);
    // SI = 100 |L - R| / mean: the affected side swings `mean (1 - SI / 200)`.
    let (low, high) = (mean_rom * (1.0 - si / 200.0), mean_rom * (1.0 + si / 200.0));
    Some(match side {
        Some(Side::Left) => [low, high],
        Some(Side::Right) => [high, low],
        None => [mean_rom; 2],
    })
}

/// The prompt's arm-swing value: its target, or, where a descriptor word moved the bin away
/// from the target's, the middle of the chosen bin.
fn requested(expanded: &ExpandedPrompt, vocab: &Vocab, i: usize) -> Option<f64> {
    let target = *expanded.targets.get(i)?;
    let edges = vocab.edges.get(i)?;
    let bin = *expanded.values.bins.get(i)?;
    let natural = super::vocab::bin_of(target, edges);
    if bin == natural && target.is_finite() {
        return Some(target);
    }
    if edges.len() + 1 != BINS || !edges.iter().all(|e| e.is_finite()) {
        return target.is_finite().then_some(target);
    }
    let width = (edges[edges.len() - 1] - edges[0]) / (edges.len() - 1).max(1) as f64;
    Some(match bin {
        0 => edges[0] - 0.5 * width,
        b if b >= edges.len() => edges[edges.len() - 1] + 0.5 * width,
        b => 0.5 * (edges[b - 1] + edges[b]),
    })
}

/// A unit vector hanging `sag` degrees forward of straight down and `out` degrees away from
/// the body on side `s` (+1 left, -1 right).
fn hanging(sag: f32, out: f32, s: f32, fwd: Vec3, lat: Vec3) -> Vec3 {
    let (sn, cs) = sag.to_radians().sin_cos();
    let t = out.to_radians().tan();
    add(add(scale(fwd, sn), scale(lat, s * t * cs)), [0.0, 0.0, -cs])
}

/// The walk on the common rig with arms (`Skeleton::common_with_arms`): shoulders beside the
/// neck, upper arm and forearm sized from the legs (Winter's proportions), each arm swinging
/// `rom[k]` degrees with the opposite thigh. The walk itself when it lacks a leg joint.
#[must_use]
pub fn with_arms(seq: &GaitSequence, rom: [f64; 2]) -> GaitSequence {
    let t = |j| seq.common_track(j);
    let (Some(pelvis), Some(neck), Some(hl), Some(kl), Some(al)) = (
        t(CommonJoint::Pelvis),
        t(CommonJoint::Neck),
        t(CommonJoint::HipL),
        t(CommonJoint::KneeL),
        t(CommonJoint::AnkleL),
    ) else {
        return seq.clone();
    };
    // Thigh and trunk angles as the analysis defines them (hip flexion is the thigh's
    // sagittal inclination; trunk lean forward the pelvis-to-neck line's).
    let Some(tracks) = angle_tracks(seq) else {
        return seq.clone();
    };
    let track = |side: usize, var: AngleVar| -> Vec<f32> {
        tracks[side]
            .tracks
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, x)| x.iter().map(|d| *d as f32).collect())
            .unwrap_or_default()
    };
    let thighs = [
        track(0, AngleVar::HipFlexion),
        track(1, AngleVar::HipFlexion),
    ];
    let trunk_fwd = track(0, AngleVar::TrunkLeanForward);
    let n = pelvis.len();
    if n == 0 || thighs.iter().chain([&trunk_fwd]).any(|v| v.len() != n) {
        return seq.clone();
    }
    // Height from leg length (hip to ankle is 0.491 of stature in Winter's table).
    let leg = (0..n)
        .map(|f| norm(sub(kl[f], hl[f])) + norm(sub(al[f], kl[f])))
        .sum::<f32>()
        / n as f32;
    let h = leg / 0.491;
    let heading = heading_track(&pelvis, seq.fps);
    let mids = thighs.clone().map(|v| {
        let (lo, hi) = v
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
        (0.5 * (lo + hi), (hi - lo).max(1.0))
    });
    let names = Skeleton::common_with_arms();
    let mut positions = Vec::with_capacity(n * CommonJoint::EVERY.len());
    for f in 0..n {
        let fwd = heading[f];
        let lat: Vec3 = [-fwd[1], fwd[0], 0.0];
        let trunk = sub(neck[f], pelvis[f]);
        let trunk_dir = scale(trunk, 1.0 / norm(trunk).max(1e-6));
        let mut arms = [[0.0f32; 3]; 6];
        for (k, s) in [(0usize, 1.0f32), (1, -1.0)] {
            let (mid, range) = mids[1 - k];
            let swing = (thighs[1 - k][f] - mid) / range * rom[k] as f32;
            let upper = swing - trunk_fwd[f];
            let fore = upper + 26.0 + 0.6 * swing;
            let shoulder = add(
                add(neck[f], scale(trunk_dir, -0.05 * h)),
                scale(lat, s * 0.1 * h),
            );
            let elbow = add(shoulder, scale(hanging(upper, 4.0, s, fwd, lat), 0.186 * h));
            let wrist = add(elbow, scale(hanging(fore, 4.0, s, fwd, lat), 0.146 * h));
            arms[3 * k] = shoulder;
            arms[3 * k + 1] = elbow;
            arms[3 * k + 2] = wrist;
        }
        for c in CommonJoint::ALL {
            positions.push(seq.common(f, c).unwrap_or([f32::NAN; 3]));
        }
        positions.extend(arms);
    }
    GaitSequence {
        skeleton: names,
        positions,
        ..seq.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::biomech::analyse;
    use crate::core::demo::{GaitParams, generate};

    /// A demo walk reduced to the model's 12 joints, as a generated walk comes out.
    fn legs_only(p: &GaitParams) -> GaitSequence {
        let s = generate(p, "g", "s", 5);
        let mut positions = Vec::new();
        for f in 0..s.frames() {
            for c in CommonJoint::ALL {
                positions.push(s.common(f, c).unwrap_or([f32::NAN; 3]));
            }
        }
        GaitSequence {
            skeleton: Skeleton::common(),
            positions,
            ..s
        }
    }

    #[test]
    fn arms_swing_the_asked_range_with_the_opposite_leg() {
        let mut p = GaitParams::normal(1.75, 110.0);
        p.duration_s = 8.0;
        p.fps = 60.0;
        let walk = with_arms(&legs_only(&p), [12.0, 30.0]);
        assert!(walk.skeleton.has_arms());
        assert_eq!(walk.skeleton.joint_count(), 18);
        let a = analyse(&walk).unwrap();
        let (l, r) = (
            a.rom_deg(AngleVar::ShoulderFlexion, Side::Left),
            a.rom_deg(AngleVar::ShoulderFlexion, Side::Right),
        );
        assert!((l - 12.0).abs() < 4.0 && (r - 30.0).abs() < 6.0, "{l} {r}");
        // Forward at the opposite heel strike (half a cycle after this side's).
        let c = &a
            .curve(AngleVar::ShoulderFlexion, Side::Right)
            .unwrap()
            .mean;
        assert!(c[50] > c[0] + 15.0, "{} vs {}", c[50], c[0]);
    }
}
