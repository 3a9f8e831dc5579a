//! One recorded (or generated) walk: frames x joints x 3 positions in metres.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::events::GaitEvents;
pub use super::events::Side;
use super::skeleton::{CommonJoint, Skeleton};
use crate::core::math::{Vec3, is_finite, mid, scale};

/// Where a sequence came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Provenance {
    /// Read from a file.
    Imported {
        /// Format name ("bvh", "`kinect_csv`", "c3d", "trc").
        format: String,
        /// Source file.
        path: PathBuf,
    },
    /// Produced by the parametric demo generator: synthetic, never real patient data.
    SyntheticDemo {
        /// Generator seed for this subject.
        seed: u64,
        /// Human-readable summary of the generator parameters.
        params: String,
    },
    /// Sampled from a trained generation model: synthetic.
    Generated {
        /// Model name and weights hash.
        model: String,
        /// The expanded prompt text.
        prompt: String,
        /// Sampling seed of this sequence.
        seed: u64,
        /// Sampling settings (temperature, top-k, top-p).
        sampling: String,
    },
}

/// A gait sequence: positions in metres, `[frames][joints]` flattened row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaitSequence {
    /// Unique id within a dataset (file stem plus index when a file holds several).
    pub id: String,
    /// Subject identifier (splits never separate one subject's sequences).
    pub subject: String,
    /// Class label (e.g. "antalgic", "Healthy"); `None` when unlabelled.
    pub label: Option<String>,
    /// Severity in `[0, 1]` where known.
    pub severity: Option<f32>,
    /// Affected side where known.
    pub side: Option<Side>,
    /// Frames per second.
    pub fps: f32,
    /// Rig of the positions.
    pub skeleton: Skeleton,
    /// `frames * joints` positions in metres (NaN marks a missing sample).
    pub positions: Vec<Vec3>,
    /// Source and how it was made.
    pub provenance: Provenance,
    /// True once `preprocess::normalize_frame` put it in the canonical
    /// frame (Z up, walking along +X, left at +Y).
    pub canonical: bool,
    /// Gait events recorded with the file (a C3D EVENT group); `None` when the file had none,
    /// and then analysis detects them from the kinematics.
    #[serde(default)]
    pub events: Option<GaitEvents>,
}

impl GaitSequence {
    /// Number of frames.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.positions.len() / self.skeleton.joint_count().max(1)
    }

    /// Duration in seconds.
    #[must_use]
    pub fn duration_s(&self) -> f32 {
        self.frames() as f32 / self.fps
    }

    /// True for sequences made by the demo generator or a generation model.
    #[must_use]
    pub fn is_synthetic(&self) -> bool {
        matches!(
            self.provenance,
            Provenance::SyntheticDemo { .. } | Provenance::Generated { .. }
        )
    }

    /// Position of joint `j` at frame `f`.
    #[must_use]
    pub fn pos(&self, f: usize, j: usize) -> Vec3 {
        self.positions[f * self.skeleton.joint_count() + j]
    }

    /// All joints at frame `f`.
    #[must_use]
    pub fn frame(&self, f: usize) -> &[Vec3] {
        let n = self.skeleton.joint_count();
        &self.positions[f * n..(f + 1) * n]
    }

    /// Position of a common joint at frame `f` (mean of its source joints), if the rig has it.
    #[must_use]
    pub fn common(&self, f: usize, joint: CommonJoint) -> Option<Vec3> {
        let src = self.skeleton.common_sources(joint)?;
        let mut acc = [0.0f32; 3];
        for &j in src {
            let p = self.pos(f, j);
            acc = [acc[0] + p[0], acc[1] + p[1], acc[2] + p[2]];
        }
        Some(scale(acc, 1.0 / src.len() as f32))
    }

    /// Trajectory of a common joint over all frames; pelvis falls back to the hip midpoint.
    #[must_use]
    pub fn common_track(&self, joint: CommonJoint) -> Option<Vec<Vec3>> {
        if self.skeleton.common_sources(joint).is_none() && joint == CommonJoint::Pelvis {
            let l = self.common_track(CommonJoint::HipL)?;
            let r = self.common_track(CommonJoint::HipR)?;
            return Some(l.iter().zip(&r).map(|(a, b)| mid(*a, *b)).collect());
        }
        self.skeleton.common_sources(joint)?;
        (0..self.frames()).map(|f| self.common(f, joint)).collect()
    }

    /// Number of frames with at least one missing (non-finite) coordinate.
    #[must_use]
    pub fn incomplete_frames(&self) -> usize {
        (0..self.frames())
            .filter(|&f| !self.frame(f).iter().all(|p| is_finite(*p)))
            .count()
    }

    /// SHA-256 of the joint count and the exact position bits: equal for byte-identical
    /// recordings whatever their file names, so duplicates are found before any split.
    #[must_use]
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update((self.skeleton.joint_count() as u64).to_le_bytes());
        for p in &self.positions {
            for v in p {
                h.update(v.to_bits().to_le_bytes());
            }
        }
        crate::core::math::hex(&h.finalize())
    }

    /// Keeps frames `range` only (for trimming and cycle segmentation).
    #[must_use]
    pub fn slice_frames(&self, start: usize, end: usize) -> Self {
        let n = self.skeleton.joint_count();
        let end = end.min(self.frames());
        let start = start.min(end);
        Self {
            positions: self.positions[start * n..end * n].to_vec(),
            events: self.events.as_ref().map(|e| e.slice(start, end)),
            ..self.clone()
        }
    }
}
