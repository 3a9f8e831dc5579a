//! Biomechanics: gait events, spatio-temporal parameters, joint angles over the gait cycle,
//! symmetry, range of motion, Gait Profile Score and pathology priors.

pub mod angles;
pub mod events;
pub mod normative;
pub mod priors;
pub mod spatiotemporal;

use serde::{Deserialize, Serialize};

pub use angles::{AngleVar, CycleCurve};
pub use events::{Cycle, GaitEvents};
pub use normative::{GaitProfile, NormativeBands};
pub use spatiotemporal::{SpatioTemporal, symmetry_index};

use crate::core::data::GaitSequence;
use crate::core::data::Side;
use crate::core::data::events::EventSource;
use crate::core::data::preprocess::{normalize_frame, smooth};

/// Low-pass cutoff applied before events and angles: the usual choice for walking kinematics.
pub const ANALYSIS_CUTOFF_HZ: f32 = 6.0;

/// Why a walk could not be analysed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// The rig lacks joints needed for gait metrics.
    #[error("sequence '{id}': rig lacks {missing}")]
    MissingJoints {
        /// Sequence id.
        id: String,
        /// Missing common joints.
        missing: String,
    },
    /// Fewer than one complete gait cycle on a side.
    #[error(
        "sequence '{id}': no complete gait cycle on the {side} side (heel strikes found: {heel_strikes})"
    )]
    NoCycle {
        /// Sequence id.
        id: String,
        /// Side.
        side: String,
        /// Heel strikes detected on that side.
        heel_strikes: usize,
    },
}

/// Everything measured on one walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaitAnalysis {
    /// Sequence id.
    pub id: String,
    /// Events per side (frames of the analysed sequence).
    pub events: GaitEvents,
    /// Whether the events were recorded with the file or detected.
    #[serde(default)]
    pub event_source: EventSource,
    /// Valid cycles per side `[left, right]`.
    pub cycles: [Vec<Cycle>; 2],
    /// Spatio-temporal parameters.
    pub spatiotemporal: SpatioTemporal,
    /// Mean time-normalised angle curves, per variable and side.
    pub curves: Vec<CycleCurve>,
}

impl GaitAnalysis {
    /// The curve of a variable on a side.
    #[must_use]
    pub fn curve(&self, var: AngleVar, side: Side) -> Option<&CycleCurve> {
        self.curves.iter().find(|c| c.var == var && c.side == side)
    }

    /// Range of motion (max - min of the mean curve) of a variable on a side, degrees.
    #[must_use]
    pub fn rom_deg(&self, var: AngleVar, side: Side) -> f64 {
        self.curve(var, side).map_or(f64::NAN, CycleCurve::rom_deg)
    }

    /// Symmetry index of the ROM of a variable (see [`symmetry_index`]).
    #[must_use]
    pub fn rom_symmetry(&self, var: AngleVar) -> f64 {
        symmetry_index(
            self.rom_deg(var, Side::Left),
            self.rom_deg(var, Side::Right),
        )
    }
}

/// A walk's gait events and where they came from: per side, the events recorded with the file
/// when they form at least one complete cycle, else Zeni events detected on the canonical,
/// 6 Hz-smoothed copy that analysis uses.
#[must_use]
pub fn walk_events(seq: &GaitSequence) -> (GaitEvents, EventSource) {
    let mut s = seq.clone();
    normalize_frame(&mut s);
    smooth(&mut s, ANALYSIS_CUTOFF_HZ);
    events_of(seq, &s)
}

/// [`walk_events`] with the canonical, smoothed copy `s` of `seq` already made.
fn events_of(seq: &GaitSequence, s: &GaitSequence) -> (GaitEvents, EventSource) {
    let recorded = seq.events.clone().unwrap_or_default();
    let usable = |side| !recorded.cycles(side).is_empty();
    if usable(Side::Left) && usable(Side::Right) {
        return (recorded, EventSource::Recorded);
    }
    let detected = events::detect(s);
    if !usable(Side::Left) && !usable(Side::Right) {
        return (detected, EventSource::Detected);
    }
    let (left, right) = if usable(Side::Left) {
        (recorded.left, detected.right)
    } else {
        (detected.left, recorded.right)
    };
    (GaitEvents { left, right }, EventSource::Mixed)
}

/// Analyses a walk: canonical frame, 6 Hz zero-phase smoothing, events (recorded, else Zeni),
/// cycles, spatio-temporal parameters and cycle-normalised joint angles.
///
/// # Errors
/// A rig without the lower-body joints, or no complete cycle on either side.
pub fn analyse(seq: &GaitSequence) -> Result<GaitAnalysis, AnalysisError> {
    let missing = seq.skeleton.missing_required();
    if !missing.is_empty() {
        return Err(AnalysisError::MissingJoints {
            id: seq.id.clone(),
            missing: format!("{missing:?}"),
        });
    }
    let mut s = seq.clone();
    normalize_frame(&mut s);
    smooth(&mut s, ANALYSIS_CUTOFF_HZ);
    let (events, event_source) = events_of(seq, &s);
    let cycles = [events.cycles(Side::Left), events.cycles(Side::Right)];
    for (i, side) in Side::BOTH.into_iter().enumerate() {
        if cycles[i].is_empty() {
            return Err(AnalysisError::NoCycle {
                id: seq.id.clone(),
                side: format!("{side:?}").to_lowercase(),
                heel_strikes: events.side(side).heel_strikes.len(),
            });
        }
    }
    let spatiotemporal = spatiotemporal::compute(&s, &events, &cycles);
    let mut curves = Vec::new();
    if let Some(tracks) = angles::angle_tracks(&s) {
        for (i, t) in tracks.iter().enumerate() {
            curves.extend(angles::cycle_curves(t, &cycles[i]));
        }
    }
    Ok(GaitAnalysis {
        id: seq.id.clone(),
        events,
        event_source,
        cycles,
        spatiotemporal,
        curves,
    })
}
