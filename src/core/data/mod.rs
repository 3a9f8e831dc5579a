//! Gait data model: skeletons, sequences, datasets and preprocessing.

pub mod common_joint;
pub mod dataset;
pub mod events;
pub mod preprocess;
pub mod sequence;
pub mod skeleton;

pub use dataset::{Dataset, DuplicateGroup, Fold};
pub use events::{Cycle, GaitEvents, SideEvents};
pub use sequence::{GaitSequence, Provenance, Side};
pub use skeleton::{Axis, CommonJoint, Skeleton, Units};
