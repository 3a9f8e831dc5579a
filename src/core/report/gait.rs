//! The printed gait report's content (after pyCGM2's `pdfGaitReport`): per-side kinematic
//! curves against the normative band, the spatio-temporal table against a reference group,
//! the Gait Profile Score with the Movement Analysis Profile (Baker et al. 2009, Gait Posture
//! 30:265-269: one Gait Variable Score per variable and side, the RMS difference of its curve
//! from the normative mean), the clinical findings, an optional before/after comparison and
//! the normative twin's flags. [`super::pages`] lays it out on pages, [`super::html`] as HTML.

use crate::core::biomech::normative::gait_profile;
use crate::core::biomech::priors::normal_label;
use crate::core::biomech::{AngleVar, GaitAnalysis, NormativeBands, analyse};
use crate::core::data::{Dataset, GaitSequence, Side};
use crate::core::export::angles::spatiotemporal_rows;
use crate::core::jobs::{CancelToken, Cancelled, Progress};
use crate::core::math::{mean, std_dev};
use crate::core::twin::{TwinModel, angle_deviation};

use super::{ClinicalReport, clinical_report, reference_group};

/// What to report on.
pub struct ReportRequest<'a> {
    /// Title of the reported group ("walk X", "subject S", "class C").
    pub title: String,
    /// The reported walks.
    pub walks: Vec<&'a GaitSequence>,
    /// A second group to compare with (before/after): its title and walks.
    pub compare: Option<(String, Vec<&'a GaitSequence>)>,
    /// The reference pool: the data without the reported (and compared) walks.
    pub rest: &'a Dataset,
    /// Reference class (default: the normal/healthy/control class of `rest`).
    pub normal_class: Option<&'a str>,
    /// Published normative curves; default: bands from the reference class's walks.
    pub bands: Option<&'a NormativeBands>,
    /// A trained normative twin: its flags and rebuilt curves go into the report.
    pub twin: Option<&'a TwinModel>,
}

/// One reported group's measurements.
#[derive(Debug, Clone)]
pub struct GroupReport {
    /// Title.
    pub title: String,
    /// The clinical text and evidence table.
    pub clinical: ClinicalReport,
    /// Analyses of the walks that could be analysed.
    pub analyses: Vec<GaitAnalysis>,
    /// Spatio-temporal rows: (name, unit, left, right), means over the walks.
    pub spatiotemporal: Vec<(String, String, f64, f64)>,
    /// Mean Gait Variable Score per variable and side `[left, right]` (degrees).
    pub gvs: Vec<(AngleVar, [f64; 2])>,
    /// Gait Profile Score `[left, right, overall]` (degrees; means over the walks).
    pub gps: [f64; 3],
}

impl GroupReport {
    /// Mean curve over the walks of a variable on a side (0..=100 %).
    #[must_use]
    pub fn mean_curve(&self, var: AngleVar, side: Side) -> Option<Vec<f64>> {
        mean_curve(
            self.analyses
                .iter()
                .filter_map(|a| a.curve(var, side))
                .map(|c| &c.mean[..]),
        )
    }

    /// The GVS pair of a variable.
    #[must_use]
    pub fn gvs_of(&self, var: AngleVar) -> Option<[f64; 2]> {
        self.gvs.iter().find(|(v, _)| *v == var).map(|(_, g)| *g)
    }
}

/// The reference group's ranges.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Description ("class 'normal' of demo, 12 walks").
    pub name: String,
    /// Walks analysed.
    pub walks: usize,
    /// Per spatio-temporal row name: mean ± 2 SD of the walks' values (sides pooled).
    pub spatiotemporal: Vec<(String, (f64, f64))>,
    /// Per variable: mean and SD of the reference walks' GVS (both sides).
    pub gvs: Vec<(AngleVar, (f64, f64))>,
    /// Mean and SD of the reference walks' GPS.
    pub gps: Option<(f64, f64)>,
}

impl Reference {
    /// The range of a spatio-temporal row.
    #[must_use]
    pub fn range_of(&self, row: &str) -> Option<(f64, f64)> {
        self.spatiotemporal
            .iter()
            .find(|(n, _)| n == row)
            .map(|(_, r)| *r)
    }

    /// Mean and SD of a variable's GVS.
    #[must_use]
    pub fn gvs_of(&self, var: AngleVar) -> Option<(f64, f64)> {
        self.gvs.iter().find(|(v, _)| *v == var).map(|(_, r)| *r)
    }

    /// Upper limit of a typical GVS (mean + 2 SD).
    #[must_use]
    pub fn gvs_limit(&self, var: AngleVar) -> Option<f64> {
        self.gvs_of(var).map(|(m, sd)| m + 2.0 * sd)
    }
}

/// The normative twin's result for one walk.
#[derive(Debug, Clone)]
pub struct TwinRow {
    /// Walk id.
    pub walk: String,
    /// Flagged joints (e.g. `KneeL`).
    pub flagged: Vec<String>,
    /// Highest joint score (error / threshold; > 1 flagged) and its joint.
    pub worst: (String, f64),
    /// GVS before and after the twin per variable and side.
    pub deviation: Vec<(AngleVar, Side, f64, f64)>,
    /// The twin's curves (variable, side, 0..=100 %).
    pub curves: Vec<(AngleVar, Side, Vec<f64>)>,
}

/// How a measure moved between two sessions, judged against the reference range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the reference range in both.
    Typical,
    /// Closer to (or into) the reference range.
    Closer,
    /// Further from (or out of) the reference range.
    Further,
    /// Outside the range by the same amount.
    Unchanged,
    /// No reference range or a missing value.
    Unknown,
}

impl Verdict {
    /// Words for a table.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Self::Typical => "in range in both",
            Self::Closer => "closer to normal",
            Self::Further => "further from normal",
            Self::Unchanged => "unchanged",
            Self::Unknown => "no reference",
        }
    }
}

/// One row of the comparison.
#[derive(Debug, Clone)]
pub struct CompareRow {
    /// Measure (with side).
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Value in the reported group (A) and the compared one (B).
    pub a: f64,
    /// Value in B.
    pub b: f64,
    /// Reference range.
    pub range: Option<(f64, f64)>,
    /// Judgement of B against A.
    pub verdict: Verdict,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct GaitReport {
    /// The reported group (A).
    pub a: GroupReport,
    /// The compared group (B), when asked.
    pub b: Option<GroupReport>,
    /// Normative curves used for the plots and scores.
    pub bands: Option<NormativeBands>,
    /// Reference ranges.
    pub reference: Reference,
    /// Comparison rows (A → B), when comparing.
    pub compare: Vec<CompareRow>,
    /// Normative twin rows (A's walks, then B's), when a twin was given.
    pub twin: Vec<TwinRow>,
    /// Any reported walk is synthetic.
    pub synthetic: bool,
}

impl GaitReport {
    /// "walk A", or "walk A compared with walk B".
    #[must_use]
    pub fn title(&self) -> String {
        match &self.b {
            Some(b) => format!("{} compared with {}", self.a.title, b.title),
            None => self.a.title.clone(),
        }
    }
}

/// Pointwise mean of curves of equal length (non-finite values left out).
pub(super) fn mean_curve<'a>(curves: impl Iterator<Item = &'a [f64]>) -> Option<Vec<f64>> {
    let curves: Vec<&[f64]> = curves.collect();
    let n = curves.first()?.len();
    Some(
        (0..n)
            .map(|i| {
                let v: Vec<f64> = curves
                    .iter()
                    .filter_map(|c| c.get(i).copied())
                    .filter(|x| x.is_finite())
                    .collect();
                mean(&v).unwrap_or(f64::NAN)
            })
            .collect(),
    )
}

fn mean_finite(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.filter(|x| x.is_finite()).collect();
    mean(&v).unwrap_or(f64::NAN)
}

/// Distance of `v` outside `range` (0 inside).
fn outside(v: f64, (lo, hi): (f64, f64)) -> f64 {
    if v < lo {
        lo - v
    } else if v > hi {
        v - hi
    } else {
        0.0
    }
}

/// Judges the move from `a` to `b` against `range`.
#[must_use]
pub fn verdict(a: f64, b: f64, range: Option<(f64, f64)>) -> Verdict {
    let Some(r) = range else {
        return Verdict::Unknown;
    };
    if !a.is_finite() || !b.is_finite() {
        return Verdict::Unknown;
    }
    let (da, db) = (outside(a, r), outside(b, r));
    let tol = 1e-9 * (r.1 - r.0).abs().max(1.0);
    if da <= tol && db <= tol {
        Verdict::Typical
    } else if db + tol < da {
        Verdict::Closer
    } else if db > da + tol {
        Verdict::Further
    } else {
        Verdict::Unchanged
    }
}

/// Builds the report: analyses the reported (and compared) walks and the reference class,
/// derives the bands when none are given, scores every curve, runs the twin when given.
///
/// # Errors
/// Cancellation.
pub fn gait_report(
    req: &ReportRequest<'_>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<GaitReport, Cancelled> {
    let normal = req
        .normal_class
        .map(String::from)
        .or_else(|| normal_label(&req.rest.labels()));
    progress.start(
        "Analysing the reference walks",
        req.rest.sequences.len() as u64,
    );
    let reference: Vec<GaitAnalysis> = req
        .rest
        .sequences
        .iter()
        .filter(|s| normal.is_some() && s.label == normal)
        .filter_map(|s| analyse(s).ok())
        .collect();
    progress.finish();
    cancel.check()?;
    let bands = req.bands.cloned().or_else(|| {
        let curves: Vec<&[_]> = reference.iter().map(|a| &a.curves[..]).collect();
        let name = normal.as_deref().unwrap_or("-");
        let b = NormativeBands::from_curves(
            format!(
                "class '{name}' of {} (n={})",
                req.rest.name,
                reference.len()
            ),
            &curves,
        );
        (!b.bands.is_empty()).then_some(b)
    });
    // One reference group for both sides of a comparison.
    let (group_priors, group_name) =
        reference_group(req.rest, normal.as_deref(), progress, cancel)?;
    let group = |title: &str, walks: &[&GaitSequence]| {
        let clinical = clinical_report(
            title,
            walks,
            group_priors.as_ref(),
            &group_name,
            bands.as_ref(),
        );
        group_report(clinical, walks, bands.as_ref())
    };
    let a = group(&req.title, &req.walks);
    let b = req.compare.as_ref().map(|(t, w)| group(t, w));
    let reference = reference_ranges(&a.clinical.reference, &reference, bands.as_ref());
    let compare = b
        .as_ref()
        .map(|b| compare_rows(&a, b, &reference))
        .unwrap_or_default();
    let mut twin = Vec::new();
    if let (Some(model), Some(bands)) = (req.twin, bands.as_ref()) {
        progress.start("Normative twin", 0);
        let all = req
            .walks
            .iter()
            .chain(req.compare.iter().flat_map(|(_, w)| w.iter()));
        for w in all {
            cancel.check()?;
            if let Ok(r) = model.analyse_walk(w) {
                twin.push(twin_row(w, &r, bands));
            }
        }
    }
    let synthetic = req
        .walks
        .iter()
        .chain(req.compare.iter().flat_map(|(_, w)| w.iter()))
        .any(|w| w.is_synthetic());
    Ok(GaitReport {
        a,
        b,
        bands,
        reference,
        compare,
        twin,
        synthetic,
    })
}

fn group_report(
    clinical: ClinicalReport,
    walks: &[&GaitSequence],
    bands: Option<&NormativeBands>,
) -> GroupReport {
    let analyses: Vec<GaitAnalysis> = walks.iter().filter_map(|w| analyse(w).ok()).collect();
    let rows: Vec<Vec<(&str, &str, f64, f64)>> = analyses.iter().map(spatiotemporal_rows).collect();
    let spatiotemporal = rows
        .first()
        .map(|first| {
            first
                .iter()
                .enumerate()
                .map(|(i, (name, unit, _, _))| {
                    (
                        (*name).to_string(),
                        (*unit).to_string(),
                        mean_finite(rows.iter().map(|r| r[i].2)),
                        mean_finite(rows.iter().map(|r| r[i].3)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let profiles: Vec<_> = bands
        .map(|b| {
            analyses
                .iter()
                .map(|a| gait_profile(&a.curves, b))
                .collect()
        })
        .unwrap_or_default();
    let gvs = AngleVar::ALL
        .iter()
        .filter(|v| bands.is_some_and(|b| b.band(**v).is_some()))
        .map(|&var| {
            let side = |s: Side| {
                mean_finite(profiles.iter().flat_map(|p| {
                    p.gvs
                        .iter()
                        .filter(move |g| g.0 == var && g.1 == s)
                        .map(|g| g.2)
                }))
            };
            (var, [side(Side::Left), side(Side::Right)])
        })
        .collect();
    let gps = [
        mean_finite(profiles.iter().map(|p| p.gps_left)),
        mean_finite(profiles.iter().map(|p| p.gps_right)),
        mean_finite(profiles.iter().map(|p| p.gps)),
    ];
    GroupReport {
        title: clinical.title.clone(),
        clinical,
        analyses,
        spatiotemporal,
        gvs,
        gps,
    }
}

fn range_2sd(v: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    let (m, sd) = (mean(&v)?, std_dev(&v)?);
    Some((m - 2.0 * sd, m + 2.0 * sd))
}

fn reference_ranges(
    name: &str,
    walks: &[GaitAnalysis],
    bands: Option<&NormativeBands>,
) -> Reference {
    let rows: Vec<Vec<(&str, &str, f64, f64)>> = walks.iter().map(spatiotemporal_rows).collect();
    let spatiotemporal = rows
        .first()
        .map(|first| {
            (0..first.len())
                .filter_map(|i| {
                    let v: Vec<f64> = rows.iter().flat_map(|r| [r[i].2, r[i].3]).collect();
                    range_2sd(&v).map(|r| (first[i].0.to_string(), r))
                })
                .collect()
        })
        .unwrap_or_default();
    let profiles: Vec<_> = bands
        .map(|b| walks.iter().map(|a| gait_profile(&a.curves, b)).collect())
        .unwrap_or_default();
    let stats = |v: Vec<f64>| {
        let v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        Some((mean(&v)?, std_dev(&v)?))
    };
    let gvs = AngleVar::ALL
        .iter()
        .filter_map(|&var| {
            let v = profiles
                .iter()
                .flat_map(|p| p.gvs.iter().filter(|g| g.0 == var).map(|g| g.2))
                .collect();
            stats(v).map(|s| (var, s))
        })
        .collect();
    Reference {
        name: name.to_string(),
        walks: walks.len(),
        spatiotemporal,
        gvs,
        gps: stats(profiles.iter().map(|p| p.gps).collect()),
    }
}

fn compare_rows(a: &GroupReport, b: &GroupReport, r: &Reference) -> Vec<CompareRow> {
    let mut out = Vec::new();
    for ((name, unit, al, ar), (_, _, bl, br)) in a.spatiotemporal.iter().zip(&b.spatiotemporal) {
        if name == "Cycles" {
            continue;
        }
        let range = r.range_of(name);
        let one_value = !ar.is_finite() && !br.is_finite();
        let sides: Vec<(&str, f64, f64)> = if one_value {
            vec![("", *al, *bl)]
        } else {
            vec![(" L", *al, *bl), (" R", *ar, *br)]
        };
        for (s, x, y) in sides {
            out.push(CompareRow {
                name: format!("{name}{s}"),
                unit: unit.clone(),
                a: x,
                b: y,
                range,
                verdict: verdict(x, y, range),
            });
        }
    }
    for (var, ga) in &a.gvs {
        let Some(gb) = b.gvs_of(*var) else { continue };
        let range = r.gvs_limit(*var).map(|hi| (0.0, hi));
        for (i, s) in ["L", "R"].iter().enumerate() {
            out.push(CompareRow {
                name: format!("GVS {} {s}", var.label()),
                unit: "deg".into(),
                a: ga[i],
                b: gb[i],
                range,
                verdict: verdict(ga[i], gb[i], range),
            });
        }
    }
    let range = r.gps.map(|(m, sd)| (0.0, m + 2.0 * sd));
    out.push(CompareRow {
        name: "Gait Profile Score".into(),
        unit: "deg".into(),
        a: a.gps[2],
        b: b.gps[2],
        range,
        verdict: verdict(a.gps[2], b.gps[2], range),
    });
    out
}

fn twin_row(
    w: &GaitSequence,
    r: &crate::core::twin::TwinResult,
    bands: &NormativeBands,
) -> TwinRow {
    let worst = r
        .scores
        .iter()
        .max_by(|x, y| x.score.total_cmp(&y.score))
        .map_or_else(
            || ("-".to_string(), f64::NAN),
            |s| (format!("{:?}", s.joint), s.score),
        );
    let curves = analyse(&r.twin)
        .map(|a| {
            a.curves
                .iter()
                .map(|c| (c.var, c.side, c.mean.clone()))
                .collect()
        })
        .unwrap_or_default();
    TwinRow {
        walk: w.id.clone(),
        flagged: r.flagged_names(),
        worst,
        deviation: angle_deviation(r, bands),
        curves,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_distance_to_the_range() {
        let r = Some((10.0, 20.0));
        assert_eq!(verdict(12.0, 18.0, r), Verdict::Typical);
        assert_eq!(verdict(5.0, 9.0, r), Verdict::Closer);
        assert_eq!(verdict(25.0, 15.0, r), Verdict::Closer);
        assert_eq!(verdict(15.0, 21.0, r), Verdict::Further);
        assert_eq!(verdict(5.0, 25.0, r), Verdict::Unchanged);
        assert_eq!(verdict(5.0, 9.0, None), Verdict::Unknown);
        assert_eq!(verdict(f64::NAN, 9.0, r), Verdict::Unknown);
    }
}
