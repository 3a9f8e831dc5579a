//! C3D reader: points through the `c3dio` crate, gait events from the EVENT group.
//!
//! Points are markers (or virtual joints) named by `POINT:LABELS`; units from `POINT:UNITS`.
//! A sample with a negative residual (the C3D "invalid" flag) or exactly at the origin is
//! treated as missing, as C3D writers use both to mark gaps. c3dio drops the EVENT group's
//! contexts and times while parsing, so events are read from the parameter section here
//! ([`super::c3d_params`]). The writer is [`super::c3d_write`].

use std::path::Path;

use c3dio::C3d;

use super::ImportError;
use super::c3d_params::{self, Group, Param, ParamData};
use super::c3d_points::{self, RawPoints};
use super::c3d_write::{FOOT_OFF, FOOT_STRIKE};
use crate::core::data::skeleton::{Axis, JointDef, Skeleton, Units};
use crate::core::data::{GaitEvents, Provenance, Side};
use crate::core::math::Vec3;

/// A parsed C3D file.
#[derive(Debug, Clone)]
pub struct C3dMotion {
    /// Marker set as a skeleton without bones (C3D labs are almost always Z up).
    pub skeleton: Skeleton,
    /// Point frame rate.
    pub fps: f32,
    /// `frames * points` positions in metres (NaN where missing).
    pub positions: Vec<Vec3>,
    /// Foot strikes and foot offs of the EVENT group, as frame indices from the first frame;
    /// `None` when the file has none.
    pub events: Option<GaitEvents>,
    /// Subject, class and provenance the file names (SUBJECTS and PATHOGAIT groups).
    pub info: C3dWalkInfo,
}

/// What a C3D file says about its walk: the subject of SUBJECTS:NAMES and, in files this
/// program exported, the PATHOGAIT group's class, severity and provenance, so a synthetic walk
/// re-imported from C3D stays labelled synthetic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct C3dWalkInfo {
    /// First subject name.
    pub subject: Option<String>,
    /// Class (PATHOGAIT:CLASS).
    pub label: Option<String>,
    /// Severity (PATHOGAIT:SEVERITY).
    pub severity: Option<f32>,
    /// Provenance of a generated or demo walk (PATHOGAIT:PROVENANCE).
    pub provenance: Option<Provenance>,
}

impl C3dWalkInfo {
    fn from_groups(groups: &[Group]) -> Self {
        let first = |g: &str, n: &str| {
            c3d_params::find(groups, g, n)
                .and_then(|p| p.as_strings().into_iter().find(|s| !s.trim().is_empty()))
        };
        let provenance = c3d_params::find(groups, "PATHOGAIT", "PROVENANCE")
            .and_then(|p| {
                // Lines are cut at 80 characters, inside strings too, so they are joined as
                // stored; only the last line carries padding, which JSON ignores.
                let ParamData::Chars(b) = &p.data else {
                    return None;
                };
                serde_json::from_slice::<Provenance>(b).ok()
            })
            .filter(|p| !matches!(p, Provenance::Imported { .. }));
        Self {
            subject: first("SUBJECTS", "NAMES"),
            label: first("PATHOGAIT", "CLASS"),
            severity: c3d_params::find(groups, "PATHOGAIT", "SEVERITY")
                .and_then(|p| p.as_f32().first().copied())
                .filter(|v| (0.0..=1.0).contains(v)),
            provenance,
        }
    }
}

/// Points through c3dio, in the same form as [`c3d_points::read_points`] gives them.
fn read_with_c3dio(bytes: &[u8]) -> Result<RawPoints, String> {
    // c3dio indexes and unwraps internally on some malformed files: contain a panic there so
    // a corrupt file is an error naming it, never a crash.
    #[allow(clippy::result_large_err)] // c3dio's error type, converted right below.
    let loaded = std::panic::catch_unwind(|| C3d::from_bytes(bytes))
        .map_err(|_| "not a readable C3D file (malformed structure)".to_string())?;
    let c3d = loaded.map_err(|e| format!("not a readable C3D file: {e:?}"))?;
    let pts = &c3d.points;
    let (frames, n) = (pts.rows(), pts.cols());
    let mut positions = Vec::with_capacity(frames * n);
    for f in 0..frames {
        for m in 0..n {
            positions.push(pts.get(f, m).map_or([f32::NAN; 3], |mp| {
                if mp.residual < 0.0 {
                    [f32::NAN; 3]
                } else {
                    mp.point
                }
            }));
        }
    }
    Ok(RawPoints {
        labels: (0..n)
            .map(|m| {
                pts.labels
                    .get(m)
                    .map_or_else(String::new, |l| l.trim().to_string())
            })
            .collect(),
        rate: pts.frame_rate,
        units: pts.units.iter().collect::<String>(),
        frames,
        positions,
    })
}

/// Reads a C3D file: points through c3dio (through this module's own reader when c3dio fails
/// on the file), events and walk information from the parameter section.
///
/// # Errors
/// Unreadable or malformed files (with the reason), files without points, an invalid frame
/// rate.
pub fn read(path: &Path) -> Result<C3dMotion, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    let raw = match read_with_c3dio(&bytes) {
        Ok(raw) => raw,
        Err(c3dio_reason) => {
            c3d_points::read_points(&bytes).map_err(|_| ImportError::invalid(path, c3dio_reason))?
        }
    };
    let (frames, n) = (raw.frames, raw.positions.len() / raw.frames.max(1));
    if n == 0 || frames == 0 {
        return Err(ImportError::invalid(path, "C3D file has no 3D points"));
    }
    let fps = raw.rate;
    if !(fps > 0.0 && fps.is_finite()) {
        return Err(ImportError::invalid(
            path,
            format!("invalid point frame rate {fps}"),
        ));
    }
    let units =
        Units::parse(raw.units.trim_matches([char::from(0), ' '])).unwrap_or(Units::Millimetres);
    let scale = units.to_metres();
    let positions = raw
        .positions
        .iter()
        .map(|p| {
            #[allow(clippy::float_cmp)] // exactly (0, 0, 0) is the C3D writers' gap marker
            let at_origin = *p == [0.0; 3];
            if at_origin {
                [f32::NAN; 3]
            } else {
                p.map(|v| v * scale)
            }
        })
        .collect();
    let joints = (0..n)
        .map(|m| JointDef {
            name: raw
                .labels
                .get(m)
                .filter(|l| !l.is_empty())
                .map_or_else(|| format!("point{m}"), Clone::clone),
            parent: None,
        })
        .collect();
    let groups = parameters_of(path, &bytes)?;
    Ok(C3dMotion {
        skeleton: Skeleton::new("c3d", joints, Axis::PosZ, units),
        fps,
        positions,
        events: read_events(&groups, fps, frames),
        info: C3dWalkInfo::from_groups(&groups),
    })
}

/// The parameter groups of a C3D file.
///
/// # Errors
/// An unreadable file, a header that does not point at a parameter section, or a malformed
/// section.
pub fn read_parameters(path: &Path) -> Result<Vec<Group>, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    parameters_of(path, &bytes)
}

/// The parameter groups of a C3D file's bytes (`path` names it in errors).
fn parameters_of(path: &Path, bytes: &[u8]) -> Result<Vec<Group>, ImportError> {
    c3d_points::parameter_section(bytes)
        .and_then(|s| c3d_params::decode(s).map_err(|e| e.to_string()))
        .map(|(_, g)| g)
        .map_err(|e| ImportError::invalid(path, e))
}

/// Foot strikes and foot offs (labels "Foot Strike"/"Heel Strike" and "Foot Off"/"Toe Off",
/// contexts "Left"/"Right", any case) as frame indices of a `frames`-long trial at `fps`.
/// Events of other labels or contexts, and events outside the trial, are left out.
fn read_events(groups: &[Group], fps: f32, frames: usize) -> Option<GaitEvents> {
    let strings = |name: &str| {
        c3d_params::find(groups, "EVENT", name).map_or_else(Vec::new, Param::as_strings)
    };
    let (labels, contexts) = (strings("LABELS"), strings("CONTEXTS"));
    let times = c3d_params::find(groups, "EVENT", "TIMES").map_or_else(Vec::new, Param::as_f32);
    // The file's first frame (1 unless the trial was cropped) is time 0 of the sequence's frame 0.
    let first = c3d_params::find(groups, "TRIAL", "ACTUAL_START_FIELD")
        .map(Param::as_f32)
        .and_then(|v| {
            let lo = f64::from(*v.first()? as i16 as u16);
            let hi = f64::from(v.get(1).map_or(0, |&h| h as i16 as u16));
            Some(lo + hi * 65536.0)
        })
        .unwrap_or(1.0);
    let mut ev = GaitEvents::default();
    for (i, (label, context)) in labels.iter().zip(&contexts).enumerate() {
        let Some(t) = times.get(2 * i..2 * i + 2) else {
            break;
        };
        let seconds = f64::from(t[0]) * 60.0 + f64::from(t[1]);
        let frame = (seconds * f64::from(fps)).round() + 1.0 - first;
        if !(frame >= 0.0 && frame < frames as f64) {
            continue;
        }
        let Some(side) = Side::parse(context) else {
            continue;
        };
        let l = label.to_ascii_lowercase();
        let side_ev = match side {
            Side::Left => &mut ev.left,
            Side::Right => &mut ev.right,
        };
        if l == FOOT_STRIKE.to_ascii_lowercase() || l == "heel strike" {
            side_ev.heel_strikes.push(frame as usize);
        } else if l == FOOT_OFF.to_ascii_lowercase() || l == "toe off" {
            side_ev.toe_offs.push(frame as usize);
        }
    }
    for s in [&mut ev.left, &mut ev.right] {
        s.heel_strikes.sort_unstable();
        s.heel_strikes.dedup();
        s.toe_offs.sort_unstable();
        s.toe_offs.dedup();
    }
    (!ev.is_empty()).then_some(ev)
}
