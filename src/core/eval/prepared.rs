//! What every fold of an evaluation shares, computed once: the classes, each walk's raw
//! feature windows and content hash, and the standardisation of windows. The protocol and the
//! generative measures both build on it, so neither has to import the other's internals.

use super::size_normalise;
use crate::core::data::{Dataset, GaitSequence};
use crate::core::model::ModelError;
use crate::core::model::features::{
    FEATURES, Normalizer, WindowConfig, sequence_features, window_starts,
};

/// Raw (not standardised) feature frames of one window.
pub(crate) type RawWindow = Vec<[f32; FEATURES]>;

/// A generated window: class, raw frames, and the sequence they came from.
pub(crate) type ModelWindow = (usize, RawWindow, GaitSequence);

/// Walk ids, subjects and windows of a dataset, computed once for all folds.
pub(crate) struct Prepared {
    pub classes: Vec<String>,
    /// Per sequence: class index (None = unlabelled) and raw windows.
    pub windows: Vec<(Option<usize>, Vec<RawWindow>)>,
    pub hashes: Vec<String>,
}

/// Classes, per-walk windows and content hashes of `ds` for windows of geometry `w` taken every
/// `real_hop` frames.
///
/// # Errors
/// Fewer than two labelled classes.
pub(crate) fn prepare(
    ds: &Dataset,
    w: WindowConfig,
    real_hop: usize,
) -> Result<Prepared, ModelError> {
    let classes = ds.labels();
    if classes.len() < 2 {
        return Err(ModelError::Data(format!(
            "dataset '{}' needs at least two labelled classes to evaluate (found: {})",
            ds.name,
            if classes.is_empty() {
                "none".to_string()
            } else {
                classes.join(", ")
            }
        )));
    }
    let wcfg = WindowConfig {
        hop: real_hop.max(1),
        ..w
    };
    let windows = ds
        .sequences
        .iter()
        .map(|s| {
            let class = s
                .label
                .as_ref()
                .and_then(|l| classes.iter().position(|c| c == l));
            // A walk without the common joints (or under three frames) has no feature frames
            // and so no windows: nothing of it can be classified (the import warned of it).
            let feats = sequence_features(s, w.fps).unwrap_or_default();
            let wins = window_starts(feats.len(), &wcfg)
                .into_iter()
                .map(|st| feats[st..st + w.frames].to_vec())
                .collect();
            (class, wins)
        })
        .collect();
    Ok(Prepared {
        classes,
        windows,
        hashes: ds
            .sequences
            .iter()
            .map(GaitSequence::content_hash)
            .collect(),
    })
}

/// Size-normalised, then standardised with the fit subjects' statistics.
pub(crate) fn standardise(w: &[[f32; FEATURES]], n: &Normalizer) -> Vec<[f32; FEATURES]> {
    let mut w = w.to_vec();
    size_normalise(&mut w);
    w.iter().map(|f| n.apply(f)).collect()
}
