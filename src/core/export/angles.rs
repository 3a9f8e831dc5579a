//! Joint-angle export, shared by the angles panel and `pathogait angles`: per walk the
//! spatio-temporal table (`spatiotemporal.csv`), the cycle-normalised curves per side with the
//! normative band (`angles.csv`, 0-100 % of the gait cycle) and one SVG chart per variable
//! (`<variable>.svg`: left red, right blue, the band as mean ± 2 SD in grey).

use std::path::{Path, PathBuf};

use super::tables::finish;
use super::{ExportError, werr};
use crate::core::biomech::normative::gait_profile;
use crate::core::biomech::spatiotemporal::SideParams;
use crate::core::biomech::{AngleVar, GaitAnalysis, NormativeBands};
use crate::core::charts;
use crate::core::data::Side;
use crate::core::fsutil::write_atomic;

/// Rows of the spatio-temporal table of a walk: (name, unit, left, right); cadence and speed
/// have one value (left) and NaN on the right.
#[must_use]
pub fn spatiotemporal_rows(a: &GaitAnalysis) -> Vec<(&'static str, &'static str, f64, f64)> {
    let s = &a.spatiotemporal;
    let lr = |f: fn(&SideParams) -> f64| (f(&s.left), f(&s.right));
    let mut v = vec![
        ("Cadence", "steps/min", s.cadence_steps_min, f64::NAN),
        ("Walking speed", "m/s", s.speed_m_s, f64::NAN),
    ];
    for (name, unit, (l, r)) in [
        ("Stride time", "s", lr(|p| p.stride_time_s)),
        ("Step time", "s", lr(|p| p.step_time_s)),
        ("Stride length", "m", lr(|p| p.stride_length_m)),
        ("Step length", "m", lr(|p| p.step_length_m)),
        ("Step width", "m", lr(|p| p.step_width_m)),
        ("Stance", "% cycle", lr(|p| p.stance_pct)),
        ("Swing", "% cycle", lr(|p| p.swing_pct)),
        ("Double support", "% cycle", lr(|p| p.double_support_pct)),
        ("Cycles", "n", (s.left.cycles as f64, s.right.cycles as f64)),
    ] {
        v.push((name, unit, l, r));
    }
    v
}

/// The rows of `spatiotemporal.csv` for a walk, with the Gait Profile Score when bands are
/// given.
#[must_use]
pub fn table_rows(
    a: &GaitAnalysis,
    bands: Option<&NormativeBands>,
) -> Vec<(&'static str, &'static str, f64, f64)> {
    let mut rows = spatiotemporal_rows(a);
    if let Some(b) = bands {
        let g = gait_profile(&a.curves, b);
        rows.push(("Gait Profile Score", "deg", g.gps_left, g.gps_right));
    }
    rows
}

/// Three significant figures; integers without decimals; "–" for undefined.
#[must_use]
pub fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e6 {
        return format!("{v:.0}");
    }
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// `spatiotemporal.csv`: `walk,parameter,unit,left,right` (empty where undefined).
fn spatiotemporal_csv(
    walks: &[(String, GaitAnalysis)],
    bands: Option<&NormativeBands>,
) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.6}")
        } else {
            String::new()
        }
    };
    w.write_record(["walk", "parameter", "unit", "left", "right"])
        .map_err(|e| e.to_string())?;
    for (id, a) in walks {
        for (n, u, l, r) in table_rows(a, bands) {
            w.write_record([id.as_str(), n, u, &num(l), &num(r)])
                .map_err(|e| e.to_string())?;
        }
    }
    finish(w)
}

/// `angles.csv`: `walk,variable,side,cycle_pct,angle_deg,sd_deg,cycles,band_mean_deg,band_sd_deg`,
/// one row per walk, variable, side and percent of the cycle (band columns empty without
/// bands).
fn angles_csv(
    walks: &[(String, GaitAnalysis)],
    bands: Option<&NormativeBands>,
) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "walk",
        "variable",
        "side",
        "cycle_pct",
        "angle_deg",
        "sd_deg",
        "cycles",
        "band_mean_deg",
        "band_sd_deg",
    ])
    .map_err(|e| e.to_string())?;
    let num = |v: Option<&f64>| {
        v.filter(|v| v.is_finite())
            .map_or(String::new(), |v| format!("{v:.4}"))
    };
    for (id, a) in walks {
        for var in AngleVar::ALL {
            let band = bands.and_then(|b| b.band(var));
            for side in Side::BOTH {
                let Some(c) = a.curve(var, side) else {
                    continue;
                };
                let side_name = match side {
                    Side::Left => "left",
                    Side::Right => "right",
                };
                for (i, m) in c.mean.iter().enumerate() {
                    let pct = 100.0 * i as f64 / (c.mean.len().max(2) - 1) as f64;
                    w.write_record([
                        id.as_str(),
                        var.key(),
                        side_name,
                        &format!("{pct:.1}"),
                        &num(Some(m)),
                        &num(c.sd.get(i)),
                        &c.cycles.to_string(),
                        &num(band.and_then(|b| b.mean.get(i))),
                        &num(band.and_then(|b| b.sd.get(i))),
                    ])
                    .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    finish(w)
}

/// The files of a joint-angle export: `(file name, bytes)`.
///
/// # Errors
/// A CSV writer failure (it writes to memory: only on a broken invariant).
pub fn angle_files(
    walks: &[(String, GaitAnalysis)],
    bands: Option<&NormativeBands>,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = vec![
        (
            "spatiotemporal.csv".to_string(),
            spatiotemporal_csv(walks, bands)?,
        ),
        ("angles.csv".to_string(), angles_csv(walks, bands)?),
    ];
    for var in AngleVar::ALL {
        let mut series: Vec<(String, &str, Vec<f64>)> = Vec::new();
        for (id, a) in walks {
            for side in Side::BOTH {
                if let Some(c) = a.curve(var, side) {
                    let col = if side == Side::Left {
                        charts::LEFT
                    } else {
                        charts::RIGHT
                    };
                    series.push((format!("{id} {}", side.letter()), col, c.mean.clone()));
                }
            }
        }
        let band = bands.and_then(|b| b.band(var));
        if series.is_empty() && band.is_none() {
            continue;
        }
        let chart = svg(var.label(), &series, band.map(|b| (&b.mean[..], &b.sd[..])));
        files.push((format!("{}.svg", var.key()), chart.into_bytes()));
    }
    Ok(files)
}

/// Writes [`angle_files`] into `dir` (created), each atomically. Returns the paths written.
///
/// # Errors
/// An unwritable folder or file, named.
pub fn write_angle_files(
    dir: &Path,
    walks: &[(String, GaitAnalysis)],
    bands: Option<&NormativeBands>,
) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
    let files = angle_files(walks, bands).map_err(|e| werr(dir, e))?;
    let mut out = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let p = dir.join(name);
        write_atomic(&p, &bytes).map_err(|e| werr(&p, e))?;
        out.push(p);
    }
    Ok(out)
}

/// A self-contained SVG chart of curves over 0-100 % with an optional mean ± 2 SD band, drawn
/// by the report's chart code ([`charts::cycle_chart`]).
#[must_use]
pub fn svg(
    title: &str,
    series: &[(String, &str, Vec<f64>)],
    band: Option<(&[f64], &[f64])>,
) -> String {
    let chart = charts::CycleChart {
        title: title.to_string(),
        series: series
            .iter()
            .map(|(name, color, values)| charts::Series {
                name: name.clone(),
                color: (*color).to_string(),
                dashed: false,
                width: 2.0,
                values: values.clone(),
            })
            .collect(),
        band: band.map(|(m, s)| (m.to_vec(), s.to_vec())),
        flag: None,
        legend: true,
    };
    let (w, h) = (640.0, 360.0);
    charts::standalone(&charts::cycle_chart(&chart, 0.0, 0.0, w, h), w, h)
}
