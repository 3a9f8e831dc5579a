//! Pathology-aware gait generation (after arXiv 2606.06048): tokenisers with spatial, temporal
//! and pathological codebooks, a gait-language vocabulary, a GPT-2-style model conditioned on
//! prior-based prompts, and decoding back to fixed-length 3D sequences. Built on burn; the
//! device (and with it the backend) is chosen at run time.

pub mod bundle;
pub mod checkpoint;
pub mod data;
pub mod features;
pub mod generate;
pub mod gpt;
pub mod gpt2_import;
pub mod metrics;
pub mod prompt;
pub mod tokenizer;
pub mod training;
pub mod vocab;
pub mod vq;

use burn::tensor::{Device, DeviceKind, Tensor};
use serde::{Deserialize, Serialize};

/// Which compute backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BackendChoice {
    /// wgpu on a real (discrete or integrated) GPU when one answers, else the CPU.
    #[default]
    Auto,
    /// burn's pure-Rust CPU backend (Flex).
    Cpu,
    /// wgpu, failing if no GPU adapter is found.
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

/// Tries a tiny computation on a device, with panics contained (a missing adapter panics inside
/// the backend) and the panic message kept off the terminal.
fn probe(device: &Device) -> bool {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let d = device.clone();
    let ok = std::panic::catch_unwind(move || {
        let t = Tensor::<1>::ones([4], &d).sum();
        t.into_data()
            .try_to_vec_as::<f32>()
            .is_ok_and(|v| v.first().copied() == Some(4.0))
    })
    .unwrap_or(false);
    std::panic::set_hook(hook);
    ok
}

/// Picks the device for `choice` and says which it is (printed by the CLI, shown in the studio).
/// `PATHOGAIT_BACKEND=cpu|wgpu` overrides `Auto`.
///
/// # Errors
/// [`BackendChoice::Wgpu`] without a GPU adapter.
pub fn select_device(choice: BackendChoice) -> Result<(Device, String), ModelError> {
    let choice = match (choice, std::env::var("PATHOGAIT_BACKEND").ok().as_deref()) {
        (BackendChoice::Auto, Some("cpu")) => BackendChoice::Cpu,
        (BackendChoice::Auto, Some("wgpu")) => BackendChoice::Wgpu,
        (c, _) => c,
    };
    if choice != BackendChoice::Cpu {
        for (kind, name) in [
            (DeviceKind::DiscreteGpu(0), "discrete GPU"),
            (DeviceKind::IntegratedGpu(0), "integrated GPU"),
        ] {
            let d = Device::wgpu(kind);
            if probe(&d) {
                return Ok((d, format!("wgpu ({name})")));
            }
        }
        if choice == BackendChoice::Wgpu {
            return Err(ModelError::Backend(
                "no GPU adapter answered through wgpu".into(),
            ));
        }
        return Ok((
            Device::flex(),
            "CPU (Flex): no GPU adapter found, falling back".into(),
        ));
    }
    Ok((Device::flex(), "CPU (Flex)".into()))
}
