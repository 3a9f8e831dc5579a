//! Evidence-grounded clinical text (after BioGait-VLM's rationales): for one walk or a group
//! of walks, every sentence cites measured values, the reference they are compared with, and
//! the metric that produced them. Deterministic: the same walks and references give the same
//! text. Exported as Markdown or standalone HTML; the printed gait report ([`gait`]) adds the
//! kinematic curves, the spatio-temporal table, the Gait Profile Score with the Movement
//! Analysis Profile, a comparison and the normative twin, as HTML, Markdown or PDF.

pub mod figures;
pub mod fonts;
pub mod gait;
pub mod html;
pub mod pages;
pub mod pdf;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::biomech::normative::{NormativeBands, gait_profile};
use crate::core::biomech::priors::compute_priors;
use crate::core::biomech::priors::{FEATURES, GroupPriors, features};
use crate::core::biomech::{AngleVar, analyse};
use crate::core::charts::xml;
use crate::core::data::{Dataset, GaitSequence, Side};
use crate::core::jobs::{CancelToken, Cancelled, Progress};
use crate::core::math::mean;

/// A report file's format, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ReportFormat {
    /// Markdown text.
    #[default]
    Markdown,
    /// One standalone HTML page with inline SVG charts.
    Html,
    /// A printable PDF.
    Pdf,
}

impl ReportFormat {
    /// The format of a file name (`.md`, `.html`/`.htm`, `.pdf`), if known.
    #[must_use]
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" | "txt" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    /// File extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Pdf => "pdf",
        }
    }
}

/// The bytes of a gait report in `format` (`paper` applies to PDF).
///
/// # Errors
/// A page the PDF writer could not draw.
pub fn render(
    r: &gait::GaitReport,
    format: ReportFormat,
    paper: pages::Paper,
) -> Result<Vec<u8>, pdf::RenderError> {
    Ok(match format {
        ReportFormat::Markdown => html::to_markdown(r).into_bytes(),
        ReportFormat::Html => html::to_html(r).into_bytes(),
        ReportFormat::Pdf => pdf_of(r, &pages::pages(r, paper))?,
    })
}

/// The PDF of a report's laid-out pages (see [`pages::pages`]), titled after the report.
///
/// # Errors
/// A page the PDF writer could not draw.
pub fn pdf_of(r: &gait::GaitReport, pages: &[String]) -> Result<Vec<u8>, pdf::RenderError> {
    pdf::pdf(pages, &format!("Gait report: {}", r.title()))
}

/// How a value compares with its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    /// Within mean ± 2 SD of the reference.
    Typical,
    /// Below the reference range.
    Low,
    /// Above the reference range.
    High,
    /// No reference available.
    NoReference,
}

/// One measured value with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Metric key (as in the priors' feature list).
    pub key: String,
    /// Readable name with unit.
    pub name: String,
    /// Value (mean over the walks for a group).
    pub value: f64,
    /// Reference range (mean ± 2 SD of the reference group), when there is one.
    pub reference: Option<(f64, f64)>,
    /// Comparison.
    pub flag: Flag,
    /// What computed it.
    pub source: String,
}

/// A clinical report for one walk or a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinicalReport {
    /// What the report is about ("walk X", "subject S", "class C").
    pub title: String,
    /// Walks analysed.
    pub walks: Vec<String>,
    /// Walks that could not be analysed, with the reason.
    pub not_analysed: Vec<(String, String)>,
    /// True when any walk is synthetic (stated in the report).
    pub synthetic: bool,
    /// The reference group, described ("class 'normal' of demo, 12 walks").
    pub reference: String,
    /// Measurements.
    pub evidence: Vec<Evidence>,
    /// Gait Profile Score (degrees) and per-variable scores, against `bands_source`.
    pub gps: Option<(f64, Vec<(String, f64)>)>,
    /// Normative curves used for the GPS.
    pub bands_source: Option<String>,
    /// Findings, each citing its evidence.
    pub findings: Vec<String>,
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The report on `walks` against the normal class of `rest`, the dataset's other walks, so
/// the reference group never contains the walks it judges (`normal_class` as in
/// [`compute_priors`]).
///
/// # Errors
/// Cancellation while the reference priors are computed.
pub fn report_against_rest(
    title: &str,
    walks: &[&GaitSequence],
    rest: &Dataset,
    normal_class: Option<&str>,
    bands: Option<&NormativeBands>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ClinicalReport, Cancelled> {
    let (reference, reference_name) = reference_group(rest, normal_class, progress, cancel)?;
    Ok(clinical_report(
        title,
        walks,
        reference.as_ref(),
        &reference_name,
        bands,
    ))
}

/// The reference group of a report: the priors of `rest`'s normal class (`normal_class` as in
/// [`compute_priors`]) and its description ("class 'normal' of demo (12 walks, 6 subjects)").
///
/// # Errors
/// Cancellation while the priors are computed.
pub fn reference_group(
    rest: &Dataset,
    normal_class: Option<&str>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(Option<GroupPriors>, String), Cancelled> {
    let priors = compute_priors(rest, normal_class, None, progress, cancel)?;
    let reference = priors
        .normal_class
        .as_ref()
        .and_then(|n| priors.classes.iter().find(|g| &g.name == n))
        .cloned();
    let name = reference.as_ref().map_or_else(
        || "no reference group (no normal class found)".to_string(),
        |g| {
            format!(
                "class '{}' of {} ({} walks, {} subjects)",
                g.name, rest.name, g.sequences, g.subjects
            )
        },
    );
    Ok((reference, name))
}

/// Where each feature of the evidence table comes from (named in the report).
fn evidence_source(key: &str) -> String {
    if key.starts_with("si_") {
        "symmetry index 100·abs(L−R)/(0.5·(L+R)) of per-side means (biomech::spatiotemporal)".into()
    } else if key == "asymmetry_pct" {
        "mean of the five symmetry indices (biomech::priors)".into()
    } else if key.ends_with("_rom_deg") {
        "max − min of the mean cycle curve, 101 points (biomech::angles)".into()
    } else {
        "Zeni events, per-side cycle means (biomech::spatiotemporal)".into()
    }
}

/// Every feature's value against the reference group's mean ± 2 SD, flagged.
fn evidence_of(value: &dyn Fn(&str) -> f64, reference: Option<&GroupPriors>) -> Vec<Evidence> {
    FEATURES
        .iter()
        .map(|(key, name)| {
            let v = value(key);
            let range = reference
                .and_then(|r| r.features.get(*key))
                .filter(|s| s.mean.is_finite() && s.sd.is_finite() && s.n >= 2)
                // Every feature is non-negative (ranges, times, symmetry indices).
                .map(|s| ((s.mean - 2.0 * s.sd).max(0.0), s.mean + 2.0 * s.sd));
            let flag = match range {
                None => Flag::NoReference,
                Some(_) if !v.is_finite() => Flag::NoReference,
                Some((lo, _)) if v < lo => Flag::Low,
                Some((_, hi)) if v > hi => Flag::High,
                Some(_) => Flag::Typical,
            };
            Evidence {
                key: (*key).to_string(),
                name: (*name).to_string(),
                value: v,
                reference: range,
                flag,
                source: evidence_source(key),
            }
        })
        .collect()
}

/// Builds the report for `walks` (one or several) against a reference group (typically the
/// dataset's normal class) and, optionally, normative angle curves for the GPS.
#[must_use]
pub fn clinical_report(
    title: &str,
    walks: &[&GaitSequence],
    reference: Option<&GroupPriors>,
    reference_name: &str,
    bands: Option<&NormativeBands>,
) -> ClinicalReport {
    let mut analysed = Vec::new();
    let mut not_analysed = Vec::new();
    for w in walks {
        match analyse(w) {
            Ok(a) => analysed.push(a),
            Err(e) => not_analysed.push((w.id.clone(), e.to_string())),
        }
    }
    let per_walk: Vec<BTreeMap<String, f64>> = analysed.iter().map(features).collect();
    let value = |k: &str| {
        let v: Vec<f64> = per_walk
            .iter()
            .filter_map(|f| f.get(k).copied())
            .filter(|x| x.is_finite())
            .collect();
        mean(&v).unwrap_or(f64::NAN)
    };
    let evidence = evidence_of(&value, reference);
    // Per-side values the text cites (step time, stance, ROM by side).
    let side_value = |f: &dyn Fn(&crate::core::biomech::GaitAnalysis) -> f64| {
        mean(
            &analysed
                .iter()
                .map(f)
                .filter(|x| x.is_finite())
                .collect::<Vec<_>>(),
        )
        .unwrap_or(f64::NAN)
    };
    let step = [
        side_value(&|a| a.spatiotemporal.left.step_time_s),
        side_value(&|a| a.spatiotemporal.right.step_time_s),
    ];
    let stance = [
        side_value(&|a| a.spatiotemporal.left.stance_pct),
        side_value(&|a| a.spatiotemporal.right.stance_pct),
    ];
    let rom = |var: AngleVar| {
        [
            side_value(&|a| a.rom_deg(var, Side::Left)),
            side_value(&|a| a.rom_deg(var, Side::Right)),
        ]
    };
    let gps = bands.and_then(|b| {
        let profiles: Vec<_> = analysed
            .iter()
            .map(|a| gait_profile(&a.curves, b))
            .collect();
        let g = mean(
            &profiles
                .iter()
                .map(|p| p.gps)
                .filter(|x| x.is_finite())
                .collect::<Vec<_>>(),
        )?;
        let mut gvs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for p in &profiles {
            for (var, side, v) in &p.gvs {
                gvs.entry(format!(
                    "{} {}",
                    var.label(),
                    if *side == Side::Left { "left" } else { "right" }
                ))
                .or_default()
                .push(*v);
            }
        }
        let mut gvs: Vec<(String, f64)> = gvs
            .into_iter()
            .filter_map(|(k, v)| mean(&v).map(|m| (k, m)))
            .collect();
        gvs.sort_by(|a, b| b.1.total_cmp(&a.1));
        Some((g, gvs))
    });
    let findings = findings(&evidence, step, stance, rom, gps.as_ref(), reference_name);
    ClinicalReport {
        title: title.to_string(),
        walks: analysed.iter().map(|a| a.id.clone()).collect(),
        not_analysed,
        synthetic: walks.iter().any(|w| w.is_synthetic()),
        reference: reference_name.to_string(),
        evidence,
        gps,
        bands_source: bands.map(|b| b.source.clone()),
        findings,
    }
}

fn findings(
    evidence: &[Evidence],
    step: [f64; 2],
    stance: [f64; 2],
    rom: impl Fn(AngleVar) -> [f64; 2],
    gps: Option<&(f64, Vec<(String, f64)>)>,
    reference_name: &str,
) -> Vec<String> {
    let get = |k: &str| evidence.iter().find(|e| e.key == k);
    let range = |e: &Evidence| against(e, reference_name);
    let mut out = Vec::new();
    for (key, what, low, high) in [
        ("cadence_steps_min", "Cadence", "reduced", "increased"),
        ("speed_m_s", "Walking speed", "reduced", "increased"),
        (
            "stride_length_m",
            "Stride length",
            "shortened",
            "lengthened",
        ),
        (
            "double_support_pct",
            "Double support",
            "shortened",
            "prolonged",
        ),
        ("step_width_m", "Step width", "narrow", "wide"),
        (
            "stride_time_cv_pct",
            "Stride-time variability",
            "low",
            "raised",
        ),
    ] {
        if let Some(e) = get(key)
            && let Some(l) = level(e, low, high)
        {
            out.push(format!(
                "{what} is {l}: {} ({}){}.",
                fmt(e.value),
                e.name,
                range(e)
            ));
        }
    }
    if let Some(e) = get("si_step_time_pct")
        && e.flag == Flag::High
    {
        let longer = if step[0] > step[1] { "left" } else { "right" };
        out.push(format!(
            "Step time is asymmetric: left {} s, right {} s (symmetry index {} %{}); the {longer} step takes longer.",
            fmt(step[0]), fmt(step[1]), fmt(e.value), range(e)
        ));
    }
    if let Some(e) = get("si_stance_pct")
        && e.flag == Flag::High
    {
        let shorter = if stance[0] < stance[1] {
            "left"
        } else {
            "right"
        };
        out.push(format!(
            "Stance is asymmetric: left {} %, right {} % of the stride (symmetry index {} %{}); shorter stance on the {shorter} side is typical of unloading a painful or weak limb.",
            fmt(stance[0]), fmt(stance[1]), fmt(e.value), range(e)
        ));
    }
    out.extend(rom_findings(evidence, &rom, reference_name));
    if let Some(e) = get("si_arm_swing_pct")
        && e.flag == Flag::High
    {
        let [l, r] = rom(AngleVar::ShoulderFlexion);
        let less = if l < r { "left" } else { "right" };
        out.push(format!(
            "Arm swing is asymmetric: left {} deg, right {} deg (symmetry index {} %{}); the {less} arm swings less, as on the side of onset in Parkinson's disease or the paretic side after stroke.",
            fmt(l), fmt(r), fmt(e.value), range(e)
        ));
    }
    if let Some((g, gvs)) = gps {
        let top: Vec<String> = gvs
            .iter()
            .take(3)
            .map(|(k, v)| format!("{k} {} deg", fmt(*v)))
            .collect();
        out.push(format!(
            "Gait Profile Score {} deg (RMS deviation of the angle curves from the normative mean); largest variable scores: {}.",
            fmt(*g),
            top.join(", ")
        ));
    }
    if out.is_empty() {
        out.push(format!(
            "No measured value lies outside mean ± 2 SD of {reference_name}."
        ));
    }
    out
}

/// " against LO–HI in REFERENCE", or nothing without a reference range.
fn against(e: &Evidence, reference_name: &str) -> String {
    e.reference.map_or_else(String::new, |(lo, hi)| {
        format!(" against {}–{} in {reference_name}", fmt(lo), fmt(hi))
    })
}

/// The word for a value below or above its reference range; `None` when typical or unknown.
fn level(e: &Evidence, low: &str, high: &str) -> Option<String> {
    match e.flag {
        Flag::Low => Some(low.to_string()),
        Flag::High => Some(high.to_string()),
        _ => None,
    }
}

/// Findings on ranges of motion outside the reference, with each side's value.
fn rom_findings(
    evidence: &[Evidence],
    rom: &impl Fn(AngleVar) -> [f64; 2],
    reference_name: &str,
) -> Vec<String> {
    let get = |k: &str| evidence.iter().find(|e| e.key == k);
    let range = |e: &Evidence| against(e, reference_name);
    let mut out = Vec::new();
    for (key, var, joint) in [
        ("knee_rom_deg", AngleVar::KneeFlexion, "Knee flexion"),
        ("hip_rom_deg", AngleVar::HipFlexion, "Hip flexion/extension"),
        (
            "ankle_rom_deg",
            AngleVar::AnkleDorsiflexion,
            "Ankle dorsi/plantarflexion",
        ),
        (
            "pelvic_obliquity_rom_deg",
            AngleVar::PelvicObliquity,
            "Pelvic obliquity",
        ),
        (
            "trunk_lateral_rom_deg",
            AngleVar::TrunkLeanLateral,
            "Lateral trunk lean",
        ),
        ("arm_swing_rom_deg", AngleVar::ShoulderFlexion, "Arm swing"),
    ] {
        let Some(e) = get(key) else { continue };
        let Some(l) = level(e, "reduced", "increased") else {
            continue;
        };
        let [lv, rv] = rom(var);
        out.push(format!(
            "{joint} range of motion is {l}: {} deg (left {}, right {}){}.",
            fmt(e.value),
            fmt(lv),
            fmt(rv),
            range(e)
        ));
    }
    out
}

impl ClinicalReport {
    /// Measurement table cells: name, value, reference range, flag, metric.
    fn table_rows(&self) -> Vec<[String; 5]> {
        self.evidence
            .iter()
            .map(|e| {
                [
                    e.name.clone(),
                    fmt(e.value),
                    e.reference
                        .map_or_else(|| "-".into(), |(lo, hi)| format!("{}–{}", fmt(lo), fmt(hi))),
                    format!("{:?}", e.flag),
                    e.source.clone(),
                ]
            })
            .collect()
    }

    fn header_lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "Walks analysed: {} ({}).",
            self.walks.len(),
            self.walks.join(", ")
        )];
        if self.synthetic {
            v.push(
                "SYNTHETIC DATA: these walks come from the parametric demo model or a trained \
                 generator, not from a person."
                    .into(),
            );
        }
        for (id, why) in &self.not_analysed {
            v.push(format!("Not analysed: {id}: {why}."));
        }
        v.push(format!(
            "Reference: {}; a value is flagged outside its mean ± 2 SD.",
            self.reference
        ));
        if let Some(b) = &self.bands_source {
            v.push(format!("Normative angle curves: {b}."));
        }
        v
    }

    /// Markdown text.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# Gait report: {}\n\n", self.title);
        for l in self.header_lines() {
            let _ = writeln!(s, "{l}  ");
        }
        s.push_str("\n## Findings\n\n");
        for f in &self.findings {
            let _ = writeln!(s, "- {f}");
        }
        s.push_str("\n## Measurements\n\n| measure | value | reference (mean ± 2 SD) | flag | computed by |\n|---|---|---|---|---|\n");
        for row in self.table_rows() {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        s
    }

    /// Standalone HTML page (no scripts, no external resources).
    #[must_use]
    pub fn to_html(&self) -> String {
        let mut s = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gait report: {}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.2em .5em}}.Low,.High{{background:#fde2b8}}</style></head><body>\n<h1>Gait report: {}</h1>\n",
            xml(&self.title),
            xml(&self.title)
        );
        for l in self.header_lines() {
            let _ = writeln!(s, "<p>{}</p>", xml(&l));
        }
        s.push_str("<h2>Findings</h2>\n<ul>\n");
        for f in &self.findings {
            let _ = writeln!(s, "<li>{}</li>", xml(f));
        }
        s.push_str("</ul>\n<h2>Measurements</h2>\n<table><tr><th>measure</th><th>value</th><th>reference (mean ± 2 SD)</th><th>flag</th><th>computed by</th></tr>\n");
        for row in self.table_rows() {
            let cells: Vec<String> = row.iter().map(|c| format!("<td>{}</td>", xml(c))).collect();
            // The flag names the row's class, so out-of-range rows are highlighted.
            let _ = writeln!(s, "<tr class=\"{}\">{}</tr>", row[3], cells.concat());
        }
        s.push_str("</table>\n</body></html>\n");
        s
    }
}
