//! Pathology priors: per-class and per-subject distributions of the gait features clinicians
//! read (ROM, stance %, stride, cadence, asymmetry) and a severity score, the distance of each
//! walk from the normal class. Serialisable; prompts for generation are built from these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::normative::{NormativeBands, gait_profile};
use super::{AngleVar, GaitAnalysis, analyse, symmetry_index};
use crate::core::data::{Dataset, GaitSequence, Side};
use crate::core::jobs::{CancelToken, Cancelled, Progress, run_parallel};
use crate::core::math::{mean, quantile, std_dev};

/// Feature keys with descriptions, in table order. Units are in the key.
pub const FEATURES: [(&str, &str); 22] = [
    ("cadence_steps_min", "cadence, steps/min"),
    ("speed_m_s", "walking speed, m/s"),
    ("stride_time_s", "stride time, s (mean of sides)"),
    ("stride_length_m", "stride length, m (mean of sides)"),
    ("stance_pct", "stance, % of stride (mean of sides)"),
    ("double_support_pct", "double support, % of stride"),
    ("step_width_m", "step width, m"),
    (
        "stride_time_cv_pct",
        "stride-time variability: SD over mean of the stride times, % (mean of sides)",
    ),
    (
        "hip_rom_deg",
        "hip flexion/extension ROM, deg (mean of sides)",
    ),
    ("knee_rom_deg", "knee flexion ROM, deg (mean of sides)"),
    (
        "ankle_rom_deg",
        "ankle dorsi/plantarflexion ROM, deg (mean of sides)",
    ),
    (
        "hip_add_rom_deg",
        "hip ab/adduction ROM, deg (mean of sides)",
    ),
    ("pelvic_obliquity_rom_deg", "pelvic obliquity ROM, deg"),
    ("trunk_lateral_rom_deg", "trunk lateral lean ROM, deg"),
    (
        "arm_swing_rom_deg",
        "arm swing (shoulder flexion) ROM, deg (mean of sides; rigs with arms)",
    ),
    ("si_step_time_pct", "symmetry index of step time, %"),
    ("si_stance_pct", "symmetry index of stance %, %"),
    ("si_step_length_pct", "symmetry index of step length, %"),
    ("si_knee_rom_pct", "symmetry index of knee ROM, %"),
    ("si_hip_rom_pct", "symmetry index of hip ROM, %"),
    (
        "si_arm_swing_pct",
        "symmetry index of arm swing ROM, % (rigs with arms)",
    ),
    (
        "asymmetry_pct",
        "mean of the five step, stance and leg ROM symmetry indices, %",
    ),
];

/// Class names recognised as the normal/healthy reference when none is given.
pub const NORMAL_NAMES: [&str; 6] = ["normal", "healthy", "control", "controls", "typical", "td"];

/// The first label that names normal gait ([`NORMAL_NAMES`], any case).
#[must_use]
pub fn normal_label(labels: &[String]) -> Option<String> {
    labels
        .iter()
        .find(|l| NORMAL_NAMES.contains(&l.to_ascii_lowercase().as_str()))
        .cloned()
}

/// Feature values of one walk, keyed as in [`FEATURES`].
#[must_use]
pub fn features(a: &GaitAnalysis) -> BTreeMap<String, f64> {
    let st = &a.spatiotemporal;
    let both = |v: AngleVar| {
        mean(&[a.rom_deg(v, Side::Left), a.rom_deg(v, Side::Right)]).unwrap_or(f64::NAN)
    };
    let si = [
        symmetry_index(st.left.step_time_s, st.right.step_time_s),
        symmetry_index(st.left.stance_pct, st.right.stance_pct),
        symmetry_index(st.left.step_length_m, st.right.step_length_m),
        a.rom_symmetry(AngleVar::KneeFlexion),
        a.rom_symmetry(AngleVar::HipFlexion),
    ];
    let values = [
        st.cadence_steps_min,
        st.speed_m_s,
        st.both(|s| s.stride_time_s),
        st.both(|s| s.stride_length_m),
        st.both(|s| s.stance_pct),
        st.both(|s| s.double_support_pct),
        st.both(|s| s.step_width_m),
        stride_time_cv_pct(&a.cycles),
        both(AngleVar::HipFlexion),
        both(AngleVar::KneeFlexion),
        both(AngleVar::AnkleDorsiflexion),
        both(AngleVar::HipAdduction),
        a.rom_deg(AngleVar::PelvicObliquity, Side::Left),
        a.rom_deg(AngleVar::TrunkLeanLateral, Side::Left),
        both(AngleVar::ShoulderFlexion),
        si[0],
        si[1],
        si[2],
        si[3],
        si[4],
        a.rom_symmetry(AngleVar::ShoulderFlexion),
        mean(&si).unwrap_or(f64::NAN),
    ];
    FEATURES
        .iter()
        .zip(values)
        .map(|((k, _), v)| ((*k).to_string(), v))
        .collect()
}

/// Stride-time coefficient of variation, % (SD over mean of the cycles' durations), the mean
/// of the sides that have at least three cycles; NaN otherwise. Durations are whole frames, so
/// at 30 Hz about 1 % of it is the frame grid.
fn stride_time_cv_pct(cycles: &[Vec<crate::core::data::events::Cycle>; 2]) -> f64 {
    let per_side: Vec<f64> = cycles
        .iter()
        .filter(|c| c.len() >= 3)
        .filter_map(|c| {
            let d: Vec<f64> = c.iter().map(|c| (c.end - c.start) as f64).collect();
            Some(100.0 * std_dev(&d)? / mean(&d)?)
        })
        .collect();
    mean(&per_side).unwrap_or(f64::NAN)
}

/// Summary statistics of one feature over a group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Finite values counted.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample SD (NaN with n < 2).
    pub sd: f64,
    /// 5th percentile.
    pub q05: f64,
    /// 25th percentile.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// 75th percentile.
    pub q75: f64,
    /// 95th percentile.
    pub q95: f64,
}

impl Stat {
    /// Statistics of the finite values.
    #[must_use]
    pub fn of(values: &[f64]) -> Self {
        let q = |p| quantile(values, p).unwrap_or(f64::NAN);
        Self {
            n: values.iter().filter(|v| v.is_finite()).count(),
            mean: mean(values).unwrap_or(f64::NAN),
            sd: std_dev(values).unwrap_or(f64::NAN),
            q05: q(0.05),
            q25: q(0.25),
            q50: q(0.5),
            q75: q(0.75),
            q95: q(0.95),
        }
    }
}

/// Features and severity of one analysed walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceFeatures {
    /// Sequence id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Class label.
    pub label: Option<String>,
    /// Feature values.
    pub features: BTreeMap<String, f64>,
    /// Gait Profile Score against the dataset's normal class bands, degrees.
    pub gps_dataset_deg: f64,
    /// Gait Profile Score against external bands (e.g. Schwartz 2008), degrees.
    pub gps_external_deg: f64,
    /// Distance from the normal class (see [`PriorSet::severity_of`]).
    pub severity: f64,
}

/// Priors of one group (a class or a subject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPriors {
    /// Class label, or subject id for subject priors.
    pub name: String,
    /// Class of the group (for subjects, their label).
    pub label: Option<String>,
    /// Walks analysed.
    pub sequences: usize,
    /// Distinct subjects.
    pub subjects: usize,
    /// Per-feature statistics, keyed as in [`FEATURES`].
    pub features: BTreeMap<String, Stat>,
    /// Severity statistics.
    pub severity: Stat,
    /// GPS against the dataset's normal bands.
    pub gps_dataset_deg: Stat,
}

/// Priors of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorSet {
    /// Dataset name.
    pub dataset: String,
    /// The class used as normal reference, if one was found.
    pub normal_class: Option<String>,
    /// Bands computed from the normal class.
    pub normal_bands: Option<NormativeBands>,
    /// Per class, sorted by name.
    pub classes: Vec<GroupPriors>,
    /// Per subject, sorted by id.
    pub subjects: Vec<GroupPriors>,
    /// Per walk.
    pub sequences: Vec<SequenceFeatures>,
    /// Walks that could not be analysed: `(id, reason)`.
    pub failed: Vec<(String, String)>,
}

impl PriorSet {
    /// One feature over every analysed walk, in walk order (NaN where it is undefined).
    #[must_use]
    pub fn column(&self, key: &str) -> Vec<f64> {
        self.sequences
            .iter()
            .map(|s| s.features.get(key).copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// Priors of a class by (case-insensitive) name.
    #[must_use]
    pub fn class(&self, name: &str) -> Option<&GroupPriors> {
        self.classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Severity of a feature vector: RMS over features of the z-score against the normal
    /// class, `sqrt(mean_k ((x_k - mu_k) / sd_k)^2)`, with `sd_k` floored at 5 % of `|mu_k|`
    /// so a near-constant feature cannot dominate. 0 = typical of the normal class.
    #[must_use]
    pub fn severity_of(normal: &GroupPriors, f: &BTreeMap<String, f64>) -> f64 {
        let z: Vec<f64> = f
            .iter()
            .filter_map(|(k, x)| {
                let s = normal.features.get(k)?;
                let sd = s.sd.max(0.05 * s.mean.abs()).max(1e-6);
                (x.is_finite() && s.mean.is_finite() && sd.is_finite())
                    .then(|| ((x - s.mean) / sd).powi(2))
            })
            .collect();
        mean(&z).map_or(f64::NAN, f64::sqrt)
    }
}

fn group(name: &str, label: Option<String>, members: &[&SequenceFeatures]) -> GroupPriors {
    let mut subjects: Vec<&str> = members.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let features = FEATURES
        .iter()
        .map(|(k, _)| {
            let v: Vec<f64> = members
                .iter()
                .map(|m| m.features.get(*k).copied().unwrap_or(f64::NAN))
                .collect();
            ((*k).to_string(), Stat::of(&v))
        })
        .collect();
    GroupPriors {
        name: name.to_string(),
        label,
        sequences: members.len(),
        subjects: subjects.len(),
        features,
        severity: Stat::of(&members.iter().map(|m| m.severity).collect::<Vec<_>>()),
        gps_dataset_deg: Stat::of(
            &members
                .iter()
                .map(|m| m.gps_dataset_deg)
                .collect::<Vec<_>>(),
        ),
    }
}

/// Analyses every walk and builds class and subject priors. `normal_class` names the
/// reference class; otherwise the first label in [`NORMAL_NAMES`] is used. `external` bands
/// (e.g. Schwartz 2008) add a second GPS per walk.
///
/// # Errors
/// Only cancellation; walks that cannot be analysed are listed in [`PriorSet::failed`].
pub fn compute_priors(
    ds: &Dataset,
    normal_class: Option<&str>,
    external: Option<&NormativeBands>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<PriorSet, Cancelled> {
    compute_priors_of(
        &ds.name,
        &ds.sequences,
        normal_class,
        external,
        progress,
        cancel,
    )
}

/// Walks analysed per parallel job: big enough that scheduling costs nothing, small enough
/// that progress moves smoothly and a cancel is seen within a few milliseconds.
const ANALYSIS_CHUNK: usize = 64;

/// Analyses `walks` on every core, in chunks; results in walk order, so the priors never
/// depend on the schedule.
fn analyse_all<'a>(
    walks: &'a [GaitSequence],
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<AnalysedWalks<'a>, Cancelled> {
    progress.start("analysing", walks.len() as u64);
    let chunks: Vec<&[GaitSequence]> = walks.chunks(ANALYSIS_CHUNK).collect();
    let done = run_parallel(
        &chunks,
        "pathogait-priors",
        |_, chunk| {
            cancel.check()?;
            let out: Vec<_> = chunk.iter().map(|s| (s, analyse(s))).collect();
            if let Some(last) = chunk.last() {
                progress.advance(chunk.len() as u64, &last.id);
            }
            Ok(out)
        },
        || Cancelled,
    );
    progress.finish();
    let mut analysed = Vec::with_capacity(walks.len());
    let mut failed = Vec::new();
    for chunk in done {
        for (s, a) in chunk? {
            match a {
                Ok(a) => analysed.push((s, a)),
                Err(e) => failed.push((s.id.clone(), e.to_string())),
            }
        }
    }
    Ok((analysed, failed))
}

/// Walks that were analysed, with their analysis, and `(id, reason)` of those that failed.
type AnalysedWalks<'a> = (Vec<(&'a GaitSequence, GaitAnalysis)>, Vec<(String, String)>);

/// [`compute_priors`] over walks that are not held in a [`Dataset`] (the studio shares its
/// walks with the job instead of copying them): `name` names the dataset in the bands.
///
/// # Errors
/// Only cancellation.
pub fn compute_priors_of(
    name: &str,
    walks: &[GaitSequence],
    normal_class: Option<&str>,
    external: Option<&NormativeBands>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<PriorSet, Cancelled> {
    let (analysed, failed) = analyse_all(walks, progress, cancel)?;
    let labels: Vec<String> = walks
        .iter()
        .filter_map(|s| s.label.as_deref())
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let normal = normal_class
        .map(str::to_string)
        .or_else(|| normal_label(&labels))
        .and_then(|n| labels.into_iter().find(|l| l.eq_ignore_ascii_case(&n)));
    let normal_bands = normal.as_ref().and_then(|n| {
        let curves: Vec<&[_]> = analysed
            .iter()
            .filter(|(s, _)| s.label.as_deref() == Some(n.as_str()))
            .map(|(_, a)| a.curves.as_slice())
            .collect();
        (curves.len() >= 2).then(|| {
            NormativeBands::from_curves(
                format!("{name} normal class '{n}' (n={})", curves.len()),
                &curves,
            )
        })
    });
    let mut seqs: Vec<SequenceFeatures> = analysed
        .iter()
        .map(|(s, a)| SequenceFeatures {
            id: s.id.clone(),
            subject: s.subject.clone(),
            label: s.label.clone(),
            features: features(a),
            gps_dataset_deg: normal_bands
                .as_ref()
                .map_or(f64::NAN, |b| gait_profile(&a.curves, b).gps),
            gps_external_deg: external.map_or(f64::NAN, |b| gait_profile(&a.curves, b).gps),
            severity: f64::NAN,
        })
        .collect();
    let label_of = |s: &SequenceFeatures| s.label.clone().unwrap_or_else(|| "(unlabelled)".into());
    if let Some(n) = &normal {
        let members: Vec<&SequenceFeatures> = seqs
            .iter()
            .filter(|s| s.label.as_deref() == Some(n.as_str()))
            .collect();
        let reference = group(n, Some(n.clone()), &members);
        for s in &mut seqs {
            s.severity = PriorSet::severity_of(&reference, &s.features);
        }
    }
    let mut by_class: BTreeMap<String, Vec<&SequenceFeatures>> = BTreeMap::new();
    let mut by_subject: BTreeMap<String, Vec<&SequenceFeatures>> = BTreeMap::new();
    for s in &seqs {
        by_class.entry(label_of(s)).or_default().push(s);
        by_subject.entry(s.subject.clone()).or_default().push(s);
    }
    let classes = by_class
        .iter()
        .map(|(k, v)| group(k, v[0].label.clone(), v))
        .collect();
    let subjects = by_subject
        .iter()
        .map(|(k, v)| group(k, v[0].label.clone(), v))
        .collect();
    Ok(PriorSet {
        dataset: name.to_string(),
        normal_class: normal,
        normal_bands,
        classes,
        subjects,
        sequences: seqs,
        failed,
    })
}
