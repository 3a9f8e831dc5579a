//! A trained generator on disk: `manifest.ron` (configs, vocabulary, normaliser, EMA state,
//! class priors, training report) plus burn weight files `tokenizer.bpk` and `gpt.bpk`.
//! Every file is written to a temporary name and renamed, so a crash never leaves a mix.

use std::path::{Path, PathBuf};

use burn::module::Module as _;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ModelError;
use super::data::AuxScale;
use super::features::{Normalizer, WindowConfig};
use super::gpt::{Gpt, GptConfig};
use super::metrics::ClassReference;
use super::style::SubjectStyle;
use super::tokenizer::{GaitTokenizer, TokenizerConfig};
use super::training::{LossWeights, StageConfig, StageEnd, StepLog};
use super::variance::VarianceMatch;
use super::vocab::Vocab;
use super::vq::{CodeUsage, VqEma};
use crate::core::biomech::priors::GroupPriors;
use crate::core::fsutil::{commit_dir, resolve_target, staging_dir, write_atomic};

/// Bundle format version.
pub const BUNDLE_VERSION: u32 = 1;

/// Everything needed to train a generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainPlan {
    /// Window geometry.
    pub window: WindowConfig,
    /// Tokeniser size (classes are filled in from the data).
    pub tokenizer: TokenizerConfig,
    /// GPT width.
    pub gpt_width: usize,
    /// GPT blocks.
    pub gpt_layers: usize,
    /// GPT heads.
    pub gpt_heads: usize,
    /// GPT dropout.
    pub gpt_dropout: f64,
    /// Tokeniser optimisation.
    pub tokenizer_stage: StageConfig,
    /// GPT optimisation.
    pub gpt_stage: StageConfig,
    /// Tokeniser loss weights.
    pub weights: LossWeights,
    /// Semantic augmentation probability during GPT training.
    pub augment: f64,
    /// Probability that a training sequence's prompt is replaced by the null prompt, so the GPT
    /// also learns unconditional gait and sampling can use classifier-free guidance
    /// ([`super::generate::Sampling::guidance`]).
    pub uncond: f64,
    /// Fraction of subjects held out to measure reconstruction on unseen people.
    pub heldout_fraction: f64,
    /// Normal class (auto-detected when `None`).
    pub normal_class: Option<String>,
    /// Seed.
    pub seed: u64,
    /// Optional local GPT-2 safetensors file to initialise the GPT blocks from (fine-tuning);
    /// the GPT width must then equal the file's (768 for GPT-2 small).
    pub gpt2_init: Option<PathBuf>,
    /// Steps between mid-stage checkpoints when training with a checkpoint folder (0 = only
    /// the finished tokeniser is kept).
    pub checkpoint_every: usize,
    /// Learn right-affected walks as their mirror image (affected side left), so the codebooks
    /// hold each one-sided pattern once; generation mirrors walks asked for on the right back.
    /// Off in models from before it existed.
    #[serde(default)]
    pub mirror_right: bool,
    /// Walks per class sampled after training to fit the decoder's variance compensation
    /// to what the model samples rather than to its reconstructions (0 = not calibrated; see
    /// [`super::calibrate`]).
    #[serde(default)]
    pub calibrate_walks: usize,
    /// Windows the GPT samples at each held-out check, judged by their distance to the
    /// held-out subjects' windows in place of its next-token loss (0 = the loss; see
    /// [`super::sample_check`]).
    #[serde(default)]
    pub sample_checks: usize,
}

impl Default for TrainPlan {
    fn default() -> Self {
        Self {
            window: WindowConfig::default(),
            tokenizer: TokenizerConfig::default(),
            gpt_width: 128,
            gpt_layers: 4,
            gpt_heads: 4,
            gpt_dropout: 0.1,
            // Up to 1000 steps each, stopping once 150 steps (three checks) bring no better
            // loss on the held-out subjects.
            tokenizer_stage: StageConfig {
                eval_every: 50,
                patience: 3,
                ..StageConfig::fixed(1000, 32, 2e-3)
            },
            gpt_stage: StageConfig {
                eval_every: 50,
                patience: 3,
                ..StageConfig::fixed(1000, 32, 1e-3)
            },
            weights: LossWeights::default(),
            augment: 0.15,
            uncond: 0.1,
            heldout_fraction: 0.2,
            normal_class: None,
            seed: 1,
            gpt2_init: None,
            checkpoint_every: 100,
            mirror_right: true,
            calibrate_walks: 0,
            sample_checks: 0,
        }
    }
}

impl TrainPlan {
    /// A tiny plan for tests and smoke runs (seconds on a CPU).
    #[must_use]
    pub fn tiny() -> Self {
        Self {
            tokenizer: TokenizerConfig {
                hidden: 32,
                latent: 16,
                codes: [32, 16, 8],
                ..TokenizerConfig::default()
            },
            gpt_width: 32,
            gpt_layers: 1,
            gpt_heads: 2,
            gpt_dropout: 0.0,
            tokenizer_stage: StageConfig::fixed(60, 16, 3e-3),
            gpt_stage: StageConfig::fixed(40, 16, 3e-3),
            ..Self::default()
        }
    }
}

/// What training measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Backend used.
    pub backend: String,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Training and held-out windows.
    pub windows: (usize, usize),
    /// Subjects held out from training.
    pub heldout_subjects: Vec<String>,
    /// Root-relative MPJPE of the tokeniser on training windows, mm.
    pub mpjpe_train_mm: f64,
    /// Root-relative MPJPE on held-out subjects' windows, mm.
    pub mpjpe_heldout_mm: f64,
    /// Code usage per codebook (spatial, temporal, pathological) over all windows.
    pub code_usage: Vec<CodeUsage>,
    /// Tokeniser loss log (every 10th step).
    pub tokenizer_log: Vec<StepLog>,
    /// GPT loss log (every 10th step).
    pub gpt_log: Vec<StepLog>,
    /// Per class: how often real training windows and their reconstructions land nearest
    /// their own class (the reference for generated walks' prior adherence). Empty in bundles
    /// from before it was measured.
    #[serde(default)]
    pub class_reference: Vec<ClassReference>,
    /// How the tokeniser stage ended (held-out losses, early stop). Empty in older bundles.
    #[serde(default)]
    pub tokenizer_end: StageEnd,
    /// How the GPT stage ended.
    #[serde(default)]
    pub gpt_end: StageEnd,
}

/// The manifest of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// Model name.
    pub name: String,
    /// What it was trained on.
    pub trained_on: String,
    /// The plan it was trained with.
    pub plan: TrainPlan,
    /// Window geometry.
    pub window: WindowConfig,
    /// Tokeniser config.
    pub tokenizer: TokenizerConfig,
    /// GPT config.
    pub gpt: GptConfig,
    /// Vocabulary.
    pub vocab: Vocab,
    /// Feature standardisation.
    pub normalizer: Normalizer,
    /// Auxiliary target scaling.
    pub aux_scale: AuxScale,
    /// EMA codebook statistics (to continue training).
    pub emas: Vec<VqEma>,
    /// Real per-class priors of the training data (for prompt expansion and adherence).
    pub class_priors: Vec<GroupPriors>,
    /// Training report.
    pub report: TrainReport,
    /// The training subjects: their builds (taken per walk with
    /// [`super::generate::Sampling`]'s `subject_bodies`) and the prompt values of their walks
    /// (for [`super::generate::generate_like`]). Empty in older bundles.
    #[serde(default)]
    pub subjects: Vec<SubjectStyle>,
    /// The decoder's variance compensation, fitted on the training windows (applied with
    /// [`super::generate::Sampling`]'s `match_variance`). Empty in older bundles.
    #[serde(default, skip_serializing_if = "VarianceMatch::is_empty")]
    pub variance: VarianceMatch,
    /// The same compensation fitted on each class's training windows alone, by class index
    /// (an empty filter where a class had too few windows). Empty in older bundles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variance_by_class: Vec<VarianceMatch>,
    /// The class filters fitted again to walks the model sampled like its training walks
    /// ([`TrainPlan::calibrate_walks`] per class; see [`super::calibrate`]), used before
    /// `variance_by_class` where a class has one. Empty when not calibrated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variance_sampled_by_class: Vec<VarianceMatch>,
}

impl Manifest {
    /// Reads the manifest of the bundle in `dir` (no weights: cheap enough to describe a
    /// model in a list).
    ///
    /// # Errors
    /// A missing or corrupt manifest, or one from a newer version, naming the file.
    pub fn read(dir: &Path) -> Result<Self, ModelError> {
        let mpath = dir.join("manifest.ron");
        let text = std::fs::read_to_string(&mpath).map_err(|e| files_err(&mpath, e))?;
        let manifest: Self = ron::from_str(&text)
            .map_err(|e| files_err(&mpath, format!("not a valid model manifest: {e}")))?;
        if manifest.version > BUNDLE_VERSION {
            return Err(files_err(
                &mpath,
                format!(
                    "model format {} is newer than this build ({BUNDLE_VERSION})",
                    manifest.version
                ),
            ));
        }
        Ok(manifest)
    }

    /// Which of its GPT's weights the model carries, in a line: the last step's or a kept
    /// check's, and by what the checks judged it (shown beside the model in the studio).
    #[must_use]
    pub fn gpt_weights(&self) -> String {
        let end = &self.report.gpt_end;
        let measure = end.measure.as_deref().unwrap_or("held-out loss");
        // A stage that stopped or kept a check measured its last step; one that did neither
        // ran all it was given (the step log keeps only some steps).
        let last = if end.stopped.is_some() || end.kept_step.is_some() {
            end.heldout.last().map_or(0, |&(s, _)| s)
        } else {
            self.plan.gpt_stage.steps
        };
        if end.heldout.is_empty() {
            return format!("step {last}, its last (no held-out checks)");
        }
        match (end.kept_step, &end.stopped) {
            (Some(kept), _) => format!("step {kept} of {last}: its best {measure}"),
            (None, Some(_)) => format!("step {last}: stopped on a plateau of the {measure}"),
            (None, None) => format!("step {last}, its last (checks of the {measure})"),
        }
    }

    /// Which variance filters `--match-variance` can use with this model, in a line: fitted
    /// to the decoder's reconstructions (pooled, per class) and, when calibrated, to sampled
    /// walks (per class).
    #[must_use]
    pub fn variance_filters(&self) -> String {
        let classes = self.vocab.classes.len();
        let count = |fs: &[VarianceMatch]| fs.iter().filter(|f| !f.is_empty()).count();
        let mut parts = Vec::new();
        if !self.variance.is_empty() {
            parts.push("pooled".to_string());
        }
        let own = count(&self.variance_by_class);
        if own > 0 {
            parts.push(format!("{own} of {classes} classes"));
        }
        if parts.is_empty() {
            return "none (a bundle from before the filter)".to_string();
        }
        let line = format!("reconstructions: {}", parts.join(" + "));
        match count(&self.variance_sampled_by_class) {
            0 => line,
            sampled => format!(
                "{line}; calibrated to {} sampled walks: {sampled} of {classes} classes",
                self.plan.calibrate_walks
            ),
        }
    }
}

/// A loaded generator.
#[derive(Debug)]
pub struct GaitGenerator {
    /// Manifest.
    pub manifest: Manifest,
    /// Tokeniser.
    pub tokenizer: GaitTokenizer,
    /// GPT.
    pub gpt: Gpt,
    /// Device the models live on.
    pub device: Device,
    /// Short SHA-256 of the weight files (recorded in generated sequences' provenance).
    pub weights_hash: String,
}

pub(super) fn files_err(path: &Path, message: impl std::fmt::Display) -> ModelError {
    ModelError::Files {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn hash_files(paths: &[PathBuf]) -> Result<String, ModelError> {
    let mut h = Sha256::new();
    for p in paths {
        // An unreadable file must not give the hash of the others: the hash names the weights.
        let b = std::fs::read(p).map_err(|e| files_err(p, e))?;
        h.update(&b);
    }
    Ok(crate::core::math::hex(&h.finalize()[..6]))
}

/// The files a bundle owns in its folder (everything else there is kept on save).
const BUNDLE_FILES: [&str; 3] = ["manifest.ron", "tokenizer.bpk", "gpt.bpk"];

/// Saves a module's weights atomically (burnpack via a temporary name).
pub(super) fn save_module<M: burn::module::Module>(m: M, path: &Path) -> Result<(), ModelError> {
    let tmp = path.with_extension("bpk.tmp");
    m.save_file(&tmp)
        .map_err(|e| files_err(&tmp, format!("cannot save weights: {e:?}")))?;
    std::fs::rename(&tmp, path).map_err(|e| files_err(path, e))
}

impl GaitGenerator {
    /// Saves the bundle as `dir`, atomically as a whole: the files are written into a staging
    /// folder beside it and swapped into place, so a crash leaves the previous bundle or this
    /// one, never a mix. Other entries of an existing `dir` (a training checkpoint) are kept.
    ///
    /// # Errors
    /// Unwritable folder or files, naming them.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        let dir = &resolve_target(dir).map_err(|e| files_err(dir, e))?;
        let staged = staging_dir(dir).map_err(|e| files_err(dir, e))?;
        let written = self.write_files(&staged);
        if let Err(e) = written {
            // Best effort: a leftover staging folder is hidden and replaced by the next save.
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
        commit_dir(&staged, dir, &BUNDLE_FILES).map_err(|e| files_err(dir, e))
    }

    fn write_files(&self, dir: &Path) -> Result<(), ModelError> {
        save_module(self.tokenizer.clone(), &dir.join("tokenizer.bpk"))?;
        save_module(self.gpt.clone(), &dir.join("gpt.bpk"))?;
        let text = ron::ser::to_string_pretty(&self.manifest, ron::ser::PrettyConfig::new())
            .map_err(|e| files_err(dir, e))?;
        write_atomic(&dir.join("manifest.ron"), text.as_bytes())
            .map_err(|e| files_err(&dir.join("manifest.ron"), e))
    }

    /// Loads a bundle onto `device`.
    ///
    /// # Errors
    /// Missing or corrupt files, or a manifest from a newer version.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let manifest = Manifest::read(dir)?;
        let (tp, gp) = (dir.join("tokenizer.bpk"), dir.join("gpt.bpk"));
        let tokenizer = manifest
            .tokenizer
            .init(device)
            .try_load_file(&tp)
            .map_err(|e| files_err(&tp, format!("cannot load weights: {e:?}")))?;
        let gpt = manifest
            .gpt
            .init(device)
            .try_load_file(&gp)
            .map_err(|e| files_err(&gp, format!("cannot load weights: {e:?}")))?;
        let weights_hash = hash_files(&[tp, gp])?;
        Ok(Self {
            manifest,
            tokenizer,
            gpt,
            device: device.clone(),
            weights_hash,
        })
    }
}
