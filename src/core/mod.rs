//! The pure core: gait data, importers, preprocessing, biomechanics, priors and demo data.
//!
//! Nothing here depends on a UI toolkit. Long work reports through [`jobs::Progress`] and can
//! be cancelled with [`jobs::CancelToken`], so the CLI and the studio share the same code.

pub mod bench;
pub mod biomech;
pub mod charts;
pub mod data;
pub mod demo;
pub mod eval;
pub mod export;
pub mod frechet;
pub mod fsutil;
pub mod io;
pub mod jobs;
pub mod math;
pub mod model;
pub mod project;
pub mod report;
pub mod twin;
