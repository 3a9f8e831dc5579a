//! A generator stage's settings and when it stops: held-out checks on a fixed subset of the
//! held-out subjects' windows and the plateau rule. A stopped stage returns its last model, not
//! the one of lowest held-out loss: on the reference-sized set keeping that one lowered the
//! held-out loss it was chosen by and worsened the generated walks (README, *Learning speed*).

use serde::{Deserialize, Serialize};

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
    /// Return the weights of the best held-out check instead of the last step's: a stage that
    /// stops on a plateau has by then trained `patience` checks past its best. Needs
    /// `eval_every` and held-out subjects; off in plans from before it existed.
    #[serde(default)]
    pub keep_best: bool,
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
            keep_best: false,
        }
    }
}

/// How a stage ended: the held-out losses (or sample distances) it measured and, when it stopped before its last
/// step, why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageEnd {
    /// `(step, held-out loss)` at every measurement.
    pub heldout: Vec<(usize, f32)>,
    /// Set when the stage stopped early: at which step, and why.
    pub stopped: Option<String>,
    /// The step whose weights the stage returned, when that is not its last
    /// ([`StageConfig::keep_best`]).
    #[serde(default)]
    pub kept_step: Option<usize>,
    /// What the checks measured when it was not the next-token loss (a sample check's
    /// distance, see [`super::sample_check`]); `None` for the loss and in older bundles.
    #[serde(default)]
    pub measure: Option<String>,
}

/// Early stopping on a plateau of a held-out measure (lower is better).
pub(super) struct Plateau {
    /// What is measured, for the reason to stop ("held-out loss").
    what: &'static str,
    best: f32,
    best_step: usize,
    since: usize,
}

impl Plateau {
    pub(super) fn new(what: &'static str) -> Self {
        Self {
            what,
            best: f32::INFINITY,
            best_step: 0,
            since: 0,
        }
    }

    /// Step of the best measurement so far (0 before any).
    pub(super) fn best_step(&self) -> usize {
        self.best_step
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
                "stopped at step {step} of {}: the {} ({loss:.4}) has not improved on its best ({:.4}, step {}) by 0.5 % in {} checks every {} steps",
                stage.steps, self.what, self.best, self.best_step, self.since, stage.eval_every
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

    #[test]
    fn a_plateau_of_patience_checks_stops_the_stage_and_says_why() {
        let stage = StageConfig {
            eval_every: 50,
            patience: 2,
            ..StageConfig::fixed(400, 32, 1e-3)
        };
        let (mut plateau, mut end) = (Plateau::new("held-out loss"), StageEnd::default());
        let mut stop = None;
        // 2.49 is under 0.5 % better than 2.5: not an improvement.
        for (step, loss) in [
            (50, 3.0f32),
            (100, 2.5),
            (150, 2.49),
            (200, 2.7),
            (250, 2.0),
        ] {
            if let Some(why) = plateau.record(step, loss, &stage, &mut end) {
                stop = Some(why);
                break;
            }
        }
        let why = stop.expect("two checks without improvement stop the stage");
        assert_eq!(
            why,
            "stopped at step 200 of 400: the held-out loss (2.7000) has not improved on its best (2.5000, step 100) by 0.5 % in 2 checks every 50 steps"
        );
        assert_eq!(end.heldout.len(), 4, "step 250 never ran");
    }
}
