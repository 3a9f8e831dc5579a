//! File and directory import: format detection, metadata (label tables, Kinect layout names),
//! cleaning and normalisation, with a per-file report of problems and repairs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::labels::LabelTable;
use super::{ImportError, bvh, c3d, kinect_csv, stem, trc};
use crate::core::data::preprocess::{CleanConfig, clean, normalize_frame};
use crate::core::data::skeleton::{Skeleton, Units};
use crate::core::data::{Dataset, GaitSequence, Provenance};
use crate::core::jobs::{CancelToken, Progress, run_parallel};
use crate::core::math::Vec3;

/// Supported motion formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// Biovision hierarchy.
    Bvh,
    /// Kinect v2 skeleton CSV (Jun et al. 2020 layout).
    KinectCsv,
    /// C3D.
    C3d,
    /// `OpenSim` TRC.
    Trc,
}

impl Format {
    /// Short name used in provenance and reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bvh => "bvh",
            Self::KinectCsv => "kinect_csv",
            Self::C3d => "c3d",
            Self::Trc => "trc",
        }
    }

    /// Guesses the format from the extension (and, for `.csv`, from the first line).
    #[must_use]
    pub fn detect(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "bvh" => Some(Self::Bvh),
            "c3d" => Some(Self::C3d),
            "trc" => Some(Self::Trc),
            "csv" | "txt" => {
                if kinect_csv::parse_layout_name(&stem(path)).is_some() {
                    return Some(Self::KinectCsv);
                }
                // A label table has a text header; a Kinect file starts with 101 numbers. An
                // unreadable file is not detected here; reading it reports the error.
                let text = std::fs::read_to_string(path).ok()?;
                let first = text.lines().find(|l| !l.trim().is_empty())?;
                let cols: Vec<&str> = first.split(['\t', ',']).collect();
                (cols.len() >= kinect_csv::COLUMNS && cols[0].trim().parse::<f64>().is_ok())
                    .then_some(Self::KinectCsv)
            }
            _ => None,
        }
    }
}

/// Options for an import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Label table; when `None`, `index.csv` or `labels.csv` in the directory or its parent is used.
    pub labels: Option<PathBuf>,
    /// Override BVH unit detection.
    pub bvh_units: Option<Units>,
    /// Keep exact duplicates instead of removing them.
    pub keep_duplicates: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Sequence ids imported from it.
    pub sequences: Vec<String>,
    /// Repairs and other non-fatal problems.
    pub warnings: Vec<String>,
    /// Why it was not imported, if it was not.
    pub error: Option<String>,
}

/// Summary of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Label table used, if any.
    pub labels: Option<PathBuf>,
    /// One entry per motion file considered.
    pub files: Vec<FileReport>,
    /// Files skipped as not motion data (e.g. a label table itself).
    pub skipped: Vec<PathBuf>,
    /// Exact duplicates removed (copy id, kept id).
    pub duplicates_removed: Vec<(String, String)>,
}

impl ImportReport {
    /// Files that failed.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }
}

/// Imports one motion file into sequences in the canonical frame (one per file for all
/// supported formats), returning them with the file's warnings.
///
/// # Errors
/// Unreadable, malformed or unusable files; see each reader.
pub fn import_file(
    path: &Path,
    opts: &ImportOptions,
    labels: Option<&LabelTable>,
) -> Result<(Vec<GaitSequence>, Vec<String>), ImportError> {
    let format = opts
        .format
        .or_else(|| Format::detect(path))
        .ok_or_else(|| ImportError::Unsupported {
            path: path.to_path_buf(),
        })?;
    let mut warnings = Vec::new();
    let mut clean_cfg = CleanConfig::default();
    let mut events = None;
    let mut info = c3d::C3dWalkInfo::default();
    let (skeleton, fps, positions): (Skeleton, f32, Vec<Vec3>) = match format {
        Format::Bvh => {
            let m = bvh::read(path, opts.bvh_units)?;
            (m.skeleton, m.fps, m.positions)
        }
        Format::KinectCsv => {
            let m = kinect_csv::read(path)?;
            warnings.extend(m.notes);
            // Real Kinect files contain coordinates beyond 4 m: tracking failures.
            clean_cfg.max_abs_coord_m = Some(4.0);
            (m.skeleton, m.fps, m.positions)
        }
        Format::C3d => {
            let m = c3d::read(path)?;
            events = m.events;
            info = m.info;
            (m.skeleton, m.fps, m.positions)
        }
        Format::Trc => {
            let m = trc::read(path)?;
            (m.skeleton, m.fps, m.positions)
        }
    };
    let missing = skeleton.missing_required();
    if !missing.is_empty() {
        warnings.push(format!(
            "rig lacks {missing:?}: gait metrics unavailable for this file"
        ));
    }
    let id = stem(path);
    let layout = kinect_csv::parse_layout_name(&id).or_else(|| {
        path.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| kinect_csv::parse_layout_name(&n.to_string_lossy()))
    });
    let row = labels.and_then(|t| t.lookup(path));
    let subject = row
        .and_then(|r| r.subject.clone())
        .or_else(|| layout.as_ref().map(|l| l.subject.clone()))
        .or(info.subject)
        .unwrap_or_else(|| id.split(['_', '-', ' ']).next().unwrap_or(&id).to_string());
    let label = row
        .and_then(|r| r.label.clone())
        .or_else(|| layout.as_ref().map(|l| l.gait.clone()))
        .or(info.label);
    if label.is_none() {
        warnings.push("no class label (attach a label table with --labels)".into());
    }
    let mut seq = GaitSequence {
        id,
        subject,
        label,
        severity: row.and_then(|r| r.severity).or(info.severity),
        side: row.and_then(|r| r.side),
        fps,
        skeleton,
        positions,
        // A synthetic walk exported as C3D keeps its provenance: it must never come back as a
        // recording.
        provenance: info.provenance.unwrap_or_else(|| Provenance::Imported {
            format: format.name().into(),
            path: path.to_path_buf(),
        }),
        canonical: false,
        events,
    };
    let report =
        clean(&mut seq, &clean_cfg).map_err(|e| ImportError::invalid(path, e.to_string()))?;
    warnings.extend(report.lines());
    let frame = normalize_frame(&mut seq);
    if frame.mirrored {
        warnings.push(
            "left and right appeared mirrored relative to the walking direction; Y was flipped"
                .into(),
        );
    }
    if frame.in_place {
        warnings.push(
            "pelvis travelled < 0.3 m (treadmill or in place): heading taken from the hip line"
                .into(),
        );
    }
    Ok((vec![seq], warnings))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ImportError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| ImportError::io(dir, e)))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn find_label_table(root: &Path) -> Option<PathBuf> {
    let dirs = [Some(root), root.parent()];
    dirs.into_iter()
        .flatten()
        .flat_map(|d| ["index.csv", "labels.csv"].map(|n| d.join(n)))
        .find(|p| p.is_file() && LabelTable::load(p).is_ok())
}

/// Files a dataset folder holds besides recordings: never parsed as motion data.
fn is_document(path: &Path) -> bool {
    const DOCS: [&str; 16] = [
        "md", "txt", "pdf", "html", "htm", "doc", "docx", "xls", "xlsx", "json", "ron", "png",
        "jpg", "jpeg", "zip", "csv",
    ];
    path.extension().is_none_or(|e| {
        let e = e.to_string_lossy().to_ascii_lowercase();
        DOCS.contains(&e.as_str())
    })
}

/// Imports a file or a directory tree into a dataset. Per-file failures are recorded in the
/// report, not fatal; exact duplicates are removed (unless `keep_duplicates`) and listed.
///
/// # Errors
/// The path does not exist, the label table is unusable, nothing could be imported, or the
/// work was cancelled.
pub fn import_path(
    path: &Path,
    opts: &ImportOptions,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(Dataset, ImportReport), ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| ImportError::io(path, e))?;
    let root = if meta.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map_or_else(PathBuf::new, Path::to_path_buf)
    };
    let labels_path = opts.labels.clone().or_else(|| find_label_table(&root));
    let labels = labels_path.as_deref().map(LabelTable::load).transpose()?;
    let mut report = ImportReport {
        labels: labels_path,
        ..ImportReport::default()
    };
    let mut files = Vec::new();
    if meta.is_dir() {
        collect_files(path, &mut files)?;
    } else {
        files.push(path.to_path_buf());
    }
    let mut motion = Vec::new();
    for f in files {
        // A forced format applies to a single file whatever its name; in a folder it applies to
        // motion files and to files with unfamiliar extensions, never to the documents and
        // extension-less files (README.md, LICENSE, spreadsheets) that datasets ship with.
        let is_motion = Format::detect(&f).is_some()
            || (opts.format.is_some() && (!meta.is_dir() || !is_document(&f)));
        if is_motion && report.labels.as_deref() != Some(f.as_path()) {
            motion.push(f);
        } else {
            report.skipped.push(f);
        }
    }
    progress.start("importing", motion.len() as u64);
    // Files parse independently: one worker per core, results in file order (ids, duplicate
    // choice and the report do not depend on the schedule).
    let parsed = run_parallel(
        &motion,
        "pathogait-import",
        |_, f| {
            if cancel.is_cancelled() {
                return Err(ImportError::Cancelled);
            }
            let r = import_file(f, opts, labels.as_ref());
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            progress.advance(1, &name);
            Ok(r)
        },
        || ImportError::invalid(path, "an import worker did not finish"),
    );
    let mut sequences = Vec::new();
    for (f, r) in motion.iter().zip(parsed) {
        match r {
            Err(e) => {
                progress.finish();
                return Err(e);
            }
            Ok(Ok((seqs, warnings))) => {
                report.files.push(FileReport {
                    path: f.clone(),
                    sequences: seqs.iter().map(|s| s.id.clone()).collect(),
                    warnings,
                    error: None,
                });
                sequences.extend(seqs);
            }
            Ok(Err(e)) => report.files.push(FileReport {
                path: f.clone(),
                sequences: Vec::new(),
                warnings: Vec::new(),
                error: Some(e.to_string()),
            }),
        }
    }
    progress.finish();
    if sequences.is_empty() {
        let why = report
            .files
            .iter()
            .find_map(|f| f.error.clone())
            .unwrap_or_else(|| "no BVH, Kinect CSV, C3D or TRC files found".into());
        return Err(ImportError::invalid(
            path,
            format!("nothing imported: {why}"),
        ));
    }
    make_ids_unique(&mut sequences);
    let name = path
        .file_name()
        .map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
    let mut ds = Dataset::new(name, sequences);
    if !opts.keep_duplicates {
        ds.remove_duplicates();
        report.duplicates_removed = ds
            .duplicates
            .iter()
            .flat_map(|g| g.copies.iter().map(|c| (c.clone(), g.kept.clone())))
            .collect();
    }
    Ok((ds, report))
}

/// Same stem in two folders (e.g. `a/walk.bvh`, `b/walk.bvh`): suffix `#2`, `#3`, ...
fn make_ids_unique(seqs: &mut [GaitSequence]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for s in seqs.iter_mut() {
        let n = seen.entry(s.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            s.id = format!("{}#{}", s.id, n);
        }
    }
}
