//! Kinect v2 skeleton CSV as published with the Jun et al. 2020 "Pathological Gait" dataset.
//!
//! One frame per line, tab-separated, 101 columns: `time, 0, x0, y0, z0, ..., 24, x24, y24, z24`
//! with joint ids written as floats and the standard Kinect v2 joint order. Metres, Z up,
//! walking roughly along +Y, ~30 Hz; the time column is seconds and wraps around at 60.
//! Files live in `humanN_<gait>K/humanN_<gait>K_SkeletonData{1..6}.csv`.

use std::fmt::Write as _;
use std::path::Path;

use super::{ImportError, parse_num, read_text};
use crate::core::data::skeleton::{KINECT_V2_JOINTS, Skeleton};
use crate::core::math::{Vec3, median};

/// Columns per line: time plus 25 x (id, x, y, z).
pub const COLUMNS: usize = 1 + 25 * 4;

/// Gait class names used by the dataset's folder layout, then the extended demo classes that
/// `demo-data --classes extended` writes in the same layout.
pub const GAITS: [&str; 10] = [
    "normal",
    "antalgic",
    "lurch",
    "steppage",
    "stiff_legged",
    "trendelenburg",
    "parkinsonian",
    "crouch",
    "hemiplegic",
    "slow_variable",
];

/// A parsed Kinect file.
#[derive(Debug, Clone)]
pub struct KinectRecording {
    /// Kinect v2 rig.
    pub skeleton: Skeleton,
    /// Frame rate from the median time step (30 when the time column is unusable).
    pub fps: f32,
    /// `frames * 25` positions in metres (NaN where the file had NaN).
    pub positions: Vec<Vec3>,
    /// Time column unwrapped to a monotone clock, seconds.
    pub times_s: Vec<f64>,
    /// Notes about the time column (wraps, irregular steps).
    pub notes: Vec<String>,
}

/// Subject, class and trial inferred from the dataset's naming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinectName {
    /// "humanN".
    pub subject: String,
    /// Gait class as written ("`stiff_legged`", "lurch", ...).
    pub gait: String,
    /// The trial number K of `humanN_<gait>K`.
    pub trial: u32,
    /// The recording number of `SkeletonData{M}`, when present.
    pub recording: Option<u32>,
}

/// Parses `humanN_<gait>K[_SkeletonDataM]` (a folder name or file stem).
#[must_use]
pub fn parse_layout_name(name: &str) -> Option<KinectName> {
    let lower = name.to_ascii_lowercase();
    let (base, recording) = match lower.split_once("_skeletondata") {
        Some((b, r)) => (b.to_string(), r.parse::<u32>().ok()),
        None => (lower.clone(), None),
    };
    let rest = base.strip_prefix("human")?;
    let (num, gait_trial) = rest.split_once('_')?;
    num.parse::<u32>().ok()?;
    let digits = gait_trial
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .count();
    let (gait, trial) = gait_trial.split_at(gait_trial.len() - digits);
    let gait = gait.trim_end_matches('_');
    if !GAITS.contains(&gait) {
        return None;
    }
    Some(KinectName {
        subject: format!("human{num}"),
        gait: gait.to_string(),
        trial: trial.parse().unwrap_or(1),
        recording,
    })
}

/// Reads a Kinect v2 skeleton CSV.
///
/// # Errors
/// A line with the wrong number of columns, a joint id out of order, or a value that is not a
/// number (NaN is accepted and repaired later), each with its line number; an empty file.
pub fn read(path: &Path) -> Result<KinectRecording, ImportError> {
    parse(&read_text(path)?, path)
}

/// Parses Kinect CSV text (`path` is used in messages).
///
/// # Errors
/// As [`read`].
pub fn parse(text: &str, path: &Path) -> Result<KinectRecording, ImportError> {
    let mut positions = Vec::new();
    let mut raw_times = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        // Tabs in the published files; commas or spaces are accepted for re-saved copies.
        let cols: Vec<&str> = if line.contains('\t') {
            line.split('\t').collect()
        } else if line.contains(',') {
            line.split(',').collect()
        } else {
            line.split_whitespace().collect()
        };
        let cols: Vec<&str> = if cols.len() == COLUMNS + 1 && cols[COLUMNS].trim().is_empty() {
            cols[..COLUMNS].to_vec()
        } else {
            cols
        };
        if cols.len() != COLUMNS {
            return Err(ImportError::parse(
                path,
                ln,
                format!(
                    "expected {COLUMNS} columns (time + 25 joints x (id, x, y, z)), found {}",
                    cols.len()
                ),
            ));
        }
        let t =
            parse_num(cols[0]).map_err(|m| ImportError::parse(path, ln, format!("time: {m}")))?;
        raw_times.push(f64::from(t));
        for (j, joint_name) in KINECT_V2_JOINTS.iter().enumerate() {
            let id_col = 1 + 4 * j;
            let id = parse_num(cols[id_col]).map_err(|m| {
                ImportError::parse(path, ln, format!("joint id column {}: {m}", id_col + 1))
            })?;
            // NaN rows in the real files have NaN ids too; only a real mismatch is an error.
            if id.is_finite() && (id - j as f32).abs() > 1e-3 {
                return Err(ImportError::parse(
                    path,
                    ln,
                    format!(
                        "column {}: expected joint id {j} ({}), found {id}",
                        id_col + 1,
                        joint_name
                    ),
                ));
            }
            let mut p = [0.0f32; 3];
            for (k, v) in p.iter_mut().enumerate() {
                *v = parse_num(cols[id_col + 1 + k]).map_err(|m| {
                    ImportError::parse(
                        path,
                        ln,
                        format!("{joint_name} {}: {m}", ["x", "y", "z"][k]),
                    )
                })?;
            }
            positions.push(p);
        }
    }
    if raw_times.is_empty() {
        return Err(ImportError::invalid(path, "no frames (empty file)"));
    }
    let (times_s, notes) = unwrap_times(&raw_times);
    let steps: Vec<f64> = times_s
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 1e-4 && *d < 1.0)
        .collect();
    let fps = median(&steps).map_or(30.0, |dt| (1.0 / dt) as f32);
    Ok(KinectRecording {
        skeleton: Skeleton::kinect_v2(),
        fps,
        positions,
        times_s,
        notes,
    })
}

/// The time column counts seconds modulo 60: add 60 s at every backwards jump.
fn unwrap_times(raw: &[f64]) -> (Vec<f64>, Vec<String>) {
    let mut out = Vec::with_capacity(raw.len());
    let mut offset = 0.0;
    let mut wraps = 0;
    let mut prev: Option<f64> = None;
    for &t in raw {
        if let (Some(p), true) = (prev, t.is_finite())
            && t + offset < p - 30.0
        {
            offset += 60.0;
            wraps += 1;
        }
        let v = t + offset;
        out.push(v);
        if v.is_finite() {
            prev = Some(v);
        }
    }
    let notes = if wraps > 0 {
        vec![format!("time column wrapped at 60 s {wraps} time(s)")]
    } else {
        Vec::new()
    };
    (out, notes)
}

/// Positions in the dataset's convention from our canonical frame (Z up, walking +X, left +Y):
/// walking along +Y and centred on the middle frame's joint 0 (`joints` per frame).
#[must_use]
pub fn from_canonical(positions: &[Vec3], joints: usize) -> Vec<Vec3> {
    let frames = positions.len() / joints.max(1);
    let mid = positions
        .get((frames / 2) * joints)
        .copied()
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .unwrap_or([0.0; 3]);
    positions
        .iter()
        .map(|p| [-(p[1] - mid[1]), p[0] - mid[0], p[2]])
        .collect()
}

/// Writes frames of 25 Kinect v2 joints in the dataset's layout (tab-separated, ids as floats,
/// time wrapping at 60 s). `start_time_s` is the clock value of the first frame.
#[must_use]
pub fn to_text(positions: &[Vec3], fps: f32, start_time_s: f64) -> String {
    let mut s = String::new();
    for (f, frame) in positions.chunks_exact(25).enumerate() {
        let t = (start_time_s + f as f64 / f64::from(fps)) % 60.0;
        let _ = write!(s, "{t:.6}");
        for (j, p) in frame.iter().enumerate() {
            let _ = write!(s, "\t{j}.0\t{:.6}\t{:.6}\t{:.6}", p[0], p[1], p[2]);
        }
        s.push('\n');
    }
    s.replace("NaN", "nan")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names_give_subject_class_trial() {
        let n = parse_layout_name("human12_stiff_legged3_SkeletonData5").unwrap();
        assert_eq!(
            n,
            KinectName {
                subject: "human12".into(),
                gait: "stiff_legged".into(),
                trial: 3,
                recording: Some(5)
            }
        );
        assert_eq!(parse_layout_name("human3_lurch1").unwrap().gait, "lurch");
        let v = parse_layout_name("human3_slow_variable12_SkeletonData2").unwrap();
        assert_eq!(
            (v.gait.as_str(), v.trial, v.recording),
            ("slow_variable", 12, Some(2))
        );
        assert!(parse_layout_name("SubjectA1_Cycle1").is_none());
        assert!(parse_layout_name("human1_dancing1").is_none());
    }

    #[test]
    fn round_trip_with_time_wrap() {
        let frames: Vec<Vec3> = (0..50)
            .flat_map(|f| (0..25).map(move |j| [j as f32 * 0.01, f as f32 * 0.04, 1.0]))
            .collect();
        let text = to_text(&frames, 30.0, 59.5);
        let rec = parse(&text, Path::new("x.csv")).unwrap();
        assert_eq!(rec.positions.len(), frames.len());
        assert!((rec.fps - 30.0).abs() < 0.01, "{}", rec.fps);
        assert!(rec.times_s.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(rec.notes.len(), 1);
        assert!((rec.positions[25 * 7 + 3][1] - 0.28).abs() < 1e-5);
    }

    #[test]
    fn wrong_column_count_names_line() {
        let frames: Vec<Vec3> = vec![[0.0; 3]; 25 * 3];
        let mut text = to_text(&frames, 30.0, 0.0);
        text.push_str("0.1\t0.0\t1\t2\n");
        let err = parse(&text, Path::new("h.csv")).unwrap_err().to_string();
        assert!(err.starts_with("h.csv:4: expected 101 columns"), "{err}");
    }

    #[test]
    fn joint_id_out_of_order_is_reported() {
        let frames: Vec<Vec3> = vec![[0.0; 3]; 25];
        let text = to_text(&frames, 30.0, 0.0).replacen("\t3.0\t", "\t4.0\t", 1);
        let err = parse(&text, Path::new("h.csv")).unwrap_err().to_string();
        assert!(err.contains("expected joint id 3 (Head)"), "{err}");
    }
}
