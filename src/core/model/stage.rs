//! A generator stage's settings, when it stops and which of its models it returns: held-out
//! checks on a fixed subset of the held-out subjects' windows, the plateau rule, and the model
//! with the lowest held-out loss measured, kept to be returned.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// Optimisation settings shared by both stages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Measure the loss on held-out subjects' windows every this many steps (0 = never).
    #[serde(default)]
    pub eval_every: usize,
    /// Stop once this many held-out measurements in a row have not improved on the best by
    /// 0.5 % (0 = always run every step). Needs held-out subjects and `eval_every`.
    #[serde(default)]
    pub patience: usize,
}

impl StageConfig {
    /// A stage of `steps` steps at `batch` and `lr`, without early stopping.
    #[must_use]
    pub fn fixed(steps: usize, batch: usize, lr: f64) -> Self {
        Self {
            steps,
            batch,
            lr,
            eval_every: 0,
            patience: 0,
        }
    }
}

/// How a stage ended: the held-out losses it measured and, when it stopped before its last
/// step, why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageEnd {
    /// `(step, held-out loss)` at every measurement.
    pub heldout: Vec<(usize, f32)>,
    /// Set when the stage stopped early: at which step, and why.
    pub stopped: Option<String>,
    /// `(step, held-out loss)` of the model the stage returned when it kept the one of lowest
    /// held-out loss (the tokeniser). `None` when nothing was measured (no held-out windows),
    /// for the GPT (it returns its last model) and in bundles trained before.
    #[serde(default)]
    pub kept: Option<(usize, f32)>,
}

impl StageEnd {
    /// One line on how the stage ended, for reports: why it stopped (or that it ran all its
    /// steps) and which step's model it kept.
    #[must_use]
    pub fn summary(&self) -> String {
        let why = self
            .stopped
            .as_deref()
            .unwrap_or("no plateau: ran all its steps");
        match self.kept {
            Some((step, loss)) => {
                format!(
                    "{why}; kept the model of step {step} (held-out loss {loss:.4}, the lowest)"
                )
            }
            None => why.to_string(),
        }
    }
}

/// The model with the lowest held-out loss measured so far in a stage, which the tokeniser
/// stage returns instead of its last: its held-out loss is the reconstruction error the
/// tokeniser is judged by (the GPT's is not a fidelity measure, see `train_gpt`).
pub(super) struct Best<M> {
    kept: Option<(usize, f32, M)>,
}

impl<M> Best<M> {
    pub(super) fn new() -> Self {
        Self { kept: None }
    }

    /// Keeps `model()` when `loss` is the lowest finite held-out loss offered so far.
    pub(super) fn offer(
        &mut self,
        step: usize,
        loss: f32,
        model: impl FnOnce() -> Result<M, ModelError>,
    ) -> Result<(), ModelError> {
        if loss.is_finite() && self.kept.as_ref().is_none_or(|k| loss < k.1) {
            self.kept = Some((step, loss, model()?));
        }
        Ok(())
    }

    /// The kept model (or `last` when nothing was measured), noting its step in `end`.
    pub(super) fn into_model(self, last: M, end: &mut StageEnd) -> M {
        match self.kept {
            Some((step, loss, m)) => {
                end.kept = Some((step, loss));
                m
            }
            None => last,
        }
    }
}

/// True when a stage that ran all `steps` should measure its last model too, so the
/// lowest-loss model is chosen among every check and the end (a stopped stage measured its
/// last model at the check that stopped it).
pub(super) fn final_check_due(stage: &StageConfig, end: &StageEnd, heldout: &[usize]) -> bool {
    end.stopped.is_none() && !heldout.is_empty() && stage.eval_every > 0
}

/// Early stopping on a held-out loss plateau.
pub(super) struct Plateau {
    best: f32,
    best_step: usize,
    since: usize,
}

impl Plateau {
    pub(super) fn new() -> Self {
        Self {
            best: f32::INFINITY,
            best_step: 0,
            since: 0,
        }
    }

    /// Records a measurement; returns the reason to stop, if the plateau is long enough.
    pub(super) fn record(
        &mut self,
        step: usize,
        loss: f32,
        stage: &StageConfig,
        end: &mut StageEnd,
    ) -> Option<String> {
        end.heldout.push((step, loss));
        if loss < self.best * 0.995 || !self.best.is_finite() {
            self.best = loss;
            self.best_step = step;
            self.since = 0;
            return None;
        }
        self.since += 1;
        (stage.patience > 0 && self.since >= stage.patience).then(|| {
            format!(
                "stopped at step {step} of {}: the held-out loss ({loss:.4}) has not improved on its best ({:.4}, step {}) by 0.5 % in {} checks every {} steps",
                stage.steps, self.best, self.best_step, self.since, stage.eval_every
            )
        })
    }
}

/// Held-out windows measured at each check: at most 256, evenly spread over the held-out
/// subjects' windows (fixed for the run), so a check costs a few batches on any dataset size.
pub(super) fn check_subset(heldout: &[usize]) -> Vec<usize> {
    let step = heldout.len().div_ceil(256).max(1);
    heldout.iter().copied().step_by(step).collect()
}

/// True at the steps where `stage` measures its held-out loss.
pub(super) fn check_due(stage: &StageConfig, step: usize, heldout: &[usize]) -> bool {
    !heldout.is_empty()
        && stage.eval_every > 0
        && step.is_multiple_of(stage.eval_every)
        && step < stage.steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage() -> StageConfig {
        StageConfig {
            eval_every: 50,
            patience: 2,
            ..StageConfig::fixed(400, 32, 1e-3)
        }
    }

    #[test]
    fn the_lowest_held_out_loss_is_kept_not_the_last() {
        let (mut plateau, mut end, mut best) = (Plateau::new(), StageEnd::default(), Best::new());
        let mut stop = None;
        for (step, loss) in [(50, 3.0f32), (100, 2.5), (150, 2.6), (200, 2.7), (250, 2.0)] {
            best.offer(step, loss, || Ok(step)).unwrap();
            if let Some(why) = plateau.record(step, loss, &stage(), &mut end) {
                stop = Some(why);
                break;
            }
        }
        let why = stop.expect("two checks without improvement stop the stage");
        assert!(why.starts_with("stopped at step 200 of 400"), "{why}");
        end.stopped = Some(why);
        // Step 250 never ran; the model of step 100 (loss 2.5) is returned, not step 200's.
        assert_eq!(best.into_model(200, &mut end), 100);
        assert_eq!(end.kept, Some((100, 2.5)));
        assert!(
            end.summary()
                .ends_with("kept the model of step 100 (held-out loss 2.5000, the lowest)"),
            "{}",
            end.summary()
        );
        assert!(!final_check_due(&stage(), &end, &[1, 2]));
    }

    #[test]
    fn without_measurements_the_last_model_is_returned() {
        let mut end = StageEnd::default();
        let mut best = Best::new();
        // A non-finite loss is never kept (a diverged check must not win).
        best.offer(50, f32::NAN, || Ok(1)).unwrap();
        assert_eq!(best.into_model(7, &mut end), 7);
        assert_eq!(end.kept, None);
        assert_eq!(end.summary(), "no plateau: ran all its steps");
        assert!(final_check_due(&stage(), &end, &[1]));
        assert!(!final_check_due(&stage(), &end, &[]));
        assert!(!final_check_due(
            &StageConfig::fixed(10, 4, 1e-3),
            &end,
            &[1]
        ));
    }

    #[test]
    fn stage_ends_saved_before_the_kept_model_still_load() {
        let old = "(heldout: [(50, 2.5)], stopped: None)";
        let end: StageEnd = ron::from_str(old).unwrap();
        assert_eq!(end.kept, None);
        assert_eq!(end.heldout, vec![(50, 2.5)]);
    }
}
