//! Data-driven skeleton definitions and the mapping onto a common lower-body joint set.
//!
//! Every rig (Kinect v2, a BVH hierarchy, C3D/TRC marker sets) is a list of named joints with
//! optional parents. [`CommonJoint`] is the small set every metric and model works on; each
//! skeleton resolves it by name aliases, so nothing downstream is tied to one rig.

use serde::{Deserialize, Serialize};

pub use super::common_joint::CommonJoint;

/// A signed coordinate axis, used to record which way is up in the source data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Axis {
    /// +X
    PosX,
    /// +Y
    PosY,
    /// +Z
    PosZ,
}

/// Length units of a source file. Sequences are always stored in metres; this records what the
/// file used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Units {
    /// Metres.
    Metres,
    /// Centimetres.
    Centimetres,
    /// Millimetres.
    Millimetres,
}

impl Units {
    /// Factor that converts a value in these units to metres.
    #[must_use]
    pub fn to_metres(self) -> f32 {
        match self {
            Self::Metres => 1.0,
            Self::Centimetres => 0.01,
            Self::Millimetres => 0.001,
        }
    }

    /// Parses a unit string as written in TRC/C3D headers ("mm", "cm", "m").
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "meter" | "meters" | "metre" | "metres" => Some(Self::Metres),
            "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => {
                Some(Self::Centimetres)
            }
            "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => {
                Some(Self::Millimetres)
            }
            _ => None,
        }
    }
}

/// One joint of a rig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JointDef {
    /// Name as written in the source (typos kept, e.g. BVH "`HEad`").
    pub name: String,
    /// Index of the parent joint, `None` for roots and unconnected markers.
    pub parent: Option<usize>,
}

/// A rig: named joints, bones (from parents), left/right pairs, source axis and units, and
/// the resolved [`CommonJoint`] mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skeleton {
    /// Rig name, e.g. "`kinect_v2`" or "bvh:SubjectA1".
    pub name: String,
    /// Joints in storage order (column order of positions).
    pub joints: Vec<JointDef>,
    /// Up axis of the source data.
    pub up: Axis,
    /// Units of the source data (positions are stored in metres regardless).
    pub source_units: Units,
    /// Pairs of joint indices `(left, right)` found by name.
    pub lr_pairs: Vec<(usize, usize)>,
    /// For each common joint, the source joints whose mean gives its position.
    pub common: Vec<(CommonJoint, Vec<usize>)>,
}

/// Lower-cases and strips everything but letters and digits ("Left_Up-Leg" -> "leftupleg").
#[must_use]
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Kinect v2 joint names in the SDK's `JointType` order (0..=24).
pub const KINECT_V2_JOINTS: [&str; 25] = [
    "SpineBase",
    "SpineMid",
    "Neck",
    "Head",
    "ShoulderLeft",
    "ElbowLeft",
    "WristLeft",
    "HandLeft",
    "ShoulderRight",
    "ElbowRight",
    "WristRight",
    "HandRight",
    "HipLeft",
    "KneeLeft",
    "AnkleLeft",
    "FootLeft",
    "HipRight",
    "KneeRight",
    "AnkleRight",
    "FootRight",
    "SpineShoulder",
    "HandTipLeft",
    "ThumbLeft",
    "HandTipRight",
    "ThumbRight",
];

/// Kinect v2 parent of each joint (the SDK's bone list).
const KINECT_V2_PARENTS: [Option<usize>; 25] = [
    None,
    Some(0),
    Some(20),
    Some(2),
    Some(20),
    Some(4),
    Some(5),
    Some(6),
    Some(20),
    Some(8),
    Some(9),
    Some(10),
    Some(0),
    Some(12),
    Some(13),
    Some(14),
    Some(0),
    Some(16),
    Some(17),
    Some(18),
    Some(1),
    Some(7),
    Some(6),
    Some(11),
    Some(10),
];

impl Skeleton {
    /// Builds a skeleton from joints and resolves left/right pairs and the common mapping.
    #[must_use]
    pub fn new(name: impl Into<String>, joints: Vec<JointDef>, up: Axis, units: Units) -> Self {
        let mut s = Self {
            name: name.into(),
            joints,
            up,
            source_units: units,
            lr_pairs: Vec::new(),
            common: Vec::new(),
        };
        s.lr_pairs = s.find_lr_pairs();
        s.common = s.resolve_common();
        s
    }

    /// The Kinect v2 25-joint skeleton (Z up, metres, as in the Jun et al. 2020 dataset).
    #[must_use]
    pub fn kinect_v2() -> Self {
        let joints = KINECT_V2_JOINTS
            .iter()
            .zip(KINECT_V2_PARENTS)
            .map(|(n, p)| JointDef {
                name: (*n).to_string(),
                parent: p,
            })
            .collect();
        Self::new("kinect_v2", joints, Axis::PosZ, Units::Metres)
    }

    fn common_rig(arms: bool) -> Self {
        use CommonJoint as C;
        let parent = |c: C| -> Option<C> {
            match c {
                C::Pelvis => None,
                C::SpineMid | C::HipL | C::HipR => Some(C::Pelvis),
                C::Neck => Some(C::SpineMid),
                C::Head | C::ShoulderL | C::ShoulderR => Some(C::Neck),
                C::KneeL => Some(C::HipL),
                C::AnkleL => Some(C::KneeL),
                C::ToeL => Some(C::AnkleL),
                C::KneeR => Some(C::HipR),
                C::AnkleR => Some(C::KneeR),
                C::ToeR => Some(C::AnkleR),
                C::ElbowL => Some(C::ShoulderL),
                C::WristL => Some(C::ElbowL),
                C::ElbowR => Some(C::ShoulderR),
                C::WristR => Some(C::ElbowR),
            }
        };
        let list: &[C] = if arms {
            &CommonJoint::EVERY
        } else {
            &CommonJoint::ALL
        };
        let index = |c: C| list.iter().position(|x| *x == c);
        let joints = list
            .iter()
            .map(|c| JointDef {
                name: format!("{c:?}"),
                parent: parent(*c).and_then(index),
            })
            .collect();
        let name = if arms { "common_arms" } else { "common" };
        Self::new(name, joints, Axis::PosZ, Units::Metres)
    }

    /// The common lower-body rig itself (joints in [`CommonJoint::ALL`] order), used for model
    /// outputs and for exports that must not depend on a source rig.
    #[must_use]
    pub fn common() -> Self {
        Self::common_rig(false)
    }

    /// The common rig with arms (joints in [`CommonJoint::EVERY`] order): model outputs given
    /// arm swing, and exports of walks that have arms.
    #[must_use]
    pub fn common_with_arms() -> Self {
        Self::common_rig(true)
    }

    /// Whether the rig has every arm joint.
    #[must_use]
    pub fn has_arms(&self) -> bool {
        CommonJoint::ARMS
            .iter()
            .all(|j| self.common_sources(*j).is_some())
    }

    /// Number of joints.
    #[must_use]
    pub fn joint_count(&self) -> usize {
        self.joints.len()
    }

    /// Index of the joint with this name (exact, then normalised comparison).
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.joints.iter().position(|j| j.name == name).or_else(|| {
            let n = normalize_name(name);
            self.joints
                .iter()
                .position(|j| normalize_name(&j.name) == n)
        })
    }

    /// Bones as `(parent, child)` index pairs.
    #[must_use]
    pub fn bones(&self) -> Vec<(usize, usize)> {
        self.joints
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.parent.map(|p| (p, i)))
            .collect()
    }

    /// Source joints that make up a common joint, if the rig has it.
    #[must_use]
    pub fn common_sources(&self, joint: CommonJoint) -> Option<&[usize]> {
        self.common
            .iter()
            .find(|(c, _)| *c == joint)
            .map(|(_, v)| v.as_slice())
    }

    /// Required common joints this rig cannot provide (empty when metrics can run).
    #[must_use]
    pub fn missing_required(&self) -> Vec<CommonJoint> {
        CommonJoint::REQUIRED
            .iter()
            .copied()
            .filter(|j| self.common_sources(*j).is_none())
            .collect()
    }

    fn find_lr_pairs(&self) -> Vec<(usize, usize)> {
        // Why name swapping: rigs spell sides as prefixes ("LeftArm", "LKNE") or suffixes
        // ("KneeLeft"); swapping the side word and looking the result up finds the twin.
        let names: Vec<String> = self
            .joints
            .iter()
            .map(|j| normalize_name(&j.name))
            .collect();
        let mut pairs = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let candidates = [
                n.strip_prefix("left").map(|r| format!("right{r}")),
                n.strip_suffix("left").map(|r| format!("{r}right")),
                n.strip_prefix('l').map(|r| format!("r{r}")),
            ];
            for c in candidates.into_iter().flatten() {
                if let Some(j) = names.iter().position(|m| *m == c)
                    && j != i
                    && !pairs.iter().any(|&(a, b)| a == i || b == j)
                {
                    pairs.push((i, j));
                    break;
                }
            }
        }
        pairs
    }

    fn resolve_common(&self) -> Vec<(CommonJoint, Vec<usize>)> {
        let names: Vec<String> = self
            .joints
            .iter()
            .map(|j| normalize_name(&j.name))
            .collect();
        let mut out = Vec::new();
        for cj in CommonJoint::EVERY {
            // The common rig's own names ("HipL", ...) first, then the aliases in priority order.
            let own = normalize_name(&format!("{cj:?}"));
            let found = names.iter().position(|n| *n == own).or_else(|| {
                cj.aliases()
                    .iter()
                    .find_map(|a| names.iter().position(|n| n == a))
            });
            if let Some(i) = found {
                out.push((cj, vec![i]));
            }
        }
        // Marker sets without a pelvis joint: use the pelvis markers, else the hip midpoint.
        if !out.iter().any(|(c, _)| *c == CommonJoint::Pelvis) {
            let markers: Vec<usize> = ["lasi", "rasi", "lpsi", "rpsi"]
                .iter()
                .filter_map(|m| names.iter().position(|n| n == m))
                .collect();
            let hips: Vec<usize> = [CommonJoint::HipL, CommonJoint::HipR]
                .iter()
                .filter_map(|h| out.iter().find(|(c, _)| c == h).map(|(_, v)| v[0]))
                .collect();
            if markers.len() == 4 {
                out.insert(0, (CommonJoint::Pelvis, markers));
            } else if hips.len() == 2 {
                out.insert(0, (CommonJoint::Pelvis, hips));
            }
        }
        out.sort_by_key(|(c, _)| *c);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_joint_is_the_model_joints_then_the_arms() {
        let joined: Vec<CommonJoint> = CommonJoint::ALL
            .iter()
            .chain(&CommonJoint::ARMS)
            .copied()
            .collect();
        assert_eq!(joined, CommonJoint::EVERY);
        let arms = Skeleton::common_with_arms();
        assert!(arms.has_arms() && !Skeleton::common().has_arms());
        for (i, c) in CommonJoint::EVERY.iter().enumerate() {
            assert_eq!(arms.common_sources(*c), Some(&[i][..]), "{c:?}");
        }
        assert_eq!(arms.bones().len(), 17);
    }

    #[test]
    fn common_rig_maps_onto_itself() {
        let s = Skeleton::common();
        for (i, c) in CommonJoint::ALL.iter().enumerate() {
            assert_eq!(s.common_sources(*c), Some(&[i][..]), "{c:?}");
        }
        assert_eq!(s.bones().len(), 11);
    }

    #[test]
    fn kinect_maps_every_common_joint() {
        let s = Skeleton::kinect_v2();
        assert!(s.missing_required().is_empty());
        assert_eq!(s.common_sources(CommonJoint::AnkleL), Some(&[14][..]));
        assert_eq!(s.common_sources(CommonJoint::ToeR), Some(&[19][..]));
        assert_eq!(s.common_sources(CommonJoint::Pelvis), Some(&[0][..]));
        assert!(s.lr_pairs.contains(&(12, 16)));
        assert_eq!(s.bones().len(), 24);
    }

    /// A rig of named joints without hierarchy (name resolution needs only the names).
    fn rig(names: &[&str]) -> Skeleton {
        let joints = names
            .iter()
            .map(|n| JointDef {
                name: (*n).into(),
                parent: None,
            })
            .collect();
        Skeleton::new("names", joints, Axis::PosY, Units::Centimetres)
    }

    #[test]
    fn bvh_and_marker_arms_resolve() {
        // BVH: "LeftShoulder1" is the clavicle; the shoulder joint is "LeftArm".
        let bvh = rig(&[
            "LeftShoulder1",
            "LeftArm",
            "LeftForeArm",
            "LeftHand",
            "RightShoulder",
            "RightArm",
            "RightForeArm",
            "RightHand",
        ]);
        assert!(bvh.has_arms());
        assert_eq!(bvh.common_sources(CommonJoint::ShoulderL), Some(&[1][..]));
        assert_eq!(bvh.common_sources(CommonJoint::WristR), Some(&[7][..]));
        let pig = rig(&["LSHO", "LELB", "LWRA", "RSHO", "RELB", "RWRA"]);
        assert!(pig.has_arms());
        assert!(!rig(&["LSHO", "LELB"]).has_arms());
    }

    #[test]
    fn bvh_names_with_typos_resolve() {
        let names = [
            "Hips",
            "LeftUpLeg",
            "LeftLeg",
            "LeftFoot",
            "LeftToes",
            "RightUpLeg",
            "RightLeg",
            "RightFoot",
            "RightToes",
            "Spine",
            "Spine1",
            "HEad",
        ];
        let s = rig(&names);
        assert!(s.missing_required().is_empty());
        assert_eq!(s.common_sources(CommonJoint::Head), Some(&[11][..]));
        assert_eq!(s.common_sources(CommonJoint::Neck), Some(&[10][..]));
        assert_eq!(s.common_sources(CommonJoint::AnkleL), Some(&[3][..]));
    }

    #[test]
    fn marker_set_pelvis_from_asis_psis() {
        let names = ["LASI", "RASI", "LPSI", "RPSI", "LKNE", "RKNE"];
        let joints = names
            .iter()
            .map(|n| JointDef {
                name: (*n).into(),
                parent: None,
            })
            .collect();
        let s = Skeleton::new("markers", joints, Axis::PosZ, Units::Millimetres);
        assert_eq!(
            s.common_sources(CommonJoint::Pelvis),
            Some(&[0, 1, 2, 3][..])
        );
        assert!(s.missing_required().contains(&CommonJoint::AnkleL));
        assert!(s.lr_pairs.contains(&(0, 1)));
    }
}
