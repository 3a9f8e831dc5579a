//! `PathoGait` Studio: pathology-aware 3D gait synthesis, inspection and export.
//!
//! [`core`] is the pure library (data, importers, biomechanics, priors, models, metrics, export,
//! project files). It knows nothing of any UI; the `pathogait` binary's subcommands and the
//! studio ([`app`], eframe/egui/wgpu) are thin layers over it.

pub mod app;
pub mod core;
