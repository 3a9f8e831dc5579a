//! The gait classes of the demo generator and how each edits the normal walk.
//!
//! The first six are the classes of the Jun et al. 2020 Kinect dataset (the "reference six");
//! the four after them extend the set towards the patients users bring (the "extended" set),
//! each edited from its clinical description, cited at its edit.

use serde::{Deserialize, Serialize};

use super::gaitgen::GaitParams;
use crate::core::data::Side;

/// A gait class of the demo generator.
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
    /// Parkinson's disease: short shuffling steps, low foot clearance, flexed trunk, reduced and
    /// asymmetric arm swing (worse on the affected side), optionally festinating.
    Parkinsonian,
    /// Crouch gait of cerebral palsy: knees and hips flexed through stance, equinus or
    /// calcaneus ankle; bilateral.
    Crouch,
    /// Hemiplegia after stroke: circumduction and hip hiking, stiff knee in swing, drop foot,
    /// short stance and a flexed, barely swinging arm on the affected side.
    Hemiplegic,
    /// Slow, variable (cautious) gait: slow, wide-based, long double support, high
    /// stride-to-stride variability; bilateral.
    SlowVariable,
}

/// Which classes a demo dataset has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClassSet {
    /// The six classes of the Jun et al. 2020 dataset.
    #[default]
    ReferenceSix,
    /// The reference six plus Parkinsonian, crouch, hemiplegic and slow variable gait.
    Extended,
}

impl ClassSet {
    /// The classes, in dataset order.
    #[must_use]
    pub fn classes(self) -> &'static [Pathology] {
        match self {
            Self::ReferenceSix => &Pathology::REFERENCE,
            Self::Extended => &Pathology::EXTENDED,
        }
    }

    /// Name shown to users.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::ReferenceSix => "reference six",
            Self::Extended => "extended (ten classes)",
        }
    }

    /// Parses "reference", "reference-six", "six", "extended", "ten".
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let n: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match n.as_str() {
            "reference" | "referencesix" | "six" | "6" => Some(Self::ReferenceSix),
            "extended" | "ten" | "10" | "all" => Some(Self::Extended),
            _ => None,
        }
    }
}

impl Pathology {
    /// The six classes of the Jun et al. 2020 dataset.
    pub const REFERENCE: [Self; 6] = [
        Self::Normal,
        Self::Antalgic,
        Self::Lurch,
        Self::Steppage,
        Self::StiffLegged,
        Self::Trendelenburg,
    ];

    /// Every class: the reference six and the four extended ones.
    pub const EXTENDED: [Self; 10] = [
        Self::Normal,
        Self::Antalgic,
        Self::Lurch,
        Self::Steppage,
        Self::StiffLegged,
        Self::Trendelenburg,
        Self::Parkinsonian,
        Self::Crouch,
        Self::Hemiplegic,
        Self::SlowVariable,
    ];

    /// Label as in the Kinect dataset's folders (`snake_case` for the extended classes).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Antalgic => "antalgic",
            Self::Lurch => "lurch",
            Self::Steppage => "steppage",
            Self::StiffLegged => "stiff_legged",
            Self::Trendelenburg => "trendelenburg",
            Self::Parkinsonian => "parkinsonian",
            Self::Crouch => "crouch",
            Self::Hemiplegic => "hemiplegic",
            Self::SlowVariable => "slow_variable",
        }
    }

    /// Whether the class has an affected side (crouch and slow variable gait are bilateral).
    #[must_use]
    pub fn has_side(self) -> bool {
        !matches!(self, Self::Normal | Self::Crouch | Self::SlowVariable)
    }

    /// Parses a label (also "lurching", "stiff-legged", "parkinson", "hemiparetic", ...).
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
            "parkinsonian" | "parkinson" | "parkinsons" | "pd" => Some(Self::Parkinsonian),
            "crouch" | "crouchgait" => Some(Self::Crouch),
            "hemiplegic" | "hemiparetic" | "hemiplegia" | "stroke" => Some(Self::Hemiplegic),
            "slowvariable" | "variable" | "cautious" => Some(Self::SlowVariable),
            _ => None,
        }
    }
}

/// Applies class `p` of severity `s` (0..1) on side index `a` (0 left, 1 right; `o` the other)
/// to normal parameters. `sign` is +1 for a left affected side.
pub(super) fn apply(g: &mut GaitParams, p: Pathology, s: f32, side: Side) {
    let a = usize::from(side == Side::Right);
    let o = 1 - a;
    let sign = if side == Side::Left { 1.0 } else { -1.0 };
    match p {
        Pathology::Normal => {}
        Pathology::Antalgic => {
            g.stance_pct[a] -= 10.0 * s;
            g.stance_pct[o] += 4.0 * s;
            // The sound foot lands early: shorter step onto it.
            g.right_offset -= sign * 0.07 * s;
            g.cadence_steps_min *= 1.0 - 0.08 * s;
            g.stride_length_m *= 1.0 - 0.18 * s;
            let c = &mut g.curves[a];
            c.knee_flexion.add(5.0, 40.0, -8.0 * s);
            c.hip_flexion.scale_about(0.0, 1.0 - 0.25 * s);
            c.ankle_dorsiflexion.scale_about(0.0, 1.0 - 0.35 * s);
            c.trunk_lateral.add(10.0, 35.0, 5.0 * s);
        }
        Pathology::Lurch => {
            g.cadence_steps_min *= 1.0 - 0.1 * s;
            g.stride_length_m *= 1.0 - 0.12 * s;
            let c = &mut g.curves[a];
            c.trunk_forward.add(5.0, 45.0, -14.0 * s);
            c.hip_flexion.add(40.0, 60.0, -4.0 * s);
            g.trunk_forward_deg -= 2.0 * s;
        }
        Pathology::Steppage => {
            g.cadence_steps_min *= 1.0 - 0.06 * s;
            let c = &mut g.curves[a];
            c.ankle_dorsiflexion.add(0.0, 8.0, -10.0 * s);
            c.ankle_dorsiflexion.add(62.0, 100.0, -18.0 * s);
            c.hip_flexion.add(70.0, 90.0, 14.0 * s);
            c.knee_flexion.add(65.0, 82.0, 20.0 * s);
        }
        Pathology::StiffLegged => {
            g.cadence_steps_min *= 1.0 - 0.1 * s;
            g.stride_length_m *= 1.0 - 0.1 * s;
            let c = &mut g.curves[a];
            c.knee_flexion.scale_about(4.0, 1.0 - 0.75 * s);
            c.hip_adduction.add(60.0, 85.0, -10.0 * s);
            c.pelvic_obliquity.add(60.0, 85.0, 9.0 * s);
            g.curves[o].ankle_dorsiflexion.add(40.0, 55.0, -8.0 * s);
        }
        Pathology::Trendelenburg => {
            g.cadence_steps_min *= 1.0 - 0.05 * s;
            let c = &mut g.curves[a];
            c.pelvic_obliquity.add(5.0, 50.0, 7.0 * s);
            c.trunk_lateral.add(5.0, 45.0, 8.0 * s);
            c.hip_adduction.add(5.0, 45.0, 6.0 * s);
        }
        Pathology::Parkinsonian => parkinsonian(g, s, a),
        Pathology::Crouch => crouch(g, s),
        Pathology::Hemiplegic => hemiplegic(g, s, a, o),
        Pathology::SlowVariable => slow_variable(g, s),
    }
}

/// Parkinsonian gait after Morris et al. 1994 (Brain 117:1169, "The pathogenesis of gait
/// hypokinesia in Parkinson's disease": short strides with cadence kept or raised), Svehlík
/// et al. 2009 (Arch Phys Med Rehabil 90:1880: reduced hip, knee and ankle ranges, reduced
/// push-off, knee flexed at contact, flexed trunk) and Mirelman et al. 2019 (Lancet Neurol
/// 18:697: reduced, asymmetric arm swing, worse on the side of onset; festination).
fn parkinsonian(g: &mut GaitParams, s: f32, a: usize) {
    g.stride_length_m *= 1.0 - 0.4 * s;
    g.cadence_steps_min *= 1.0 + 0.04 * s;
    g.trunk_forward_deg += 16.0 * s;
    for (k, c) in g.curves.iter_mut().enumerate() {
        // The side of onset is affected more.
        let extra = if k == a { 0.15 * s } else { 0.0 };
        c.hip_flexion.scale_about(0.0, 1.0 - 0.35 * s - extra);
        c.hip_flexion.add(0.0, 100.0, 5.0 * s);
        // Low foot clearance: knee flexed through stance, small swing flexion.
        c.knee_flexion.scale_about(12.0, 1.0 - 0.4 * s - extra);
        c.knee_flexion.add(0.0, 45.0, 6.0 * s);
        c.ankle_dorsiflexion.scale_about(0.0, 1.0 - 0.5 * s);
        // Arms hang forward of the flexed trunk and swing little; the onset side barely.
        let arm = if k == a {
            1.0 - 0.85 * s
        } else {
            1.0 - 0.45 * s
        };
        c.shoulder_flexion.scale_about(0.0, arm);
        c.shoulder_flexion.add(0.0, 100.0, 10.0 * s);
        c.elbow_flexion.add(0.0, 100.0, 20.0 * s);
        c.elbow_flexion.scale_about(35.0, arm);
    }
    g.stance_pct = g.stance_pct.map(|v| v + 3.0 * s);
}

/// Crouch gait after Rodda & Graham 2001/2004 (Eur J Neurol 8 Suppl 5:98, 11 Suppl 1:68: knee
/// and hip flexed through stance; "true equinus" to "crouch" with excessive dorsiflexion) and
/// Wren et al. 2005 (Gait Posture 22:295: crouch = knee flexion above 20-30 degrees through
/// stance). Bilateral; `g.calcaneus` chooses the calcaneus ankle over equinus.
fn crouch(g: &mut GaitParams, s: f32) {
    g.stride_length_m *= 1.0 - 0.3 * s;
    g.cadence_steps_min *= 1.0 - 0.08 * s;
    g.trunk_forward_deg += 8.0 * s;
    g.pelvic_tilt_deg += 8.0 * s;
    let calcaneus = g.calcaneus;
    for c in &mut g.curves {
        c.knee_flexion.scale_about(60.0, 1.0 - 0.45 * s);
        c.knee_flexion.add(0.0, 55.0, 10.0 * s);
        c.hip_flexion.add(0.0, 100.0, 12.0 * s);
        c.hip_flexion.scale_about(10.0, 1.0 - 0.2 * s);
        // Skeleton ankle angles are relative to the foot's mid-stance pitch (no static
        // trial), so each ankle shows by its shape: equinus lands and swings plantarflexed
        // (forefoot contact), calcaneus collapses into dorsiflexion late in stance.
        if calcaneus {
            c.ankle_dorsiflexion.add(40.0, 56.0, 14.0 * s);
        } else {
            c.ankle_dorsiflexion.add(0.0, 10.0, -14.0 * s);
            c.ankle_dorsiflexion.add(60.0, 100.0, -10.0 * s);
        }
        c.shoulder_flexion.scale_about(0.0, 1.0 - 0.3 * s);
        c.elbow_flexion.add(0.0, 100.0, 15.0 * s);
    }
    g.stance_pct = g.stance_pct.map(|v| v + 2.0 * s);
}

/// Hemiplegic gait after Perry & Burnfield 2010 (Gait Analysis, 2nd ed., ch. 17-18), Olney &
/// Richards 1996 (Gait Posture 4:136: slow, short stance and long swing on the paretic side,
/// reduced knee flexion in swing) and Kerrigan et al. 2000 (Am J Phys Med Rehabil 79:247:
/// circumduction and hip hiking as swing-phase compensations); the arm on the paretic side is
/// held flexed at the elbow and barely swings.
fn hemiplegic(g: &mut GaitParams, s: f32, a: usize, o: usize) {
    g.cadence_steps_min *= 1.0 - 0.18 * s;
    g.stride_length_m *= 1.0 - 0.3 * s;
    g.stance_pct[a] -= 6.0 * s;
    g.stance_pct[o] += 5.0 * s;
    let c = &mut g.curves[a];
    c.knee_flexion.scale_about(5.0, 1.0 - 0.6 * s);
    c.hip_adduction.add(60.0, 90.0, -9.0 * s);
    c.pelvic_obliquity.add(60.0, 90.0, 7.0 * s);
    c.ankle_dorsiflexion.add(62.0, 100.0, -10.0 * s);
    c.hip_flexion.scale_about(0.0, 1.0 - 0.2 * s);
    c.shoulder_flexion.scale_about(0.0, 1.0 - 0.85 * s);
    c.shoulder_flexion.add(0.0, 100.0, 8.0 * s);
    c.elbow_flexion.scale_about(35.0, 1.0 - 0.85 * s);
    c.elbow_flexion.add(0.0, 100.0, 50.0 * s);
}

/// Slow, variable gait after Hausdorff 2005 (J `NeuroEng` Rehabil 2:19: stride-time CV of about
/// 2 % in healthy adults, raised well above it in falls-prone older adults and dementia) and
/// Beauchet et al. 2009 (Eur J Neurol 16:786: slower, more variable gait in cognitive decline),
/// with the wide base and long double support of cautious gait (Nutt et al. 1993, Neurology
/// 43:268). Bilateral.
fn slow_variable(g: &mut GaitParams, s: f32) {
    g.cadence_steps_min *= 1.0 - 0.15 * s;
    g.stride_length_m *= 1.0 - 0.3 * s;
    g.stride_cv = 0.015 + 0.075 * s;
    g.stance_pct = g.stance_pct.map(|v| v + 4.0 * s);
    for c in &mut g.curves {
        c.hip_adduction.add(0.0, 100.0, -4.0 * s);
        c.knee_flexion.scale_about(5.0, 1.0 - 0.15 * s);
        c.shoulder_flexion.scale_about(0.0, 1.0 - 0.35 * s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extended_set_starts_with_the_reference_six_and_labels_parse_back() {
        assert_eq!(Pathology::EXTENDED[..6], Pathology::REFERENCE);
        for p in Pathology::EXTENDED {
            assert_eq!(Pathology::parse(p.label()), Some(p));
        }
        assert_eq!(
            Pathology::parse("Parkinson's"),
            Some(Pathology::Parkinsonian)
        );
        assert_eq!(ClassSet::parse("Extended"), Some(ClassSet::Extended));
        assert_eq!(
            ClassSet::parse("reference-six"),
            Some(ClassSet::ReferenceSix)
        );
        assert_eq!(ClassSet::parse("seven"), None);
    }
}
