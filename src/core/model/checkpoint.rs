//! Mid-stage checkpoints: every `every` steps a training stage saves its weights, its Adam
//! state, the batch generator's position, its log and any stage state (EMA codebooks, the
//! GPT's sample order), so an interrupted run resumes at the last checkpoint and continues
//! exactly as it would have (tested: same logs and weights as an uninterrupted run when the
//! stage has no dropout).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ModelError;
use crate::core::fsutil::write_atomic;

/// One logged step of a training stage (kept in checkpoints and in a model's report).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// Step number (1-based).
    pub step: usize,
    /// Total loss.
    pub loss: f32,
    /// Main term: reconstruction MSE (tokeniser) or next-token cross-entropy (GPT).
    pub main: f32,
    /// Mean code perplexity over the three codebooks in this batch (tokeniser only).
    pub perplexity: f32,
}

/// Where and how often a stage saves its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageCheckpoint {
    /// Folder (shared by the stages; files are named by stage).
    pub dir: PathBuf,
    /// Steps between saves (0 = never).
    pub every: usize,
    /// Identifies the run (the plan): progress saved under another key is ignored.
    pub key: String,
}

/// What a stage resumes from.
pub struct Resumed<M, E> {
    /// Weights.
    pub model: M,
    /// Optimiser with its moments.
    pub optim: ModuleOptimizer,
    /// Last completed step.
    pub step: usize,
    /// Log up to `step`.
    pub log: Vec<StepLog>,
    /// Batch generator at `step`.
    pub rng: ChaCha8Rng,
    /// Stage state.
    pub extra: E,
}

#[derive(Serialize, Deserialize)]
struct Saved<E> {
    key: String,
    step: usize,
    log: Vec<StepLog>,
    /// Seed, stream, and word position as (high, low) halves (RON has no u128).
    rng: ([u8; 32], u64, (u64, u64)),
    extra: E,
}

fn err(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Files {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl StageCheckpoint {
    fn paths(&self, stage: &str) -> (PathBuf, PathBuf, PathBuf) {
        (
            self.dir.join(format!("{stage}_progress.ron")),
            self.dir.join(format!("{stage}_model.bpk")),
            self.dir.join(format!("{stage}_optim.bpk")),
        )
    }

    /// True at the steps where a save is due (never at the stage's last step: the finished
    /// stage is kept by its caller).
    #[must_use]
    pub fn due(&self, step: usize, last: usize) -> bool {
        self.every > 0 && step.is_multiple_of(self.every) && step < last
    }

    /// Saves the stage's progress after `step` (each file written to a temporary name first).
    ///
    /// # Errors
    /// Files that cannot be written.
    #[allow(clippy::too_many_arguments)] // the state of a stage, one value each
    pub fn save<M: Module, E: Serialize>(
        &self,
        stage: &str,
        step: usize,
        model: &M,
        optim: &ModuleOptimizer,
        log: &[StepLog],
        rng: &ChaCha8Rng,
        extra: &E,
    ) -> Result<(), ModelError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| err(&self.dir, e))?;
        let (progress, weights, moments) = self.paths(stage);
        let tmp = weights.with_extension("tmp.bpk");
        model
            .clone()
            .save_file(&tmp)
            .map_err(|e| err(&tmp, format!("{e:?}")))?;
        std::fs::rename(&tmp, &weights).map_err(|e| err(&weights, e))?;
        let tmp = moments.with_extension("tmp.bpk");
        optim.save(&tmp).map_err(|e| err(&tmp, format!("{e:?}")))?;
        std::fs::rename(&tmp, &moments).map_err(|e| err(&moments, e))?;
        let saved = Saved {
            key: self.key.clone(),
            step,
            log: log.to_vec(),
            rng: {
                let pos = rng.get_word_pos();
                (
                    rng.get_seed(),
                    rng.get_stream(),
                    ((pos >> 64) as u64, pos as u64),
                )
            },
            extra,
        };
        let text = ron::to_string(&saved).map_err(|e| err(&progress, e))?;
        // Written last: a progress file only ever names weights that are complete.
        write_atomic(&progress, text.as_bytes()).map_err(|e| err(&progress, e))
    }

    /// The stage's saved progress, if there is one for this key; `model` and `optim` are the
    /// fresh ones to load into. No progress file, or progress saved for other settings: `None`
    /// (training starts over).
    ///
    /// # Errors
    /// A progress, weights or moments file that exists but cannot be read: resuming must not
    /// quietly start over (the message names the file; deleting the folder starts fresh).
    pub fn load<M: Module, E: DeserializeOwned>(
        &self,
        stage: &str,
        model: M,
        optim: ModuleOptimizer,
    ) -> Result<Option<Resumed<M, E>>, ModelError> {
        let (progress, weights, moments) = self.paths(stage);
        if !progress.exists() {
            return Ok(None);
        }
        let bad = |p: &Path, e: String| ModelError::Files {
            path: p.display().to_string(),
            message: format!("cannot resume from this checkpoint ({e}); delete it to start over"),
        };
        let text = std::fs::read_to_string(&progress).map_err(|e| bad(&progress, e.to_string()))?;
        let saved: Saved<E> = ron::from_str(&text).map_err(|e| bad(&progress, e.to_string()))?;
        if saved.key != self.key {
            return Ok(None);
        }
        let model = model
            .try_load_file(&weights)
            .map_err(|e| bad(&weights, format!("{e:?}")))?;
        let optim = optim
            .load(&moments)
            .map_err(|e| bad(&moments, e.to_string()))?;
        let mut rng = ChaCha8Rng::from_seed(saved.rng.0);
        rng.set_stream(saved.rng.1);
        rng.set_word_pos((u128::from(saved.rng.2.0) << 64) | u128::from(saved.rng.2.1));
        Ok(Some(Resumed {
            model,
            optim,
            step: saved.step,
            log: saved.log,
            rng,
            extra: saved.extra,
        }))
    }
}
