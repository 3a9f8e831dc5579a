//! Pathology-aware gait generation (after arXiv 2606.06048): tokenisers with spatial, temporal
//! and pathological codebooks, a gait-language vocabulary, a GPT-2-style model conditioned on
//! prior-based prompts, and decoding back to fixed-length 3D sequences. Built on burn; the
//! device (and with it the backend) is chosen at run time.

pub mod arms;
pub mod backend;
pub mod bundle;
pub mod calibrate;
pub mod checkpoint;
pub mod data;
pub mod dropout;
pub mod ema;
pub mod features;
pub mod fit;
pub mod generate;
pub mod gpt;
pub mod gpt2_import;
pub mod gpt_training;
pub mod kernels;
pub mod losses;
pub mod metrics;
pub mod parallel;
pub mod prompt;
pub mod sample_check;
pub mod stage;
pub mod style;
pub mod tokenizer;
pub mod training;
pub mod variance;
pub mod vocab;
pub mod vq;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// A training step (forward, backward through activations and weights) costs about three
/// forward passes: the backward pass multiplies by each weight matrix twice.
pub const TRAIN_STEP_FACTOR: f64 = 3.0;

/// Which compute backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BackendChoice {
    /// wgpu on a real (discrete or integrated) GPU when one answers, else the CPU.
    #[default]
    Auto,
    /// burn's pure-Rust CPU backend (Flex).
    Cpu,
    /// wgpu on any adapter, a software one (Mesa lavapipe) included when no GPU answers;
    /// failing if wgpu finds no adapter at all.
    Wgpu,
}

/// Why model work failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not enough usable data to train.
    #[error("not enough training data: {0}")]
    Data(String),
    /// A prompt that the model cannot honour.
    #[error("invalid prompt: {0}")]
    Prompt(String),
    /// Files of a model bundle or checkpoint.
    #[error("{path}: {message}")]
    Files {
        /// File or folder.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The requested backend is not available.
    #[error("backend unavailable: {0}")]
    Backend(String),
    /// Work was cancelled.
    #[error("cancelled")]
    Cancelled,
}

pub use backend::select_device;

/// A tensor's values as `f32`, or an error naming the `stage` that needed them (a failed read
/// must never turn into an empty vector that later indexes out of bounds).
pub(crate) fn read_floats<const D: usize>(
    t: Tensor<D>,
    stage: &str,
) -> Result<Vec<f32>, ModelError> {
    t.into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| ModelError::Backend(format!("{stage}: cannot read the tensor: {e:?}")))
}

/// The value of a one-element tensor (a loss), or an error naming `stage`.
pub(crate) fn read_scalar(t: Tensor<1>, stage: &str) -> Result<f32, ModelError> {
    read_floats(t, stage)?
        .first()
        .copied()
        .ok_or_else(|| ModelError::Backend(format!("{stage}: empty tensor")))
}
