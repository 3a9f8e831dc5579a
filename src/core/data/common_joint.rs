//! The common joint set every metric and model works on, and the name aliases by which each
//! rig resolves it (Kinect v2, common BVH rigs, clinical marker sets).

use serde::{Deserialize, Serialize};

/// The joints every metric and model needs, resolved per skeleton by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CommonJoint {
    /// Pelvis centre (root).
    Pelvis,
    /// Mid-trunk.
    SpineMid,
    /// Base of the neck / top of the thorax.
    Neck,
    /// Head.
    Head,
    /// Left hip joint centre.
    HipL,
    /// Left knee.
    KneeL,
    /// Left ankle.
    AnkleL,
    /// Left toe / forefoot.
    ToeL,
    /// Right hip joint centre.
    HipR,
    /// Right knee.
    KneeR,
    /// Right ankle.
    AnkleR,
    /// Right toe / forefoot.
    ToeR,
    /// Left shoulder (glenohumeral joint centre).
    ShoulderL,
    /// Left elbow.
    ElbowL,
    /// Left wrist.
    WristL,
    /// Right shoulder.
    ShoulderR,
    /// Right elbow.
    ElbowR,
    /// Right wrist.
    WristR,
}

impl CommonJoint {
    /// All common joints, in a fixed order (the order of model features).
    pub const ALL: [Self; 12] = [
        Self::Pelvis,
        Self::SpineMid,
        Self::Neck,
        Self::Head,
        Self::HipL,
        Self::KneeL,
        Self::AnkleL,
        Self::ToeL,
        Self::HipR,
        Self::KneeR,
        Self::AnkleR,
        Self::ToeR,
    ];

    /// The arm joints: optional (a lower-body marker set has none); arm swing is measured and
    /// exported where a rig has them, and the model's windows do not use them.
    pub const ARMS: [Self; 6] = [
        Self::ShoulderL,
        Self::ElbowL,
        Self::WristL,
        Self::ShoulderR,
        Self::ElbowR,
        Self::WristR,
    ];

    /// Every common joint: [`Self::ALL`] then [`Self::ARMS`] (built from them, so the three
    /// lists cannot disagree).
    pub const EVERY: [Self; 18] = {
        let mut out = [Self::Pelvis; 18];
        let mut i = 0;
        while i < Self::ALL.len() {
            out[i] = Self::ALL[i];
            i += 1;
        }
        while i < out.len() {
            out[i] = Self::ARMS[i - Self::ALL.len()];
            i += 1;
        }
        out
    };

    /// Joints without which no gait metric can be computed.
    pub const REQUIRED: [Self; 8] = [
        Self::HipL,
        Self::KneeL,
        Self::AnkleL,
        Self::ToeL,
        Self::HipR,
        Self::KneeR,
        Self::AnkleR,
        Self::ToeR,
    ];

    /// Normalised name aliases in priority order (lower case, letters and digits only).
    /// Covers Kinect v2, common BVH rigs (Mixamo/CMU/MotionBuilder) and clinical marker sets.
    #[must_use]
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Pelvis => &["pelvis", "spinebase", "hips", "hip", "root", "sacr"],
            Self::SpineMid => &["spinemid", "spine", "spine1", "chest", "t10", "strn"],
            Self::Neck => &[
                "neck",
                "spineshoulder",
                "neck1",
                "spine2",
                "spine1",
                "c7",
                "clav",
            ],
            Self::Head => &["head", "headend", "headtop", "neckend", "lfhd"],
            Self::HipL => &[
                "hipleft",
                "leftupleg",
                "lefthip",
                "lhip",
                "lhjc",
                "lthigh",
                "lfemur",
            ],
            Self::KneeL => &[
                "kneeleft", "leftleg", "leftknee", "lknee", "lkne", "lkjc", "ltibia",
            ],
            Self::AnkleL => &[
                "ankleleft",
                "leftfoot",
                "leftankle",
                "lankle",
                "lank",
                "lajc",
            ],
            Self::ToeL => &[
                "footleft",
                "lefttoes",
                "lefttoebase",
                "lefttoe",
                "ltoe",
                "ltoes",
            ],
            Self::HipR => &[
                "hipright",
                "rightupleg",
                "righthip",
                "rhip",
                "rhjc",
                "rthigh",
                "rfemur",
            ],
            Self::KneeR => &[
                "kneeright",
                "rightleg",
                "rightknee",
                "rknee",
                "rkne",
                "rkjc",
                "rtibia",
            ],
            Self::AnkleR => &[
                "ankleright",
                "rightfoot",
                "rightankle",
                "rankle",
                "rank",
                "rajc",
            ],
            Self::ToeR => &[
                "footright",
                "righttoes",
                "righttoebase",
                "righttoe",
                "rtoe",
                "rtoes",
            ],
            // BVH rigs name the clavicle "LeftShoulder" and the shoulder joint "LeftArm".
            Self::ShoulderL => &[
                "shoulderleft",
                "leftarm",
                "leftupperarm",
                "lshoulder",
                "lsho",
                "lshjc",
            ],
            Self::ElbowL => &[
                "elbowleft",
                "leftforearm",
                "leftelbow",
                "leftlowerarm",
                "lelbow",
                "lelb",
                "lejc",
            ],
            Self::WristL => &[
                "wristleft",
                "lefthand",
                "leftwrist",
                "lwrist",
                "lwjc",
                "lwra",
            ],
            Self::ShoulderR => &[
                "shoulderright",
                "rightarm",
                "rightupperarm",
                "rshoulder",
                "rsho",
                "rshjc",
            ],
            Self::ElbowR => &[
                "elbowright",
                "rightforearm",
                "rightelbow",
                "rightlowerarm",
                "relbow",
                "relb",
                "rejc",
            ],
            Self::WristR => &[
                "wristright",
                "righthand",
                "rightwrist",
                "rwrist",
                "rwjc",
                "rwra",
            ],
        }
    }
}
