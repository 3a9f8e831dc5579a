//! TRC (`OpenSim` marker trajectories) reader and writer.
//!
//! Layout: `PathFileType` line, a header-name line, a header-value line (`DataRate`, `CameraRate`,
//! `NumFrames`, `NumMarkers`, Units, ...), a marker-name line (`Frame#  Time  M1 _ _  M2 ...`), an
//! axis line (`X1 Y1 Z1 ...`), then one tab-separated row per frame; empty cells are missing.

use std::fmt::Write as _;
use std::path::Path;

use super::{ImportError, parse_num, read_text};
use crate::core::data::skeleton::{Axis, JointDef, Skeleton, Units};
use crate::core::math::Vec3;

/// A parsed TRC file.
#[derive(Debug, Clone)]
pub struct TrcMotion {
    /// Marker set as a skeleton without bones; up axis is `OpenSim`'s +Y.
    pub skeleton: Skeleton,
    /// `DataRate` from the header.
    pub fps: f32,
    /// `frames * markers` positions in metres (NaN where a cell was empty).
    pub positions: Vec<Vec3>,
}

/// Reads a TRC file.
///
/// # Errors
/// Missing header lines, unknown units, a header frame/marker count that disagrees with the
/// data, or a cell that is not a number, with line numbers.
pub fn read(path: &Path) -> Result<TrcMotion, ImportError> {
    parse(&read_text(path)?, path)
}

/// Parses TRC text (`path` is used in messages).
///
/// # Errors
/// As [`read`].
pub fn parse(text: &str, path: &Path) -> Result<TrcMotion, ImportError> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 5 || !lines[0].starts_with("PathFileType") {
        return Err(ImportError::parse(
            path,
            1,
            "not a TRC file (expected a 'PathFileType' header and 5 header lines)",
        ));
    }
    let names: Vec<&str> = lines[1].split('\t').map(str::trim).collect();
    let vals: Vec<&str> = lines[2].split('\t').map(str::trim).collect();
    let field = |key: &str| -> Result<&str, ImportError> {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(key))
            .and_then(|i| vals.get(i).copied())
            .ok_or_else(|| ImportError::parse(path, 3, format!("header field '{key}' missing")))
    };
    let fps: f32 = field("DataRate")?
        .parse()
        .map_err(|_| ImportError::parse(path, 3, "DataRate is not a number"))?;
    if !(fps > 0.0 && fps.is_finite()) {
        return Err(ImportError::parse(
            path,
            3,
            format!("invalid DataRate {fps}"),
        ));
    }
    let units_s = field("Units")?;
    let units = Units::parse(units_s)
        .ok_or_else(|| ImportError::parse(path, 3, format!("unknown units '{units_s}'")))?;
    let n_markers: usize = field("NumMarkers")?
        .parse()
        .map_err(|_| ImportError::parse(path, 3, "NumMarkers is not an integer"))?;
    let markers: Vec<String> = lines[3]
        .split('\t')
        .skip(2)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if markers.len() != n_markers {
        return Err(ImportError::parse(
            path,
            4,
            format!(
                "header says {n_markers} markers but {} marker names are listed",
                markers.len()
            ),
        ));
    }
    let scale = units.to_metres();
    let mut positions = Vec::new();
    let mut frames = 0;
    for (i, line) in lines.iter().enumerate().skip(5) {
        let ln = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        // Trailing empty cells may be cut off by some writers: missing cells read as NaN.
        if cols.len() < 2 {
            return Err(ImportError::parse(
                path,
                ln,
                "expected Frame# and Time columns",
            ));
        }
        for (m, marker) in markers.iter().enumerate() {
            let mut p = [f32::NAN; 3];
            for (k, v) in p.iter_mut().enumerate() {
                let cell = cols.get(2 + 3 * m + k).copied().unwrap_or("");
                *v = parse_num(cell).map_err(|e| {
                    ImportError::parse(
                        path,
                        ln,
                        format!("marker {marker} {}: {e}", ["X", "Y", "Z"][k]),
                    )
                })? * scale;
            }
            positions.push(p);
        }
        frames += 1;
    }
    if frames == 0 {
        return Err(ImportError::invalid(path, "no data rows after the header"));
    }
    if let Ok(Ok(nf)) = field("NumFrames").map(str::parse::<usize>)
        && nf != frames
    {
        return Err(ImportError::invalid(
            path,
            format!("header says {nf} frames but {frames} data rows follow"),
        ));
    }
    let joints = markers
        .into_iter()
        .map(|name| JointDef { name, parent: None })
        .collect();
    Ok(TrcMotion {
        skeleton: Skeleton::new("trc", joints, Axis::PosY, units),
        fps,
        positions,
    })
}

/// A walk (canonical frame: Z up, walking +X, left +Y) as a TRC file body in `OpenSim`'s axes:
/// Y up, X forward, Z to the right; markers named after the rig's joints.
#[must_use]
pub fn opensim_text(file_name: &str, seq: &crate::core::data::GaitSequence) -> String {
    let names: Vec<String> = seq.skeleton.joints.iter().map(|j| j.name.clone()).collect();
    let yup: Vec<Vec3> = seq.positions.iter().map(|p| [p[0], p[2], -p[1]]).collect();
    to_text(file_name, &names, &yup, seq.fps)
}

/// Writes a TRC file body: markers named after `names`, positions given in metres and written
/// in millimetres (`OpenSim`'s usual unit); NaN becomes an empty cell.
#[must_use]
pub fn to_text(file_name: &str, names: &[String], positions: &[Vec3], fps: f32) -> String {
    let nm = names.len().max(1);
    let frames = positions.len() / nm;
    let mut s = String::new();
    let _ = writeln!(s, "PathFileType\t4\t(X/Y/Z)\t{file_name}");
    let _ = writeln!(
        s,
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames"
    );
    let _ = writeln!(
        s,
        "{fps}\t{fps}\t{frames}\t{}\tmm\t{fps}\t1\t{frames}",
        names.len()
    );
    s.push_str("Frame#\tTime");
    for n in names {
        let _ = write!(s, "\t{n}\t\t");
    }
    s.push_str("\n\t");
    for i in 1..=names.len() {
        let _ = write!(s, "\tX{i}\tY{i}\tZ{i}");
    }
    s.push_str("\n\n");
    for f in 0..frames {
        let _ = write!(s, "{}\t{:.5}", f + 1, f as f32 / fps);
        for p in &positions[f * nm..(f + 1) * nm] {
            for v in p {
                if v.is_finite() {
                    let _ = write!(s, "\t{:.4}", v * 1000.0);
                } else {
                    s.push('\t');
                }
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_millimetres_with_missing_cell() {
        let names = vec!["LKNE".to_string(), "RKNE".to_string()];
        let pos = vec![
            [0.1, 0.5, 0.2],
            [0.3, 0.5, -0.2],
            [0.11, 0.5, 0.2],
            [f32::NAN; 3],
        ];
        let text = to_text("t.trc", &names, &pos, 100.0);
        let m = parse(&text, Path::new("t.trc")).unwrap();
        assert_eq!(m.skeleton.source_units, Units::Millimetres);
        assert_eq!(m.positions.len(), 4);
        assert!((m.positions[2][0] - 0.11).abs() < 1e-6);
        assert!(m.positions[3][0].is_nan());
        assert!((m.fps - 100.0).abs() < 1e-6);
    }

    #[test]
    fn bad_cell_names_marker_and_line() {
        let names = vec!["LKNE".to_string()];
        let text = to_text("t.trc", &names, &[[0.1, 0.2, 0.3]], 100.0).replace("100.0000", "abc");
        let err = parse(&text, Path::new("t.trc")).unwrap_err().to_string();
        assert!(
            err.starts_with("t.trc:7: marker LKNE X: 'abc' is not a number"),
            "{err}"
        );
    }
}
