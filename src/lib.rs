//! `PathoGait` Studio: pathology-aware 3D gait synthesis, inspection and export.
//!
//! [`core`] is the pure library (data, importers, biomechanics, priors, demo data). It knows
//! nothing of any UI; the `pathogait` binary's subcommands and the studio are thin layers over it.

pub mod core;
