//! Generative metrics: a Fréchet distance in a classifier's feature space (the FID recipe,
//! with the real-data GRU as the feature extractor), plus the sequence-level checks of the
//! model module (diversity, prior adherence, foot skating, bone-length error).

use serde::{Deserialize, Serialize};

use super::classifier::{Classifier, LabelledWindow, argmax};
use super::prepared::{ModelWindow, Prepared, standardise};
use crate::core::biomech::priors::GroupPriors;
use crate::core::data::{Dataset, GaitSequence, Provenance};
pub use crate::core::frechet::frechet_distance;
use crate::core::math::evenly_spaced;
use crate::core::model::ModelError;
use crate::core::model::bundle::GaitGenerator;
use crate::core::model::features::{FEATURES, Normalizer, features_to_sequence};
use crate::core::model::metrics::{
    bone_length_violation_pct, diversity_m, foot_skating_ratio, prior_adherence,
};

/// Sequence-level quality of one set of walks (real, model or baseline) of one fold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetQuality {
    /// Walks measured.
    pub walks: usize,
    /// Mean pairwise distance between walks (metres, see `diversity_m`).
    pub diversity_m: f64,
    /// Fraction of planted-foot frames whose foot slides (see `foot_skating_ratio`).
    pub foot_skating: f64,
    /// Mean coefficient of variation of bone lengths over time, % (see
    /// `bone_length_violation_pct`; 0 for a rigid skeleton).
    pub bone_violation_pct: f64,
    /// Fraction of walks whose priors land nearest their own class (NaN for real data).
    pub prior_hit_rate: f64,
}

/// Quality of a set of walks; `by_class` groups them by class name for prior adherence against
/// the real classes' priors (`classes`).
#[must_use]
pub fn set_quality(
    by_class: &[(String, Vec<GaitSequence>)],
    classes: &[GroupPriors],
    adherence: bool,
) -> SetQuality {
    let all: Vec<GaitSequence> = by_class.iter().flat_map(|(_, s)| s.clone()).collect();
    let prior_hit_rate = if adherence && !classes.is_empty() {
        let (mut hits, mut n) = (0.0, 0usize);
        for (name, seqs) in by_class {
            let a = prior_adherence(seqs, name, classes);
            if a.analysed > 0 {
                hits += a.hit_rate * a.analysed as f64;
                n += a.analysed;
            }
        }
        if n > 0 { hits / n as f64 } else { f64::NAN }
    } else {
        f64::NAN
    };
    SetQuality {
        walks: all.len(),
        diversity_m: diversity_m(&all),
        foot_skating: foot_skating_ratio(&all),
        bone_violation_pct: bone_length_violation_pct(&all),
        prior_hit_rate,
    }
}

/// Fréchet distances of one class (NaN where a side has fewer than two windows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassDistance {
    /// Class name.
    pub class: String,
    /// Real (fit subjects) vs model windows.
    pub model: f64,
    /// Real (fit subjects) vs baseline windows.
    pub baseline: f64,
    /// Real (fit subjects) vs real walks of the validation subjects: the distance between
    /// two samples of real people, for scale.
    pub real_reference: f64,
    /// Recognition by the real-trained classifier (NaN in folds saved before it was measured).
    #[serde(default)]
    pub recognised: Recognition,
}

/// Shares of a class's windows that the real-trained classifier assigns to that class
/// (recognition accuracy), NaN where there were none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recognition {
    /// Model windows made for the class.
    pub model: f64,
    /// Baseline windows made for the class.
    pub baseline: f64,
    /// Real windows of the validation subjects (people the classifier did not fit): what a
    /// real walk of the class scores.
    pub real: f64,
}

impl Default for Recognition {
    fn default() -> Self {
        Self {
            model: f64::NAN,
            baseline: f64::NAN,
            real: f64::NAN,
        }
    }
}

/// Share of `windows` of class `c` whose most probable class is `c` (NaN without any).
fn recognised(net: &Classifier, windows: &[LabelledWindow], c: usize) -> Result<f64, ModelError> {
    let own: Vec<&LabelledWindow> = windows.iter().filter(|w| w.class == c).collect();
    if own.is_empty() {
        return Ok(f64::NAN);
    }
    let hits = net
        .probabilities(&own)?
        .iter()
        .filter(|p| argmax(p) == c)
        .count();
    Ok(hits as f64 / own.len() as f64)
}

/// Quality of the fold's synthetic data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerativeResult {
    /// Classifier whose pooled features define the Fréchet distance (real-trained).
    pub feature_space: String,
    /// Per class.
    pub per_class: Vec<ClassDistance>,
    /// All classes pooled: real vs model.
    pub model_all: f64,
    /// All classes pooled: real vs baseline.
    pub baseline_all: f64,
    /// Real fit windows.
    pub real: SetQuality,
    /// Model windows.
    pub model: SetQuality,
    /// Baseline windows.
    pub baseline_quality: SetQuality,
}

/// Up to this many walks per class and set enter the sequence-level quality checks (they
/// analyse gait cycles, which costs far more than a classifier pass).
const QUALITY_PER_CLASS: usize = 30;

#[allow(clippy::too_many_arguments)] // the fold's pieces, from run_fold
pub(crate) fn measure(
    prep: &Prepared,
    norm: &Normalizer,
    net: Option<&Classifier>,
    real_fit: &[LabelledWindow],
    real_val: &[LabelledWindow],
    model: &[ModelWindow],
    base: &[(usize, Vec<[f32; FEATURES]>)],
    fit: &[usize],
    ds: &Dataset,
    g: &GaitGenerator,
) -> Result<GenerativeResult, ModelError> {
    let fps = g.manifest.window.fps;
    let to_seq = |c: usize, w: &[[f32; FEATURES]], id: String| {
        features_to_sequence(
            w,
            fps,
            &id,
            Some(prep.classes[c].clone()),
            Provenance::Generated {
                model: "baseline: jitter + time warp + scaling".into(),
                prompt: prep.classes[c].clone(),
                seed: 0,
                sampling: String::new(),
            },
        )
    };
    let group = |items: Vec<(usize, GaitSequence)>| -> Vec<(String, Vec<GaitSequence>)> {
        prep.classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                // Evenly spaced over the class: real windows come in runs of one walk.
                let of_class: Vec<&GaitSequence> = items
                    .iter()
                    .filter(|(k, _)| *k == c)
                    .map(|(_, s)| s)
                    .collect();
                let v: Vec<GaitSequence> = evenly_spaced(&of_class, QUALITY_PER_CLASS)
                    .into_iter()
                    .map(|s| (*s).clone())
                    .collect();
                (name.clone(), v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    };
    let real_items: Vec<(usize, GaitSequence)> = fit
        .iter()
        .flat_map(|&i| {
            let c = prep.windows[i].0.unwrap_or(0);
            prep.windows[i]
                .1
                .iter()
                .enumerate()
                .map(move |(k, w)| (i, c, k, w))
        })
        .map(|(i, c, k, w)| (c, to_seq(c, w, format!("{}#{k}", ds.sequences[i].id))))
        .collect();
    let model_items: Vec<(usize, GaitSequence)> =
        model.iter().map(|(c, _, s)| (*c, s.clone())).collect();
    let base_items: Vec<(usize, GaitSequence)> = base
        .iter()
        .enumerate()
        .map(|(k, (c, w))| (*c, to_seq(*c, w, format!("baseline_{k}"))))
        .collect();
    let priors = &g.manifest.class_priors;
    let mut out = GenerativeResult {
        real: set_quality(&group(real_items), priors, false),
        model: set_quality(&group(model_items), priors, true),
        baseline_quality: set_quality(&group(base_items), priors, true),
        ..GenerativeResult::default()
    };
    let Some(net) = net else {
        return Ok(out);
    };
    out.feature_space = format!("{} trained on real data", net.kind.name());
    let emb = |w: Vec<&LabelledWindow>| net.embeddings(&w);
    let lw = |v: &[(usize, Vec<[f32; FEATURES]>)]| -> Vec<LabelledWindow> {
        v.iter()
            .map(|(c, w)| LabelledWindow {
                frames: standardise(w, norm),
                class: *c,
                sequence: 0,
            })
            .collect()
    };
    let model_lw = lw(&model
        .iter()
        .map(|(c, w, _)| (*c, w.clone()))
        .collect::<Vec<_>>());
    let base_lw = lw(base);
    let of = |v: &[LabelledWindow], c: Option<usize>| -> Result<Vec<Vec<f32>>, ModelError> {
        emb(v
            .iter()
            .filter(|w| c.is_none_or(|c| w.class == c))
            .collect())
    };
    // Too few windows for a covariance: the distance is undefined (NaN in the report).
    let fd = |a: &[Vec<f32>], b: &[Vec<f32>]| frechet_distance(a, b).unwrap_or(f64::NAN);
    for (c, name) in prep.classes.iter().enumerate() {
        let r = of(real_fit, Some(c))?;
        out.per_class.push(ClassDistance {
            class: name.clone(),
            model: fd(&r, &of(&model_lw, Some(c))?),
            baseline: fd(&r, &of(&base_lw, Some(c))?),
            real_reference: fd(&r, &of(real_val, Some(c))?),
            recognised: Recognition {
                model: recognised(net, &model_lw, c)?,
                baseline: recognised(net, &base_lw, c)?,
                real: recognised(net, real_val, c)?,
            },
        });
    }
    let r = of(real_fit, None)?;
    out.model_all = fd(&r, &of(&model_lw, None)?);
    out.baseline_all = fd(&r, &of(&base_lw, None)?);
    Ok(out)
}
