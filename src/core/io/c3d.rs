//! C3D reader and writer through the `c3dio` crate.
//!
//! Points are markers (or virtual joints) named by `POINT:LABELS`; units from `POINT:UNITS`.
//! A sample with a negative residual (the C3D "invalid" flag) or exactly at the origin is
//! treated as missing, as C3D writers use both to mark gaps.

use std::path::Path;

use c3dio::C3d;

use super::ImportError;
use crate::core::data::skeleton::{Axis, JointDef, Skeleton, Units};
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
}

/// Reads a C3D file.
///
/// # Errors
/// Unreadable or malformed files (with c3dio's reason), files without points, an invalid
/// frame rate.
pub fn read(path: &Path) -> Result<C3dMotion, ImportError> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(ImportError::io(path, e));
    }
    // c3dio indexes and unwraps internally on some malformed files: contain a panic there so
    // a corrupt file is an error naming it, never a crash.
    let owned = path.to_path_buf();
    #[allow(clippy::result_large_err)] // c3dio's error type, converted right below.
    let loaded = std::panic::catch_unwind(move || C3d::load_path(owned))
        .map_err(|_| ImportError::invalid(path, "not a readable C3D file (malformed structure)"))?;
    let c3d = loaded
        .map_err(|e| ImportError::invalid(path, format!("not a readable C3D file: {e:?}")))?;
    let pts = &c3d.points;
    let frames = pts.rows();
    let n = pts.cols();
    if n == 0 || frames == 0 {
        return Err(ImportError::invalid(path, "C3D file has no 3D points"));
    }
    let fps = pts.frame_rate;
    if !(fps > 0.0 && fps.is_finite()) {
        return Err(ImportError::invalid(
            path,
            format!("invalid point frame rate {fps}"),
        ));
    }
    let units_s: String = pts.units.iter().collect();
    let units = Units::parse(units_s.trim_matches(char::from(0))).unwrap_or(Units::Millimetres);
    let scale = units.to_metres();
    let mut positions = Vec::with_capacity(frames * n);
    for f in 0..frames {
        for m in 0..n {
            let p = pts.get(f, m).map_or([f32::NAN; 3], |mp| {
                #[allow(clippy::float_cmp)] // exactly (0, 0, 0) is the C3D writers' gap marker
                let at_origin = mp.point == [0.0; 3];
                if mp.residual < 0.0 || at_origin {
                    [f32::NAN; 3]
                } else {
                    [
                        mp.point[0] * scale,
                        mp.point[1] * scale,
                        mp.point[2] * scale,
                    ]
                }
            });
            positions.push(p);
        }
    }
    let joints = (0..n)
        .map(|m| JointDef {
            name: pts
                .labels
                .get(m)
                .map_or_else(|| format!("point{m}"), |l| l.trim().to_string()),
            parent: None,
        })
        .collect();
    Ok(C3dMotion {
        skeleton: Skeleton::new("c3d", joints, Axis::PosZ, units),
        fps,
        positions,
    })
}

/// Writes points (metres in, millimetres in the file) as a C3D file with labels; missing
/// samples get the invalid flag.
///
/// # Errors
/// When the file cannot be written (c3dio's reason and the path).
pub fn write(
    path: &Path,
    names: &[String],
    positions: &[Vec3],
    fps: f32,
) -> Result<(), ImportError> {
    let n = names.len().max(1);
    let frames = positions.len() / n;
    let mut c3d = C3d::new();
    // c3dio's writer looks these groups up by name and expects them to exist.
    for g in [
        "POINT",
        "ANALOG",
        "FORCE_PLATFORM",
        "EVENT",
        "EVENT_CONTEXT",
        "TRIAL",
        "MANUFACTURER",
        "SEG",
    ] {
        c3d.parameters.insert_group(g, String::new());
    }
    let mut g: grid::Grid<c3dio::MarkerPoint> = grid::Grid::new(frames, names.len());
    for f in 0..frames {
        for m in 0..names.len() {
            let p = positions[f * n + m];
            if let Some(cell) = g.get_mut(f, m) {
                *cell = if p.iter().all(|v| v.is_finite()) {
                    c3dio::MarkerPoint::new(p[0] * 1000.0, p[1] * 1000.0, p[2] * 1000.0)
                } else {
                    c3dio::MarkerPoint {
                        point: [0.0; 3],
                        residual: -1.0,
                        cameras: [false; 7],
                    }
                };
            }
        }
    }
    c3d.points.points = g;
    c3d.points.labels = names.to_vec();
    c3d.points.descriptions = names.to_vec();
    c3d.points.units = ['m', 'm', ' ', ' '];
    c3d.points.frame_rate = fps;
    c3d.points.scale_factor = 1.0; // c3dio writes it negated for float data, per the C3D spec
    c3d.points.format = c3dio::DataFormat::Float;
    let owned = path.to_path_buf();
    let written = std::panic::catch_unwind(move || {
        c3d.write_path(owned)
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    })
    .map_err(|_| ImportError::invalid(path, "cannot write C3D (c3dio failed internally)"))?;
    written.map_err(|e| ImportError::invalid(path, format!("cannot write C3D: {e}")))
}
