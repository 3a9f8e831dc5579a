//! Curated dataset export: real and/or synthetic walks with a manifest (RON and JSON: ids,
//! labels, subjects, provenance with prompt, model checkpoint hash, seed and sampling, and
//! curation decisions) to the formats users load: NumPy `.npz`, long CSV, C3D, TRC (OpenSim),
//! BVH (rotations solved from positions) and the Kinect v2 CSV layout.
//!
//! Every file is written to a temporary name and renamed, so an interrupted export never
//! leaves a half-written file under a final name.

pub mod angles;
pub mod bvh_write;
pub mod numpy;
pub mod tables;
mod walk_files;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::numpy::{NpzSet, write_npz};
use self::walk_files::{FileNames, walk_file};
use crate::core::biomech::walk_events;
use crate::core::data::events::EventSource;
use crate::core::data::{CommonJoint, GaitEvents, GaitSequence, Provenance};
use crate::core::fsutil::{commit_dir, resolve_target, staging_dir, write_atomic};
use crate::core::jobs::{CancelToken, Progress};

/// Manifest format version.
pub const MANIFEST_VERSION: u32 = 2;

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
    /// The export was cancelled (the folder is left as it was).
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
    /// `dataset.csv` (one row per walk, frame and joint), `walks.csv` (one row per walk) and
    /// `events.csv` (one row per gait event).
    Csv,
    /// `c3d/<id>.c3d`: joints as points (mm, float) with gait events, as C3D.org specifies.
    C3d,
    /// `trc/<id>.trc`: joints as markers for OpenSim (mm, Y up).
    Trc,
    /// `bvh/<id>.bvh`: the walk's rig with rotations solved from positions (Y-up, cm).
    Bvh,
    /// `kinect/humanN_<gait>K/humanN_<gait>K_SkeletonDataM.csv`: the Kinect v2 layout, axes
    /// and file names of the reference dataset, with `kinect/index.csv` giving every file's
    /// subject and class so an import of the folder gets them back.
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
    /// Heel strikes and toe offs per side (frame 0 = first frame), as written to C3D and
    /// `events.csv`.
    #[serde(default)]
    pub events: GaitEvents,
    /// Whether the events were recorded with the source file or detected from kinematics.
    #[serde(default)]
    pub event_source: EventSource,
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

/// The npz arrays of walks (the common joints when their rigs differ, with a note saying so).
pub(crate) fn npz_set(seqs: &[&GaitSequence]) -> (NpzSet, Option<String>) {
    let same_rig = seqs
        .windows(2)
        .all(|w| w[0].skeleton.joints == w[1].skeleton.joints);
    // Mixed rigs share only the common joints (with arms when every walk has them).
    let arms = seqs.iter().all(|s| s.skeleton.has_arms());
    let common: &[CommonJoint] = if arms {
        &CommonJoint::EVERY
    } else {
        &CommonJoint::ALL
    };
    let (joint_names, note): (Vec<String>, Option<String>) = if same_rig {
        (
            seqs.first()
                .map(|s| s.skeleton.joints.iter().map(|j| j.name.clone()).collect())
                .unwrap_or_default(),
            None,
        )
    } else {
        (
            common.iter().map(|c| format!("{c:?}")).collect(),
            Some(format!(
                "walks on different rigs: dataset.npz and dataset.csv hold the {} common joints{}",
                common.len(),
                if arms { " (arms included)" } else { "" }
            )),
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
                        s.common(f, common[k]).unwrap_or([f32::NAN; 3])
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

/// The walks curation keeps, and `(id, reason)` for those it leaves out.
fn curate<'a>(
    seqs: &'a [GaitSequence],
    curation: &Curation,
    opts: &ExportOptions,
) -> (Vec<&'a GaitSequence>, Vec<(String, String)>) {
    let mut left_out = Vec::new();
    let keep = seqs
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
    (keep, left_out)
}

/// The manifest entry of a walk (files filled in as they are written).
fn manifest_item(s: &GaitSequence, curation: &Curation) -> ManifestItem {
    let (events, event_source) = walk_events(s);
    ManifestItem {
        id: s.id.clone(),
        subject: s.subject.clone(),
        label: s.label.clone(),
        severity: s.severity,
        frames: s.frames(),
        fps: s.fps,
        synthetic: s.is_synthetic(),
        provenance: s.provenance.clone(),
        curation: curation.get(&s.id).cloned().unwrap_or_default(),
        files: Vec::new(),
        events,
        event_source,
    }
}

/// What an export owns in its folder: replaced as a whole on the next export; anything else in
/// the folder (a user's notes) is kept.
const EXPORT_ENTRIES: [&str; 10] = [
    "manifest.ron",
    "manifest.json",
    "dataset.npz",
    "dataset.csv",
    "walks.csv",
    "events.csv",
    "c3d",
    "trc",
    "bvh",
    "kinect",
];

/// Exports the walks that curation keeps into the folder `out`, atomically as a whole: every
/// file is written into a staging folder beside `out`, which is then swapped into place, so an
/// interrupted or failed export leaves the previous export (or nothing) and never a mix.
/// Returns the manifest (also written to `out`).
///
/// # Errors
/// Nothing left after curation, `out` being a file, a file that cannot be written (named), or
/// cancellation (nothing is changed then).
pub fn export(
    seqs: &[GaitSequence],
    curation: &Curation,
    opts: &ExportOptions,
    out: &Path,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ExportManifest, ExportError> {
    if out.exists() && !out.is_dir() {
        return Err(werr(out, "exists and is not a folder"));
    }
    let given = out;
    let out = &resolve_target(out).map_err(|e| werr(given, e))?;
    let staged = staging_dir(out).map_err(|e| werr(out, e))?;
    match write_export(seqs, curation, opts, &staged, progress, cancel) {
        Ok(m) => commit_dir(&staged, out, &EXPORT_ENTRIES)
            .map(|()| m)
            .map_err(|e| werr(out, e)),
        Err(e) => {
            // Best effort: the staging folder is hidden and replaced by the next export.
            let _ = std::fs::remove_dir_all(&staged);
            // Name the file as the user will know it, not by its staging path.
            Err(match e {
                ExportError::Write { path, message } => ExportError::Write {
                    path: path
                        .strip_prefix(&staged)
                        .map_or(path.clone(), |rel| out.join(rel)),
                    message,
                },
                other => other,
            })
        }
    }
}

/// [`export`]'s work, writing into `out` (the staging folder).
fn write_export(
    seqs: &[GaitSequence],
    curation: &Curation,
    opts: &ExportOptions,
    out: &Path,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ExportManifest, ExportError> {
    let (keep, left_out) = curate(seqs, curation, opts);
    if keep.is_empty() {
        return Err(ExportError::Empty(format!(
            "{} walks given, {} left out by curation",
            seqs.len(),
            left_out.len()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| werr(out, e))?;
    let mut items: Vec<ManifestItem> = keep.iter().map(|s| manifest_item(s, curation)).collect();
    let mut notes = Vec::new();
    let mut shared_files = Vec::new();
    let has = |f: ExportFormat| opts.formats.contains(&f);
    let per_walk = opts
        .formats
        .iter()
        .filter(|f| !matches!(f, ExportFormat::Npz | ExportFormat::Csv))
        .count();
    progress.start("exporting", (keep.len() * per_walk + 2) as u64);
    if has(ExportFormat::Npz) || has(ExportFormat::Csv) {
        let (set, note) = npz_set(&keep);
        notes.extend(note);
        if has(ExportFormat::Npz) {
            let p = out.join("dataset.npz");
            let tmp = out.join(".dataset.npz.tmp");
            write_npz(&tmp, &set).map_err(|e| werr(&p, e))?;
            std::fs::rename(&tmp, &p).map_err(|e| werr(&p, e))?;
            shared_files.push("dataset.npz".into());
        }
        if has(ExportFormat::Csv) {
            write_file(out, "dataset.csv", tables::dataset_csv(&set))?;
            shared_files.push("dataset.csv".into());
        }
    }
    progress.advance(1, "shared files");
    let mut names = FileNames::default();
    let mut kinect_rows = Vec::new();
    for (i, s) in keep.iter().enumerate() {
        let id = names.stem(&s.id);
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
                ExportFormat::Kinect => format!("kinect/{}", names.kinect(s, &id)),
            };
            write_file(out, &rel, walk_file(f, s, &items[i], &mut notes))?;
            if f == ExportFormat::Kinect {
                kinect_rows.push((i, rel.trim_start_matches("kinect/").to_string()));
            }
            items[i].files.push(rel.clone());
            progress.advance(1, &rel);
        }
    }
    if has(ExportFormat::Csv) {
        write_file(out, "walks.csv", tables::walks_csv(&items))?;
        write_file(out, "events.csv", tables::events_csv(&items))?;
        shared_files.extend(["walks.csv".to_string(), "events.csv".to_string()]);
    }
    if has(ExportFormat::Kinect) {
        let rows: Vec<_> = kinect_rows
            .iter()
            .map(|(i, file)| (file.clone(), &items[*i], keep[*i].side))
            .collect();
        write_file(out, "kinect/index.csv", tables::kinect_index_csv(&rows))?;
        shared_files.push("kinect/index.csv".into());
    }
    progress.advance(1, "tables");
    progress.finish();
    notes.sort();
    notes.dedup();
    let manifest = ExportManifest {
        version: MANIFEST_VERSION,
        created_by: format!("pathogait {}", env!("CARGO_PKG_VERSION")),
        conventions: CONVENTIONS.into(),
        formats: opts.formats.clone(),
        shared_files,
        left_out,
        notes,
        items,
    };
    let ron_text = ron::ser::to_string_pretty(&manifest, ron::ser::PrettyConfig::default())
        .map_err(|e| werr(&out.join("manifest.ron"), e))?;
    write_file(out, "manifest.ron", Ok(ron_text.into_bytes()))?;
    let json =
        serde_json::to_string_pretty(&manifest).map_err(|e| werr(&out.join("manifest.json"), e))?;
    write_file(out, "manifest.json", Ok(json.into_bytes()))?;
    Ok(manifest)
}

/// Units, axes and event times of the exported files, as the manifest states them.
const CONVENTIONS: &str = "npz/csv: metres; c3d: millimetres; all three Z up, walking along \
    +X, left at +Y. trc: millimetres, Y up, walking along +X, right at +Z (OpenSim). bvh: \
    centimetres, Y up, walking along +X. kinect: metres, Z up, walking along +Y, as the \
    reference dataset. Events: frame 0 is a walk's first frame (C3D frame 1) at time 0 s; \
    C3D EVENT:TIMES holds [minutes, seconds] = [0, frame / rate]";

/// Writes `bytes` to `out/rel` atomically, creating folders (errors name the file).
fn write_file(out: &Path, rel: &str, bytes: Result<Vec<u8>, String>) -> Result<(), ExportError> {
    let p = out.join(rel);
    let bytes = bytes.map_err(|e| werr(&p, e))?;
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
    }
    write_atomic(&p, &bytes).map_err(|e| werr(&p, e))
}
