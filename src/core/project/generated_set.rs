//! Generated sets kept in a project: the sequences in an npz file under the project's data
//! folder, and in the project file the model, prompt, sampling and per-walk seeds, so an export
//! can state where every synthetic walk came from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ProjectError;
use crate::core::data::{GaitSequence, Provenance, Skeleton};
use crate::core::export::npz_set;
use crate::core::export::numpy::{read_npz, write_npz};
use crate::core::model::generate::{Generated, Sampling};
use crate::core::model::prompt::Prompt;

/// One batch of generated walks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedSet {
    /// Name (unique within the project).
    pub name: String,
    /// Model name and weights hash.
    pub model: String,
    /// The structured prompt.
    pub prompt: Prompt,
    /// The expanded prompt text shown before generation.
    pub expanded: String,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Walk ids and their sampling seeds, in file order.
    pub walks: Vec<(String, u64)>,
    /// The npz file (relative to the project file, or absolute).
    pub file: PathBuf,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ProjectError {
    ProjectError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl GeneratedSet {
    /// Writes `gen`'s sequences to `<data_dir>/generated/<name>.npz` and describes the set;
    /// `file` is stored relative to `base` (the project's folder) when inside it.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(
        name: &str,
        model: &str,
        prompt: &Prompt,
        sampling: &Sampling,
        gen_out: &Generated,
        data_dir: &Path,
        base: &Path,
    ) -> Result<Self, ProjectError> {
        let dir = data_dir.join("generated");
        std::fs::create_dir_all(&dir).map_err(|e| ProjectError::Io {
            path: dir.clone(),
            source: e,
        })?;
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Another set's name may sanitise to the same file name: never overwrite its walks.
        let mut file = file;
        let base_name = file.clone();
        let mut n = 2;
        while dir.join(format!("{file}.npz")).exists() {
            file = format!("{base_name}_{n}");
            n += 1;
        }
        let path = dir.join(format!("{file}.npz"));
        let seqs = &gen_out.sequences;
        // Generated walks share the common rig, so the arrays hold it whole.
        let (set, _) = npz_set(&seqs.iter().collect::<Vec<_>>());
        let tmp = dir.join(format!(".{file}.npz.tmp"));
        // One file, so tmp + sync + rename + folder sync makes the set atomic as a whole.
        write_npz(&tmp, &set).map_err(|e| io_err(&path, e))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))?;
        crate::core::fsutil::sync_dir(&dir).map_err(|e| io_err(&dir, e))?;
        let walks = seqs
            .iter()
            .map(|s| {
                let seed = match &s.provenance {
                    Provenance::Generated { seed, .. } => *seed,
                    _ => 0,
                };
                (s.id.clone(), seed)
            })
            .collect();
        Ok(Self {
            name: name.to_string(),
            model: model.to_string(),
            prompt: prompt.clone(),
            expanded: gen_out.prompt.text.clone(),
            sampling: *sampling,
            walks,
            file: path
                .strip_prefix(base)
                .map_or(path.clone(), Path::to_path_buf),
        })
    }

    /// Reads the set's walks back (common rig, generated provenance with each walk's seed).
    ///
    /// # Errors
    /// A missing or corrupt npz file, or one whose walks do not match the project's record.
    pub fn load_sequences(&self, base: &Path) -> Result<Vec<GaitSequence>, ProjectError> {
        let path = if self.file.is_absolute() {
            self.file.clone()
        } else {
            base.join(&self.file)
        };
        let set = read_npz(&path).map_err(|e| io_err(&path, e))?;
        // Walks of models trained on rigs with arms carry them (18 joints), others 12.
        let rig = if set.joints == Skeleton::common_with_arms().joint_count() {
            Skeleton::common_with_arms()
        } else {
            Skeleton::common()
        };
        if set.joints != rig.joint_count() || set.ids.len() != self.walks.len() {
            return Err(io_err(
                &path,
                "the file does not match the generated set recorded in the project",
            ));
        }
        let s = &self.sampling;
        Ok(set
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let frames = set.lengths[i].max(0) as usize;
                GaitSequence {
                    id: id.clone(),
                    subject: format!("generated:{}", self.name),
                    label: usize::try_from(set.labels[i])
                        .ok()
                        .and_then(|l| set.label_names.get(l))
                        .cloned(),
                    severity: Some(self.prompt.severity),
                    side: self.prompt.side,
                    fps: set.fps[i],
                    skeleton: rig.clone(),
                    positions: set.positions[i][..frames * set.joints].to_vec(),
                    provenance: Provenance::Generated {
                        model: self.model.clone(),
                        prompt: self.expanded.clone(),
                        seed: self.walks.get(i).map_or(0, |w| w.1),
                        sampling: format!(
                            "temperature {} top-k {} top-p {}",
                            s.temperature, s.top_k, s.top_p
                        ),
                    },
                    canonical: true,
                    events: None,
                }
            })
            .collect())
    }
}
