//! Importers: BVH, Kinect v2 skeleton CSV, C3D and TRC, plus label tables and directory import.
//!
//! Every error names the file and, where it applies, the line or frame. Repairs (NaN frames,
//! outliers) are not errors: they are applied and reported per file.

pub mod bvh;
pub mod c3d;
pub mod c3d_params;
pub mod c3d_points;
pub mod c3d_write;
pub mod import;
pub mod kinect_csv;
pub mod labels;
pub mod trc;

use std::path::{Path, PathBuf};

pub use import::{FileReport, ImportOptions, ImportReport, import_file, import_path};
pub use labels::{LabelRow, LabelTable};

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A syntax or value error at a line.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// File.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file parsed but its content is unusable.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The extension is not a supported motion format.
    #[error("{}: unsupported file type (expected .bvh, .csv (Kinect v2 skeleton), .c3d or .trc)", path.display())]
    Unsupported {
        /// File.
        path: PathBuf,
    },
    /// Work was cancelled.
    #[error("import cancelled")]
    Cancelled,
}

impl ImportError {
    pub(crate) fn parse(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads a whole text file, naming the file on failure (and on invalid UTF-8).
pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        ImportError::invalid(
            path,
            format!(
                "not a text file (invalid UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Parses a number, accepting "NaN"/"nan"/"" as missing.
pub(crate) fn parse_num(s: &str) -> Result<f32, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("-nan") {
        return Ok(f32::NAN);
    }
    t.parse::<f32>()
        .map_err(|_| format!("'{t}' is not a number"))
}

/// File stem as a string ("" when absent).
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
