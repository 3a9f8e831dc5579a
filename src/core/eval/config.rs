//! What defines an evaluation run: the fold scheme and every setting, saved with the results
//! (and hashed into each saved fold's key).

use serde::{Deserialize, Serialize};

use super::baseline::AugmentConfig;
use super::classifier::{ClassifierConfig, ClassifierKind};
use crate::core::model::bundle::TrainPlan;
use crate::core::model::generate::Sampling;

/// How subjects are split into folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Leave one subject out: one fold per subject.
    Loso,
    /// `k` folds of whole subjects (faster; every subject is tested once).
    KFold(usize),
}

/// Everything that defines an evaluation run (saved with its results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalConfig {
    /// Fold scheme.
    pub protocol: Protocol,
    /// Classifiers to train, in table order.
    pub classifiers: Vec<ClassifierKind>,
    /// Classifier size and optimisation.
    pub classifier: ClassifierConfig,
    /// Synthetic windows per class (model and baseline alike).
    pub synthetic_per_class: usize,
    /// Generator training plan (trained afresh in every fold).
    pub generator: TrainPlan,
    /// Sampling settings (count, frames and seed are set per fold and class).
    pub sampling: Sampling,
    /// Baseline augmentation strengths.
    pub baseline: AugmentConfig,
    /// Share of training subjects kept for early stopping (at least one when there are three
    /// or more training subjects).
    pub val_fraction: f64,
    /// Frames between the starts of real windows.
    pub real_hop: usize,
    /// Run only the first folds (quick looks); `None` runs all.
    pub max_folds: Option<usize>,
    /// Seed of splits, classifiers, sampling and baseline.
    pub seed: u64,
    /// Learning rate of the fine-tuning on real walks after synthetic pretraining, as a
    /// fraction of the classifier's (smaller steps keep what the pretraining learned).
    pub finetune_lr_scale: f64,
    /// Cut each fold's real training subjects to this many (a seeded choice per fold, recorded
    /// in the fold's `fit_subjects`); the generator, the baseline and every classifier see
    /// only these, and validation and test subjects stay the same. `None`: all of them.
    pub real_subjects: Option<usize>,
    /// Spread the synthetic windows' prompts over the class's range instead of asking every
    /// window for the class's typical walk: severities 0.1, 0.3, 0.5, 0.7 and 0.9 at slow,
    /// normal and fast speed, in equal shares.
    pub prompt_spread: bool,
    /// Prompt each synthetic window with the values of one of the fit subjects' walks of its
    /// class (severity and descriptor bins, side), cycling through them, instead of the
    /// class's typical walk (takes precedence over `prompt_spread`); with the sampling's
    /// `subject_bodies`, the window takes that walk's subject's build too. Left out of the
    /// serialised config when off, so folds saved before it existed keep their keys.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub like_fit_walks: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            protocol: Protocol::Loso,
            classifiers: ClassifierKind::ALL.to_vec(),
            classifier: ClassifierConfig::default(),
            synthetic_per_class: 100,
            generator: TrainPlan::default(),
            sampling: Sampling {
                augment: 0.15,
                ..Sampling::default()
            },
            baseline: AugmentConfig::default(),
            val_fraction: 0.15,
            real_hop: 32,
            max_folds: None,
            seed: 1,
            finetune_lr_scale: 0.3,
            real_subjects: None,
            prompt_spread: false,
            like_fit_walks: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_left_off_leave_the_serialised_config_as_before() {
        // Saved folds are keyed by the serialised config: new knobs that are off must not
        // change it, or every fold saved by an earlier version would rerun.
        let off = ron::to_string(&EvalConfig::default()).unwrap();
        assert!(
            !off.contains("like_fit_walks")
                && !off.contains("subject_bodies")
                && !off.contains("random_start"),
            "{off}"
        );
        let mut cfg = EvalConfig {
            like_fit_walks: true,
            ..EvalConfig::default()
        };
        cfg.sampling.subject_bodies = true;
        cfg.sampling.random_start = true;
        let on = ron::to_string(&cfg).unwrap();
        assert!(
            on.contains("like_fit_walks:true")
                && on.contains("subject_bodies:true")
                && on.contains("random_start:true"),
            "{on}"
        );
        let back: EvalConfig = ron::from_str(&on).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(
            ron::from_str::<EvalConfig>(&off).unwrap(),
            EvalConfig::default()
        );
    }

    /// New runs average the validation loss over classes; a report written before the option
    /// existed reads back as what it did (over windows), so its settings stay true.
    #[test]
    fn class_balanced_validation_is_new_and_old_reports_read_without_it() {
        let cfg = EvalConfig::default();
        assert!(cfg.classifier.balanced_validation);
        let text = ron::to_string(&cfg).unwrap();
        let old = text.replace(",balanced_validation:true", "");
        assert_ne!(old, text, "{text}");
        let back: EvalConfig = ron::from_str(&old).unwrap();
        assert!(!back.classifier.balanced_validation);
        assert_eq!(back.classifier.hidden, cfg.classifier.hidden);
        // Off, it writes what an old build wrote: the same settings, the same fold keys.
        assert_eq!(ron::to_string(&back).unwrap(), old);
    }
}
