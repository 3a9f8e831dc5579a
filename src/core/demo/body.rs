//! Forward kinematics of the demo body model onto the Kinect v2 25-joint rig.
//!
//! Canonical frame: metres, Z up, walking along +X, left at +Y. Segment lengths scale with
//! height after Winter's anthropometric table (Biomechanics and Motor Control of Human
//! Movement, 4th ed., Fig. 4.1).

use serde::{Deserialize, Serialize};

use crate::core::math::{Vec3, add, normalize, scale};

/// Segment lengths in metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Body {
    /// Standing height.
    pub height_m: f32,
    /// Hip joint centre to knee.
    pub thigh_m: f32,
    /// Knee to ankle.
    pub shank_m: f32,
    /// Ankle height above the sole.
    pub ankle_height_m: f32,
    /// Ankle to forefoot (Kinect "Foot" joint), horizontal.
    pub foot_m: f32,
    /// Half the distance between hip joint centres.
    pub hip_half_width_m: f32,
    /// Hip centres below the pelvis (`SpineBase`) point.
    pub hip_drop_m: f32,
    /// Pelvis to mid-spine.
    pub lower_trunk_m: f32,
    /// Pelvis to spine-shoulder (base of the neck).
    pub trunk_m: f32,
    /// Half the shoulder width.
    pub shoulder_half_width_m: f32,
    /// Shoulder to elbow.
    pub upper_arm_m: f32,
    /// Elbow to wrist.
    pub forearm_m: f32,
    /// Wrist to hand centre.
    pub hand_m: f32,
}

impl Body {
    /// Proportions for a given height.
    #[must_use]
    pub fn from_height(h: f32) -> Self {
        Self {
            height_m: h,
            thigh_m: 0.245 * h,
            shank_m: 0.246 * h,
            ankle_height_m: 0.039 * h,
            foot_m: 0.11 * h,
            hip_half_width_m: 0.05 * h,
            hip_drop_m: 0.03 * h,
            lower_trunk_m: 0.13 * h,
            trunk_m: 0.29 * h,
            shoulder_half_width_m: 0.1 * h,
            upper_arm_m: 0.186 * h,
            forearm_m: 0.146 * h,
            hand_m: 0.05 * h,
        }
    }

    /// Proportions for a given height with legs `leg_scale` times the adult fraction of it
    /// (children's legs are shorter for their stature); the trunk takes up the difference, so
    /// the standing height stays `h`.
    #[must_use]
    pub fn for_legs(h: f32, leg_scale: f32) -> Self {
        let mut b = Self::from_height(h);
        let k = leg_scale.clamp(0.8, 1.1);
        let leg = b.thigh_m + b.shank_m + b.ankle_height_m;
        b.thigh_m *= k;
        b.shank_m *= k;
        b.ankle_height_m *= k;
        b.trunk_m += leg * (1.0 - k);
        b.lower_trunk_m *= b.trunk_m / (0.29 * h);
        b
    }
}

/// Angles of one side at one instant, degrees.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LegPose {
    /// Hip flexion.
    pub hip_flexion: f32,
    /// Hip adduction relative to the pelvis.
    pub hip_adduction: f32,
    /// Knee flexion.
    pub knee_flexion: f32,
    /// Ankle dorsiflexion.
    pub ankle_dorsiflexion: f32,
}

/// Angles of one arm at one instant, degrees.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ArmPose {
    /// Upper arm forward of the trunk's line (+).
    pub shoulder_flexion: f32,
    /// Elbow flexion (+).
    pub elbow_flexion: f32,
}

/// Whole-body pose at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pose {
    /// Pelvis (`SpineBase`) position; z is solved for ground contact when `None`-like (NaN).
    pub pelvis: Vec3,
    /// Left elevation of the pelvis (obliquity), degrees.
    pub pelvic_obliquity: f32,
    /// Lower-trunk forward tilt, degrees.
    pub pelvic_tilt: f32,
    /// Trunk forward lean, degrees.
    pub trunk_forward: f32,
    /// Trunk lean to the left (+), degrees.
    pub trunk_left: f32,
    /// Legs `[left, right]`.
    pub legs: [LegPose; 2],
    /// Arms `[left, right]`.
    pub arms: [ArmPose; 2],
}

/// Direction of a segment hanging from its proximal joint, inclined `sag` degrees forward and
/// `medial` degrees toward the midline of side `s` (+1 left, -1 right). Inverse of the angle
/// definitions in [`crate::core::biomech::angles`].
fn hanging(sag: f32, medial: f32, s: f32) -> Vec3 {
    let (sn, cs) = sag.to_radians().sin_cos();
    let t = medial.to_radians().tan();
    normalize([sn, -s * t * cs, -cs]).unwrap_or([0.0, 0.0, -1.0])
}

/// Direction of an upright segment leaning `fwd` degrees forward and `left` degrees left.
fn upright(fwd: f32, left: f32) -> Vec3 {
    let (tf, tl) = (fwd.to_radians().tan(), left.to_radians().tan());
    normalize([tf, tl, 1.0]).unwrap_or([0.0, 0.0, 1.0])
}

/// Joint positions in Kinect v2 order for a pose; the pelvis height is taken as given.
#[must_use]
pub fn kinect_joints(b: &Body, p: &Pose) -> [Vec3; 25] {
    let mut j = [[0.0f32; 3]; 25];
    let pel = p.pelvis;
    j[0] = pel;
    j[1] = add(
        pel,
        scale(upright(p.pelvic_tilt, p.trunk_left), b.lower_trunk_m),
    );
    let trunk_dir = upright(p.trunk_forward, p.trunk_left);
    j[20] = add(pel, scale(trunk_dir, b.trunk_m));
    j[2] = add(j[20], scale(trunk_dir, 0.03 * b.height_m));
    j[3] = add(j[2], scale(trunk_dir, 0.07 * b.height_m));
    let (so, co) = p.pelvic_obliquity.to_radians().sin_cos();
    for (k, s) in [(0usize, 1.0f32), (1, -1.0)] {
        let leg = p.legs[k];
        let obliq_side = s * p.pelvic_obliquity;
        let hip = add(
            pel,
            [
                0.0,
                s * b.hip_half_width_m * co,
                s * b.hip_half_width_m * so - b.hip_drop_m,
            ],
        );
        let medial = leg.hip_adduction - obliq_side;
        let knee = add(hip, scale(hanging(leg.hip_flexion, medial, s), b.thigh_m));
        let shank_sag = leg.hip_flexion - leg.knee_flexion;
        let ankle = add(knee, scale(hanging(shank_sag, medial, s), b.shank_m));
        // Neutral foot: the Kinect foot point sits on the sole ahead of the ankle.
        let neutral = -(b.ankle_height_m * 0.6).atan2(b.foot_m).to_degrees();
        let pitch = (leg.ankle_dorsiflexion + shank_sag + neutral).to_radians();
        let foot_len = (b.foot_m.powi(2) + (0.6 * b.ankle_height_m).powi(2)).sqrt();
        let toe = add(ankle, [foot_len * pitch.cos(), 0.0, foot_len * pitch.sin()]);
        let base = if k == 0 { 12 } else { 16 };
        j[base] = hip;
        j[base + 1] = knee;
        j[base + 2] = ankle;
        j[base + 3] = toe;
        // The arm hangs along the trunk's line (which leans `trunk_forward`) and swings
        // `shoulder_flexion` forward of it; the forearm adds the elbow's flexion.
        let arm = p.arms[k];
        let shoulder = add(
            j[20],
            [0.0, s * b.shoulder_half_width_m, -0.02 * b.height_m],
        );
        let upper = arm.shoulder_flexion - p.trunk_forward;
        let fore = upper + arm.elbow_flexion;
        let elbow = add(shoulder, scale(hanging(upper, -4.0, s), b.upper_arm_m));
        let wrist = add(elbow, scale(hanging(fore, -4.0, s), b.forearm_m));
        let hand = add(wrist, scale(hanging(fore, -4.0, s), b.hand_m));
        let tip = add(hand, scale(hanging(fore, -4.0, s), 0.5 * b.hand_m));
        let thumb = add(
            wrist,
            add(
                scale(hanging(fore + 20.0, -4.0, s), b.hand_m),
                [0.0, -s * 0.01, 0.0],
            ),
        );
        let (sh, el, wr, ha, ti, th) = if k == 0 {
            (4, 5, 6, 7, 21, 22)
        } else {
            (8, 9, 10, 11, 23, 24)
        };
        j[sh] = shoulder;
        j[el] = elbow;
        j[wr] = wrist;
        j[ha] = hand;
        j[ti] = tip;
        j[th] = thumb;
    }
    j
}

/// Lowest point of the feet (sole under ankle and the forefoot point) relative to the pelvis,
/// used to put the pelvis at the height where the lower foot touches the ground.
#[must_use]
pub fn lowest_foot_z(b: &Body, joints: &[Vec3; 25]) -> f32 {
    [14usize, 18]
        .iter()
        .map(|&a| joints[a][2] - b.ankle_height_m)
        .chain(
            [15usize, 19]
                .iter()
                .map(|&t| joints[t][2] - 0.4 * b.ankle_height_m),
        )
        .fold(f32::INFINITY, f32::min)
}
