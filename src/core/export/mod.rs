//! Curated dataset export: real and/or synthetic walks with a manifest (RON and JSON: ids,
//! labels, subjects, provenance with prompt, model checkpoint hash, seed and sampling, and
//! curation decisions) to the formats users load: NumPy `.npz`, long CSV, C3D, TRC (OpenSim),
//! BVH (rotations solved from positions) and the Kinect v2 CSV layout.
//!
//! Every file is written to a temporary name and renamed, so an interrupted export never
//! leaves a half-written file under a final name.

pub mod bvh_write;
pub mod numpy;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::numpy::{NpzSet, write_npz};
use crate::core::data::{CommonJoint, GaitSequence, Provenance};
use crate::core::io::{c3d, kinect_csv, trc};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::Vec3;
use crate::core::project::write_atomic;

/// Manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file or folder could not be written.
    #[error("{path}: {message}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Nothing is left to export after curation.
    #[error("nothing to export: {0}")]
    Empty(String),
    /// The export was cancelled (files already renamed into place stay valid).
    #[error("cancelled")]
    Cancelled,
}

fn werr(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExportFormat {
    /// `dataset.npz` (see [`numpy`]).
    Npz,
    /// `dataset.csv`: one row per walk, frame and joint.
    Csv,
    /// `c3d/<id>.c3d`: joints as markers (mm in the file, float).
    C3d,
    /// `trc/<id>.trc`: joints as markers for OpenSim (mm, Y up).
    Trc,
    /// `bvh/<id>.bvh`: the walk's rig with rotations solved from positions (Y-up, cm).
    Bvh,
    /// `kinect/<id>/<id>_SkeletonData1.csv`: the Kinect v2 layout and axes of the reference
    /// dataset.
    Kinect,
}

impl ExportFormat {
    /// All formats.
    pub const ALL: [Self; 6] = [
        Self::Npz,
        Self::Csv,
        Self::C3d,
        Self::Trc,
        Self::Bvh,
        Self::Kinect,
    ];

    /// Lower-case name used on the command line and in the manifest.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Npz => "npz",
            Self::Csv => "csv",
            Self::C3d => "c3d",
            Self::Trc => "trc",
            Self::Bvh => "bvh",
            Self::Kinect => "kinect",
        }
    }

    /// Parses a name (any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// A curator's decision on one walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Decision {
    /// Not reviewed yet.
    #[default]
    Pending,
    /// Keep.
    Accepted,
    /// Leave out of exports.
    Rejected,
}

/// Decision, tags and a note for one walk.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CurationEntry {
    /// Decision.
    pub decision: Decision,
    /// Free tags ("good heel strike", "foot sliding", ...).
    pub tags: Vec<String>,
    /// Free note.
    pub note: String,
}

/// Curation of a set: walk id -> entry (walks without an entry are pending).
pub type Curation = BTreeMap<String, CurationEntry>;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportOptions {
    /// Formats to write.
    pub formats: Vec<ExportFormat>,
    /// Also export walks not reviewed yet (rejected walks are never exported).
    pub include_pending: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            formats: vec![ExportFormat::Npz],
            include_pending: true,
        }
    }
}

/// One exported walk in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestItem {
    /// Walk id (file stem in every per-walk format).
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Class label.
    pub label: Option<String>,
    /// Severity.
    pub severity: Option<f32>,
    /// Frames.
    pub frames: usize,
    /// Frame rate.
    pub fps: f32,
    /// Synthetic (generated or demo) or recorded.
    pub synthetic: bool,
    /// Where it came from: file, demo parameters, or model + prompt + seed + sampling.
    pub provenance: Provenance,
    /// Curation.
    pub curation: CurationEntry,
    /// Files written for this walk, relative to the export folder.
    pub files: Vec<String>,
}

/// The manifest written beside the data (`manifest.ron` and `manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Format version.
    pub version: u32,
    /// Program and version that wrote it.
    pub created_by: String,
    /// Coordinate conventions of the data files.
    pub conventions: String,
    /// Formats written.
    pub formats: Vec<ExportFormat>,
    /// Files shared by all walks (`dataset.npz`, `dataset.csv`).
    pub shared_files: Vec<String>,
    /// Walks left out by curation: `(id, reason)`.
    pub left_out: Vec<(String, String)>,
    /// Notes on format limits met during this export.
    pub notes: Vec<String>,
    /// Exported walks.
    pub items: Vec<ManifestItem>,
}

/// File-safe version of an id.
fn stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The 25 Kinect v2 joints for a walk: its own if on the Kinect rig, else the common joints
/// placed where Kinect has them and NaN (untracked) for the joints the walk does not have.
fn kinect_positions(seq: &GaitSequence) -> (Vec<Vec3>, bool) {
    if seq.skeleton.joint_count() == 25 && seq.skeleton.name == "kinect_v2" {
        return (seq.positions.clone(), false);
    }
    let k = crate::core::data::Skeleton::kinect_v2();
    let slots: Vec<(usize, CommonJoint)> = CommonJoint::ALL
        .iter()
        .filter_map(|c| {
            k.common_sources(*c)
                .and_then(|s| s.first())
                .map(|&i| (i, *c))
        })
        .collect();
    let mut out = vec![[f32::NAN; 3]; seq.frames() * 25];
    for f in 0..seq.frames() {
        for &(slot, c) in &slots {
            if let Some(p) = seq.common(f, c) {
                out[f * 25 + slot] = p;
            }
        }
    }
    (out, true)
}

/// The npz arrays of walks (the common joints when their rigs differ, with a note saying so).
pub(crate) fn npz_set(seqs: &[&GaitSequence]) -> (NpzSet, Option<String>) {
    let same_rig = seqs
        .windows(2)
        .all(|w| w[0].skeleton.joints == w[1].skeleton.joints);
    // Mixed rigs share only the common joints.
    let (joint_names, note): (Vec<String>, Option<String>) = if same_rig {
        (
            seqs.first()
                .map(|s| s.skeleton.joints.iter().map(|j| j.name.clone()).collect())
                .unwrap_or_default(),
            None,
        )
    } else {
        (
            CommonJoint::ALL.iter().map(|c| format!("{c:?}")).collect(),
            Some(
                "walks on different rigs: dataset.npz and dataset.csv hold the 12 common joints"
                    .to_string(),
            ),
        )
    };
    let j = joint_names.len();
    let max_frames = seqs.iter().map(|s| s.frames()).max().unwrap_or(0);
    let mut label_names: Vec<String> = seqs.iter().filter_map(|s| s.label.clone()).collect();
    label_names.sort();
    label_names.dedup();
    let mut subject_names: Vec<String> = seqs.iter().map(|s| s.subject.clone()).collect();
    subject_names.sort();
    subject_names.dedup();
    let positions = seqs
        .iter()
        .map(|s| {
            let mut v = vec![[f32::NAN; 3]; max_frames * j];
            for f in 0..s.frames() {
                for k in 0..j {
                    v[f * j + k] = if same_rig {
                        s.pos(f, k)
                    } else {
                        s.common(f, CommonJoint::ALL[k]).unwrap_or([f32::NAN; 3])
                    };
                }
            }
            v
        })
        .collect();
    let index = |names: &[String], v: Option<&String>| -> i32 {
        v.and_then(|v| names.iter().position(|n| n == v))
            .map_or(-1, |i| i as i32)
    };
    let set = NpzSet {
        positions,
        max_frames,
        joints: j,
        lengths: seqs.iter().map(|s| s.frames() as i32).collect(),
        fps: seqs.iter().map(|s| s.fps).collect(),
        labels: seqs
            .iter()
            .map(|s| index(&label_names, s.label.as_ref()))
            .collect(),
        subjects: seqs
            .iter()
            .map(|s| index(&subject_names, Some(&s.subject)))
            .collect(),
        synthetic: seqs.iter().map(|s| i32::from(s.is_synthetic())).collect(),
        ids: seqs.iter().map(|s| s.id.clone()).collect(),
        label_names,
        subject_names,
        joint_names,
    };
    (set, note)
}

/// Long CSV of the npz arrays: `id,subject,label,synthetic,frame,time_s,joint,x,y,z`.
fn csv_text(set: &NpzSet) -> String {
    let mut s = String::from("id,subject,label,synthetic,frame,time_s,joint,x,y,z\n");
    for (i, walk) in set.positions.iter().enumerate() {
        let label = usize::try_from(set.labels[i])
            .ok()
            .and_then(|l| set.label_names.get(l));
        let subject = usize::try_from(set.subjects[i])
            .ok()
            .and_then(|l| set.subject_names.get(l));
        for f in 0..set.lengths[i].max(0) as usize {
            for (k, name) in set.joint_names.iter().enumerate() {
                let p = walk[f * set.joints + k];
                let _ = writeln!(
                    s,
                    "{},{},{},{},{f},{:.5},{name},{:.6},{:.6},{:.6}",
                    set.ids[i],
                    subject.map_or("", String::as_str),
                    label.map_or("", String::as_str),
                    set.synthetic[i],
                    f as f32 / set.fps[i].max(1e-3),
                    p[0],
                    p[1],
                    p[2]
                );
            }
        }
    }
    s
}

/// Exports the walks that curation keeps. Returns the manifest (also written to `out`).
///
/// # Errors
/// Nothing left after curation, a file that cannot be written (named), or cancellation.
pub fn export(
    seqs: &[GaitSequence],
    curation: &Curation,
    opts: &ExportOptions,
    out: &Path,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ExportManifest, ExportError> {
    let mut left_out = Vec::new();
    let keep: Vec<&GaitSequence> = seqs
        .iter()
        .filter(|s| {
            let d = curation
                .get(&s.id)
                .map_or(Decision::Pending, |c| c.decision);
            let why = match d {
                Decision::Rejected => Some("rejected"),
                Decision::Pending if !opts.include_pending => Some("not reviewed"),
                _ => None,
            };
            if let Some(w) = why {
                left_out.push((s.id.clone(), w.to_string()));
            }
            why.is_none()
        })
        .collect();
    if keep.is_empty() {
        return Err(ExportError::Empty(format!(
            "{} walks given, {} left out by curation",
            seqs.len(),
            left_out.len()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| werr(out, e))?;
    let mut notes = Vec::new();
    let mut shared_files = Vec::new();
    let mut files: Vec<Vec<String>> = vec![Vec::new(); keep.len()];
    let per_walk = opts
        .formats
        .iter()
        .filter(|f| !matches!(f, ExportFormat::Npz | ExportFormat::Csv))
        .count();
    progress.start("exporting", (keep.len() * per_walk + 1) as u64);
    if opts
        .formats
        .iter()
        .any(|f| matches!(f, ExportFormat::Npz | ExportFormat::Csv))
    {
        let (set, note) = npz_set(&keep);
        notes.extend(note);
        if opts.formats.contains(&ExportFormat::Npz) {
            let p = out.join("dataset.npz");
            let tmp = out.join(".dataset.npz.tmp");
            write_npz(&tmp, &set).map_err(|e| werr(&p, e))?;
            std::fs::rename(&tmp, &p).map_err(|e| werr(&p, e))?;
            shared_files.push("dataset.npz".into());
        }
        if opts.formats.contains(&ExportFormat::Csv) {
            let p = out.join("dataset.csv");
            write_atomic(&p, csv_text(&set).as_bytes()).map_err(|e| werr(&p, e))?;
            shared_files.push("dataset.csv".into());
        }
    }
    progress.advance(1, "shared files");
    let mut kinect_filled = false;
    let mut used = std::collections::BTreeSet::new();
    for (i, s) in keep.iter().enumerate() {
        // Ids that differ only in characters a file name cannot hold must not share files.
        let mut id = stem(&s.id);
        let base = id.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        let names: Vec<String> = s.skeleton.joints.iter().map(|j| j.name.clone()).collect();
        for &f in &opts.formats {
            if cancel.is_cancelled() {
                progress.finish();
                return Err(ExportError::Cancelled);
            }
            let rel = match f {
                ExportFormat::Npz | ExportFormat::Csv => continue,
                ExportFormat::C3d => format!("c3d/{id}.c3d"),
                ExportFormat::Trc => format!("trc/{id}.trc"),
                ExportFormat::Bvh => format!("bvh/{id}.bvh"),
                ExportFormat::Kinect => format!("kinect/{id}/{id}_SkeletonData1.csv"),
            };
            let p = out.join(&rel);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
            }
            match f {
                ExportFormat::C3d => {
                    // c3dio writes in place and insists on the extension: write a hidden
                    // temporary file, then rename.
                    let tmp = p.with_file_name(format!(".{id}.tmp.c3d"));
                    c3d::write(&tmp, &names, &s.positions, s.fps).map_err(|e| werr(&p, e))?;
                    std::fs::rename(&tmp, &p).map_err(|e| werr(&p, e))?;
                }
                ExportFormat::Trc => {
                    let text = trc::opensim_text(&format!("{id}.trc"), s);
                    write_atomic(&p, text.as_bytes()).map_err(|e| werr(&p, e))?;
                }
                ExportFormat::Bvh => {
                    let text = bvh_write::to_bvh_text(s).map_err(|e| werr(&p, e))?;
                    write_atomic(&p, text.as_bytes()).map_err(|e| werr(&p, e))?;
                }
                ExportFormat::Kinect => {
                    let (pos, filled) = kinect_positions(s);
                    kinect_filled |= filled;
                    // The reference dataset's axes: walking along +Y towards the camera.
                    let pos = kinect_csv::from_canonical(&pos, 25);
                    let text = kinect_csv::to_text(&pos, s.fps, 0.0);
                    write_atomic(&p, text.as_bytes()).map_err(|e| werr(&p, e))?;
                }
                ExportFormat::Npz | ExportFormat::Csv => {}
            }
            files[i].push(rel.clone());
            progress.advance(1, &rel);
        }
    }
    progress.finish();
    if kinect_filled {
        notes.push(
            "Kinect layout: walks not recorded on the Kinect rig carry their common joints; the \
             joints they do not have (arms, hands, spine shoulder) are written as nan (untracked)"
                .into(),
        );
    }
    let manifest = ExportManifest {
        version: MANIFEST_VERSION,
        created_by: format!("pathogait {}", env!("CARGO_PKG_VERSION")),
        conventions: "npz/csv: metres; c3d: millimetres; all three Z up, walking along +X, \
                      left at +Y. trc: millimetres, Y up, walking along +X, right at +Z (OpenSim). \
                      bvh: centimetres, Y up, walking along +X. kinect: metres, Z up, walking \
                      along +Y, as the reference dataset"
            .into(),
        formats: opts.formats.clone(),
        shared_files,
        left_out,
        notes,
        items: keep
            .iter()
            .zip(files)
            .map(|(s, files)| ManifestItem {
                id: s.id.clone(),
                subject: s.subject.clone(),
                label: s.label.clone(),
                severity: s.severity,
                frames: s.frames(),
                fps: s.fps,
                synthetic: s.is_synthetic(),
                provenance: s.provenance.clone(),
                curation: curation.get(&s.id).cloned().unwrap_or_default(),
                files,
            })
            .collect(),
    };
    let ron_path = out.join("manifest.ron");
    let ron_text = ron::ser::to_string_pretty(&manifest, ron::ser::PrettyConfig::default())
        .map_err(|e| werr(&ron_path, e))?;
    write_atomic(&ron_path, ron_text.as_bytes()).map_err(|e| werr(&ron_path, e))?;
    let json_path = out.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| werr(&json_path, e))?;
    write_atomic(&json_path, json.as_bytes()).map_err(|e| werr(&json_path, e))?;
    Ok(manifest)
}
