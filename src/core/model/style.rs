//! Subject styles: the builds (bone lengths) of the people a generator was trained on and the
//! prompts of their walks, so that generated walks can be given a real person's build instead
//! of the average one the tokeniser's decoder tends towards, and be asked to walk like one of
//! the training walks (see `generate::generate_like`).
//!
//! The decoder regresses to the mean: the bone lengths of its windows vary less from walk to
//! walk than those of the people it learnt from, so a classifier trained on generated windows
//! sees fewer builds than it will meet in unseen people. Retargeting keeps every bone's
//! direction, the timing and the ground contact of the generated window, and takes the lengths
//! of one training subject's skeleton (the median over that subject's frames).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::features::{FEATURES, REL_JOINTS};
use super::vocab::PromptValues;
use crate::core::math::{Vec3, add, median, norm, scale, sub};

/// Bones of a feature frame: `(parent, child)` as indices into the frame's joints, where 0 is
/// the pelvis (the origin of the relative positions) and `k + 1` is `REL_JOINTS[k]`. Parents
/// come before children, so one pass rebuilds a frame.
pub const BONES: [(usize, usize); 11] = [
    (0, 1),   // pelvis -> spine mid
    (1, 2),   // spine mid -> neck
    (2, 3),   // neck -> head
    (0, 4),   // pelvis -> left hip
    (4, 5),   // left thigh
    (5, 6),   // left shank
    (6, 7),   // left foot
    (0, 8),   // pelvis -> right hip
    (8, 9),   // right thigh
    (9, 10),  // right shank
    (10, 11), // right foot
];

/// Indices into [`BONES`] of the thighs and shanks: their sum is the leg length that scales
/// step length and with it the pelvis speed.
const LEG_BONES: [usize; 4] = [4, 5, 8, 9];

/// One training subject's style: their build and how each of their walks was prompted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectStyle {
    /// Subject id in the training data.
    pub subject: String,
    /// Bone lengths in [`BONES`] order, metres (medians over the subject's frames).
    pub bones: Vec<f32>,
    /// Prompt values of each of the subject's training walks (class, severity and descriptor
    /// bins, the walk's own side), so a generated walk can be asked to walk like one of them.
    #[serde(default)]
    pub prompts: Vec<PromptValues>,
}

impl SubjectStyle {
    /// Thigh plus shank, mean of both sides (m).
    #[must_use]
    pub fn leg_length(&self) -> f32 {
        leg_of(&self.bones)
    }
}

fn leg_of(bones: &[f32]) -> f32 {
    LEG_BONES
        .iter()
        .map(|&b| bones.get(b).copied().unwrap_or(0.0))
        .sum::<f32>()
        / 2.0
}

/// Joints of a feature frame relative to the pelvis: the pelvis (origin), then `REL_JOINTS`.
fn joints(v: &[f32; FEATURES]) -> [Vec3; 12] {
    let mut j = [[0.0f32; 3]; 12];
    for k in 0..REL_JOINTS.len() {
        j[k + 1] = [v[3 * k], v[3 * k + 1], v[3 * k + 2]];
    }
    j
}

/// Bone lengths of one frame, [`BONES`] order.
fn frame_bones(v: &[f32; FEATURES]) -> [f32; 11] {
    let j = joints(v);
    let mut out = [0.0f32; 11];
    for (b, &(p, c)) in BONES.iter().enumerate() {
        out[b] = norm(sub(j[c], j[p]));
    }
    out
}

/// Median bone lengths over raw (not standardised) feature frames; `None` without frames or
/// with a bone of no length (a rig that lacks a joint).
#[must_use]
pub fn bone_lengths(frames: &[&[f32; FEATURES]]) -> Option<Vec<f32>> {
    medians(&frames.iter().map(|v| frame_bones(v)).collect::<Vec<_>>())
}

fn medians(per: &[[f32; 11]]) -> Option<Vec<f32>> {
    let bones: Vec<f32> = (0..BONES.len())
        .map(|b| {
            let v: Vec<f64> = per.iter().map(|p| f64::from(p[b])).collect();
            median(&v).map_or(0.0, |m| m as f32)
        })
        .collect();
    bones.iter().all(|l| *l > 1e-3).then_some(bones)
}

/// The builds of the subjects of raw feature frames given as `(subject, frame)` pairs, in
/// subject order; subjects whose bones cannot be measured are left out. Keeps 11 lengths per
/// frame, not the frames.
#[must_use]
pub fn subject_styles<'a>(
    frames: impl IntoIterator<Item = (&'a str, [f32; FEATURES])>,
) -> Vec<SubjectStyle> {
    let mut by: BTreeMap<&str, Vec<[f32; 11]>> = BTreeMap::new();
    for (s, f) in frames {
        by.entry(s).or_default().push(frame_bones(&f));
    }
    by.into_iter()
        .filter_map(|(s, per)| {
            medians(&per).map(|bones| SubjectStyle {
                subject: s.to_string(),
                bones,
                prompts: Vec::new(),
            })
        })
        .collect()
}

/// `frames` (raw features of one walk) with `style`'s bone lengths (unchanged when either has
/// a bone that cannot be measured): each bone keeps its
/// direction per frame; the pelvis is lowered or raised per frame so the lower foot stays
/// where it was relative to the ground; the pelvis speed scales with the leg length, as step
/// length does at the same cadence (so planted feet do not slide).
#[must_use]
pub fn retarget(frames: &[[f32; FEATURES]], style: &SubjectStyle) -> Vec<[f32; FEATURES]> {
    if style.bones.len() != BONES.len() || style.leg_length() <= 1e-3 {
        return frames.to_vec();
    }
    let own: Vec<&[f32; FEATURES]> = frames.iter().collect();
    let ratio = match bone_lengths(&own) {
        Some(b) if leg_of(&b) > 1e-3 => style.leg_length() / leg_of(&b),
        _ => return frames.to_vec(),
    };
    frames
        .iter()
        .map(|v| {
            let old = joints(v);
            let mut new = [[0.0f32; 3]; 12];
            for (b, &(p, c)) in BONES.iter().enumerate() {
                let d = sub(old[c], old[p]);
                let l = norm(d);
                let dir = if l > 1e-6 {
                    scale(d, 1.0 / l)
                } else {
                    [0.0, 0.0, 0.0]
                };
                new[c] = add(new[p], scale(dir, style.bones[b]));
            }
            // Lowest point of the feet (ankles and toes: joints 6, 7, 10, 11) relative to the
            // pelvis, before and after: the difference moves the pelvis.
            let low = |j: &[Vec3; 12]| {
                [6, 7, 10, 11]
                    .iter()
                    .map(|&k| j[k][2])
                    .fold(f32::MAX, f32::min)
            };
            let mut o = *v;
            for k in 0..REL_JOINTS.len() {
                o[3 * k..3 * k + 3].copy_from_slice(&new[k + 1]);
            }
            o[33] = v[33] + low(&old) - low(&new);
            o[34] = v[34] * ratio;
            o[35] = v[35] * ratio;
            o
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with a standing build: legs of `leg` m (thigh and shank each half).
    fn frame(leg: f32, phase: f32) -> [f32; FEATURES] {
        let mut v = [0.0f32; FEATURES];
        let set =
            |v: &mut [f32; FEATURES], k: usize, p: Vec3| v[3 * k..3 * k + 3].copy_from_slice(&p);
        set(&mut v, 0, [0.0, 0.0, 0.25]);
        set(&mut v, 1, [0.0, 0.0, 0.5]);
        set(&mut v, 2, [0.0, 0.0, 0.7]);
        let swing = 0.3 * phase.sin();
        for (side, y) in [(3usize, 0.1f32), (7, -0.1)] {
            let s = if side == 3 { swing } else { -swing };
            let hip = [0.0, y, 0.0];
            let knee = add(hip, scale([s.sin(), 0.0, -s.cos()], leg / 2.0));
            let ankle = add(knee, [0.0, 0.0, -leg / 2.0]);
            set(&mut v, side, hip);
            set(&mut v, side + 1, knee);
            set(&mut v, side + 2, ankle);
            set(&mut v, side + 3, add(ankle, [0.15, 0.0, -0.05]));
        }
        v[33] = leg + 0.05;
        v[34] = 1.2;
        v
    }

    #[test]
    fn retargeting_takes_the_lengths_keeps_directions_ground_and_scales_speed() {
        let walk: Vec<[f32; FEATURES]> = (0..30).map(|f| frame(0.8, f as f32 * 0.2)).collect();
        let tall: Vec<[f32; FEATURES]> = (0..30).map(|f| frame(1.0, f as f32 * 0.2)).collect();
        let styles = subject_styles(tall.iter().map(|f| ("tall", *f)));
        assert_eq!(styles.len(), 1);
        assert!(
            (styles[0].leg_length() - 1.0).abs() < 1e-3,
            "{}",
            styles[0].leg_length()
        );
        let out = retarget(&walk, &styles[0]);
        let low = |v: &[f32; FEATURES]| {
            [5, 6, 9, 10]
                .iter()
                .map(|k| v[3 * k + 2])
                .fold(f32::MAX, f32::min)
        };
        for ((a, b), w) in out.iter().zip(&tall).zip(&walk) {
            for k in 0..33 {
                assert!(
                    (a[k] - b[k]).abs() < 1e-4,
                    "joint value {k}: {} vs {}",
                    a[k],
                    b[k]
                );
            }
            // The feet stay where they were above the ground.
            assert!((a[33] + low(a) - (w[33] + low(w))).abs() < 1e-4);
            assert!(
                (a[34] - 1.5).abs() < 1e-4,
                "speed scales 0.8 -> 1.0 m legs: {}",
                a[34]
            );
        }
    }

    #[test]
    fn a_missing_joint_gives_no_style_and_an_unmeasured_style_keeps_the_walk() {
        let mut f = frame(0.9, 0.0);
        let ankle = [f[15], f[16], f[17]];
        f[18..21].copy_from_slice(&ankle); // left toe on the ankle: a foot of no length
        assert!(subject_styles([("s", f)]).is_empty());
        let walk = vec![frame(0.9, 0.0); 3];
        let style = SubjectStyle {
            subject: "s".into(),
            bones: vec![0.0; 11],
            prompts: Vec::new(),
        };
        assert_eq!(retarget(&walk, &style), walk);
    }
}
