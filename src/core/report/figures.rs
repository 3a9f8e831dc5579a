//! The report's figures and tables as data, shared by the pages (PDF, preview) and the HTML:
//! the kinematic charts, the Movement Analysis Profile bars and the table rows.

use std::fmt::Write as _;

use crate::core::biomech::AngleVar;
use crate::core::charts::{BarGroup, CycleChart, LEFT, RIGHT, Series};
use crate::core::data::Side;

use super::gait::{GaitReport, GroupReport, mean_curve};

/// Formats a value with three significant figures ("–" when undefined).
#[must_use]
pub fn num(v: f64) -> String {
    crate::core::export::angles::fmt(v)
}

/// Side colour.
fn color(side: Side) -> &'static str {
    if side == Side::Left { LEFT } else { RIGHT }
}

/// Darker side colour (the normative twin's curves).
fn dark(side: Side) -> &'static str {
    if side == Side::Left {
        "#7a1f19"
    } else {
        "#1d3f7a"
    }
}

/// Individual walks drawn thin behind a group's mean, up to this many.
const MAX_THIN: usize = 40;

fn group_series(g: &GroupReport, var: AngleVar, prefix: &str, dashed: bool) -> Vec<Series> {
    let mut out = Vec::new();
    if g.analyses.len() > 1 && g.analyses.len() <= MAX_THIN && !dashed {
        for a in &g.analyses {
            for side in Side::BOTH {
                if let Some(c) = a.curve(var, side) {
                    out.push(Series {
                        name: String::new(),
                        color: color(side).into(),
                        dashed,
                        width: 0.6,
                        values: c.mean.clone(),
                    });
                }
            }
        }
    }
    for side in Side::BOTH {
        if let Some(values) = g.mean_curve(var, side) {
            let mean = if g.analyses.len() > 1 { " mean" } else { "" };
            out.push(Series {
                name: format!("{prefix}{}{mean}", side.letter()),
                color: color(side).into(),
                dashed,
                width: 1.8,
                values,
            });
        }
    }
    out
}

/// The smallest GVS excess worth a flag, degrees: the minimal clinically important difference
/// of the Gait Profile Score (Baker et al. 2012, Gait Posture 35:612-615). A reference group of
/// near-identical walks (synthetic data) has a tiny SD, and a fraction of a degree is not a
/// finding.
pub const MCID_DEG: f64 = 1.6;

/// The GVS above which a variable is flagged: the reference mean + 2 SD, and at least
/// [`MCID_DEG`] above the reference mean.
#[must_use]
pub fn gvs_flag_limit(r: &GaitReport, var: AngleVar) -> Option<f64> {
    let (m, sd) = r.reference.gvs_of(var)?;
    Some((m + 2.0 * sd).max(m + MCID_DEG))
}

/// The GPS above which the profile is flagged (as [`gvs_flag_limit`]).
#[must_use]
pub fn gps_flag_limit(r: &GaitReport) -> Option<f64> {
    r.reference
        .gps
        .map(|(m, sd)| (m + 2.0 * sd).max(m + MCID_DEG))
}

/// Why a variable is flagged: a side's GVS above [`gvs_flag_limit`].
fn flag_text(r: &GaitReport, var: AngleVar) -> Option<String> {
    let limit = gvs_flag_limit(r, var)?;
    let g = r.a.gvs_of(var)?;
    let sides: Vec<String> = Side::BOTH
        .iter()
        .zip(g)
        .filter(|(_, v)| v.is_finite() && *v > limit)
        .map(|(s, v)| format!("{} GVS {}°", s.letter(), num(v)))
        .collect();
    (!sides.is_empty()).then(|| format!("{} > {}°", sides.join(", "), num(limit)))
}

/// One chart per variable: each side's curve (a group's mean over thin individual walks), the
/// compared group dashed, the twin's curves dark dashed, against the normative band.
#[must_use]
pub fn kinematic_charts(r: &GaitReport) -> Vec<CycleChart> {
    let comparing = r.b.is_some();
    AngleVar::ALL
        .iter()
        .filter_map(|&var| {
            let mut series = group_series(&r.a, var, if comparing { "A " } else { "" }, false);
            if let Some(b) = &r.b {
                series.extend(group_series(b, var, "B ", true));
            }
            for side in Side::BOTH {
                let twins: Vec<&[f64]> = r
                    .twin
                    .iter()
                    .filter(|t| r.a.clinical.walks.contains(&t.walk))
                    .flat_map(|t| t.curves.iter())
                    .filter(|(v, s, _)| *v == var && *s == side)
                    .map(|(_, _, c)| &c[..])
                    .collect();
                if let Some(values) = mean_curve(twins.into_iter()) {
                    series.push(Series {
                        name: format!("twin {}", side.letter()),
                        color: dark(side).into(),
                        dashed: true,
                        width: 1.5,
                        values,
                    });
                }
            }
            let band = r
                .bands
                .as_ref()
                .and_then(|b| b.band(var))
                .map(|b| (b.mean.clone(), b.sd.clone()));
            if series.is_empty() && band.is_none() {
                return None;
            }
            Some(CycleChart {
                title: var.label().to_string(),
                series,
                band,
                flag: flag_text(r, var),
                legend: false,
            })
        })
        .collect()
}

/// The series names and styles of the kinematic charts, for one shared legend row.
#[must_use]
pub fn kinematic_legend(charts: &[CycleChart]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for c in charts {
        for s in c.series.iter().filter(|s| s.width >= 1.5) {
            if !out.iter().any(|o| o.name == s.name) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// The Movement Analysis Profile: the GPS, then one group per variable (left and right bars;
/// with a comparison, A's then B's), each with the reference GVS mean ± 2 SD.
#[must_use]
pub fn map_groups(r: &GaitReport) -> Vec<BarGroup> {
    let over = |v: f64, limit: Option<f64>| limit.is_some_and(|l| v.is_finite() && v > l);
    let gps_limit = gps_flag_limit(r);
    let mut groups = Vec::new();
    let mut gps_bars = vec![
        (r.a.gps[0], LEFT.to_string(), over(r.a.gps[0], gps_limit)),
        (r.a.gps[1], RIGHT.to_string(), over(r.a.gps[1], gps_limit)),
    ];
    if let Some(b) = &r.b {
        gps_bars.push((b.gps[0], "#eea39e".into(), over(b.gps[0], gps_limit)));
        gps_bars.push((b.gps[1], "#9fbff0".into(), over(b.gps[1], gps_limit)));
    }
    groups.push(BarGroup {
        label: "GPS".into(),
        bars: gps_bars,
        reference: r.reference.gps,
    });
    for (var, g) in &r.a.gvs {
        let limit = gvs_flag_limit(r, *var);
        let mut bars = vec![
            (g[0], LEFT.to_string(), over(g[0], limit)),
            (g[1], RIGHT.to_string(), over(g[1], limit)),
        ];
        if let Some(gb) = r.b.as_ref().and_then(|b| b.gvs_of(*var)) {
            bars.push((gb[0], "#eea39e".into(), over(gb[0], limit)));
            bars.push((gb[1], "#9fbff0".into(), over(gb[1], limit)));
        }
        groups.push(BarGroup {
            label: short_label(*var).into(),
            bars,
            reference: r.reference.gvs_of(*var),
        });
    }
    groups
}

/// A variable's name without its sign convention (bar labels).
#[must_use]
pub fn short_label(var: AngleVar) -> &'static str {
    match var {
        AngleVar::PelvicTilt => "Pelvic tilt",
        AngleVar::PelvicObliquity => "Pelvic obliquity",
        AngleVar::HipFlexion => "Hip flexion",
        AngleVar::HipAdduction => "Hip adduction",
        AngleVar::KneeFlexion => "Knee flexion",
        AngleVar::AnkleDorsiflexion => "Ankle dorsiflexion",
        AngleVar::TrunkLeanForward => "Trunk forward",
        AngleVar::TrunkLeanLateral => "Trunk lateral",
        AngleVar::ShoulderFlexion => "Arm swing",
        AngleVar::ElbowFlexion => "Elbow flexion",
    }
}

/// A table cell: text and whether it is flagged (drawn red).
pub type Cell = (String, bool);

/// The spatio-temporal table: parameter, unit, left, right (flagged outside the reference
/// range), reference range.
#[must_use]
pub fn spatiotemporal_table(r: &GaitReport) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let head = vec![
        "Parameter",
        "Unit",
        "Left",
        "Right",
        "Reference (mean ± 2 SD)",
    ];
    let rows = r
        .a
        .spatiotemporal
        .iter()
        .map(|(name, unit, l, rt)| {
            let range = r.reference.range_of(name);
            let cell = |v: f64| {
                let out = range.is_some_and(|(lo, hi)| v.is_finite() && (v < lo || v > hi));
                (num(v), out && name != "Cycles")
            };
            vec![
                (name.clone(), false),
                (unit.clone(), false),
                cell(*l),
                cell(*rt),
                (
                    range.map_or_else(|| "–".into(), |(lo, hi)| format!("{}–{}", num(lo), num(hi))),
                    false,
                ),
            ]
        })
        .collect();
    (head, rows)
}

/// The measurement table (the clinical report's evidence): measure, value, reference, flag.
#[must_use]
pub fn measurement_table(g: &GroupReport) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let head = vec!["Measure", "Value", "Reference (mean ± 2 SD)", "Flag"];
    let rows = g
        .clinical
        .evidence
        .iter()
        .map(|e| {
            let flagged = matches!(e.flag, super::Flag::Low | super::Flag::High);
            vec![
                (e.name.clone(), false),
                (num(e.value), flagged),
                (
                    e.reference
                        .map_or_else(|| "–".into(), |(lo, hi)| format!("{}–{}", num(lo), num(hi))),
                    false,
                ),
                (format!("{:?}", e.flag), flagged),
            ]
        })
        .collect();
    (head, rows)
}

/// The comparison table: measure, unit, A, B, change, reference, verdict.
#[must_use]
pub fn compare_table(r: &GaitReport) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let head = vec![
        "Measure",
        "Unit",
        "A",
        "B",
        "B − A",
        "Reference",
        "B against A",
    ];
    let rows = r
        .compare
        .iter()
        .map(|c| {
            let worse = c.verdict == super::gait::Verdict::Further;
            vec![
                (c.name.clone(), false),
                (c.unit.clone(), false),
                (num(c.a), false),
                (num(c.b), false),
                (num(c.b - c.a), false),
                (
                    c.range
                        .map_or_else(|| "–".into(), |(lo, hi)| format!("{}–{}", num(lo), num(hi))),
                    false,
                ),
                (c.verdict.words().to_string(), worse),
            ]
        })
        .collect();
    (head, rows)
}

/// The twin table: walk, flagged joints, highest score, and the GVS change the twin makes on
/// the most deviating variable.
#[must_use]
pub fn twin_table(r: &GaitReport) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let head = vec![
        "Walk",
        "Flagged joints",
        "Highest score (error / threshold)",
        "Largest GVS: walk → twin",
    ];
    let rows = r
        .twin
        .iter()
        .map(|t| {
            let largest = t
                .deviation
                .iter()
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map_or_else(
                    || "–".into(),
                    |(v, s, before, after)| {
                        format!(
                            "{} {}: {}° → {}°",
                            short_label(*v),
                            s.letter(),
                            num(*before),
                            num(*after)
                        )
                    },
                );
            vec![
                (t.walk.clone(), false),
                (
                    if t.flagged.is_empty() {
                        "none".into()
                    } else {
                        t.flagged.join(", ")
                    },
                    !t.flagged.is_empty(),
                ),
                (format!("{} {}", t.worst.0, num(t.worst.1)), t.worst.1 > 1.0),
                (largest, false),
            ]
        })
        .collect();
    (head, rows)
}

/// The GPS sentence under the profile chart.
#[must_use]
pub fn gps_sentence(r: &GaitReport) -> String {
    let g = |x: &GroupReport| {
        format!(
            "{}: GPS {}° (left {}°, right {}°)",
            x.title,
            num(x.gps[2]),
            num(x.gps[0]),
            num(x.gps[1])
        )
    };
    let mut s = g(&r.a);
    if let Some(b) = &r.b {
        s.push_str("; ");
        s.push_str(&g(b));
    }
    if let Some((m, sd)) = r.reference.gps {
        let _ = write!(
            s,
            ". Reference {} ({} walks): GPS {}° ± {}°",
            r.reference.name,
            r.reference.walks,
            num(m),
            num(sd)
        );
    }
    s.push_str(". Bars: GVS per variable (left red, right blue");
    if r.b.is_some() {
        s.push_str("; B in lighter shades");
    }
    s.push_str(
        "); grey boxes: the reference walks' GVS up to mean + 2 SD (dashed line: their mean); bars outlined red lie above mean + 2 SD and at least 1.6° (the GPS's minimal clinically important difference) above the mean.",
    );
    s
}
