//! `PathoGait` Studio: pathology-aware 3D gait synthesis, inspection and export.
//!
//! [`core`] is the pure library (data, importers, biomechanics, priors, models, metrics, export,
//! project files). It knows nothing of any UI; the `pathogait` binary's subcommands and the
//! studio (`app`, eframe/egui/wgpu; the `studio` feature, on by default) are thin layers over
//! it. `cargo build --no-default-features` builds the core and the headless subcommands only.

#[cfg(feature = "studio")]
pub mod app;
pub mod core;
