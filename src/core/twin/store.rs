//! A trained normative twin on disk: `twin.ron` (settings, normal-data statistics, flagging
//! thresholds) and `twin.bpk` (the autoencoder's weights), saved as a whole (staged and
//! swapped in like a generator bundle) so `report --twin DIR` and the studio can use a twin
//! trained once.

use std::path::Path;

use burn::module::Module as _;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::core::fsutil::{commit_dir, resolve_target, staging_dir, write_atomic};
use crate::core::model::ModelError;
use crate::core::model::features::Normalizer;

use super::{Mae, TwinConfig, TwinModel};

/// Format version of `twin.ron`.
const TWIN_VERSION: u32 = 1;
/// The files a saved twin owns in its folder.
const TWIN_FILES: [&str; 2] = ["twin.ron", "twin.bpk"];

#[derive(Debug, Serialize, Deserialize)]
struct TwinManifest {
    version: u32,
    cfg: TwinConfig,
    normalizer: Normalizer,
    thresholds_mm: Vec<f64>,
    walks: (usize, usize),
}

fn err(path: &Path, message: impl std::fmt::Display) -> ModelError {
    ModelError::Files {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

impl TwinModel {
    /// Saves the twin as the folder `dir` (created or replaced as a whole; other entries of
    /// an existing folder are kept).
    ///
    /// # Errors
    /// Unwritable folder or files, naming them.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        let dir = &resolve_target(dir).map_err(|e| err(dir, e))?;
        let staged = staging_dir(dir).map_err(|e| err(dir, e))?;
        if let Err(e) = self.write_files(&staged) {
            // Best effort: a leftover staging folder is hidden and replaced by the next save.
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
        commit_dir(&staged, dir, &TWIN_FILES).map_err(|e| err(dir, e))
    }

    fn write_files(&self, dir: &Path) -> Result<(), ModelError> {
        let w = dir.join("twin.bpk");
        let tmp = w.with_extension("bpk.tmp");
        self.mae
            .clone()
            .save_file(&tmp)
            .map_err(|e| err(&tmp, format!("cannot save weights: {e:?}")))?;
        std::fs::rename(&tmp, &w).map_err(|e| err(&w, e))?;
        let m = TwinManifest {
            version: TWIN_VERSION,
            cfg: self.cfg,
            normalizer: self.normalizer.clone(),
            thresholds_mm: self.thresholds_mm.clone(),
            walks: self.walks,
        };
        let text = ron::ser::to_string_pretty(&m, ron::ser::PrettyConfig::new())
            .map_err(|e| err(dir, e))?;
        let p = dir.join("twin.ron");
        write_atomic(&p, text.as_bytes()).map_err(|e| err(&p, e))
    }

    /// Loads a saved twin onto `device`.
    ///
    /// # Errors
    /// Missing or damaged files, or a twin saved by a newer version.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let p = dir.join("twin.ron");
        let text = std::fs::read_to_string(&p).map_err(|e| err(&p, e))?;
        let m: TwinManifest =
            ron::from_str(&text).map_err(|e| err(&p, format!("not a saved twin: {e}")))?;
        if m.version > TWIN_VERSION {
            return Err(err(
                &p,
                format!(
                    "twin format {} is newer than this build ({TWIN_VERSION})",
                    m.version
                ),
            ));
        }
        if m.thresholds_mm.len() != super::JOINTS
            || m.normalizer.mean.len() != m.normalizer.std.len()
        {
            return Err(err(&p, "thresholds or statistics have the wrong length"));
        }
        let w = dir.join("twin.bpk");
        let mae = Mae::new(&m.cfg, device)
            .try_load_file(&w)
            .map_err(|e| err(&w, format!("cannot load weights: {e:?}")))?;
        Ok(Self {
            cfg: m.cfg,
            normalizer: m.normalizer,
            thresholds_mm: m.thresholds_mm,
            walks: m.walks,
            mae,
            device: device.clone(),
        })
    }
}
