//! Generative metrics: a Fréchet distance in a classifier's feature space (the FID recipe,
//! with the real-data GRU as the feature extractor), plus the sequence-level checks of the
//! model module (diversity, prior adherence, foot skating, bone-length error).

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::classifier::{Classifier, LabelledWindow, argmax};
use super::prepared::{ModelWindow, Prepared, standardise};
use crate::core::biomech::priors::GroupPriors;
use crate::core::data::{Dataset, GaitSequence, Provenance};
use crate::core::math::evenly_spaced;
use crate::core::model::ModelError;
use crate::core::model::bundle::GaitGenerator;
use crate::core::model::features::{FEATURES, Normalizer, features_to_sequence};
use crate::core::model::metrics::{
    bone_length_violation_pct, diversity_m, foot_skating_ratio, prior_adherence,
};

/// Mean and covariance (with `ridge` added to the diagonal) of row vectors.
fn moments(x: &[Vec<f32>], ridge: f64) -> Option<(DVector<f64>, DMatrix<f64>)> {
    let n = x.len();
    let d = x.first()?.len();
    if n < 2 || d == 0 || x.iter().any(|r| r.len() != d) {
        return None;
    }
    let m = DMatrix::from_fn(n, d, |i, j| f64::from(x[i][j]));
    let mu = m.row_mean().transpose();
    let centred = DMatrix::from_fn(n, d, |i, j| m[(i, j)] - mu[j]);
    let mut cov = centred.transpose() * &centred / (n - 1) as f64;
    for i in 0..d {
        cov[(i, i)] += ridge;
    }
    Some((mu, cov))
}

/// Square root of a symmetric positive semi-definite matrix (negative eigenvalues from
/// rounding are clamped to zero).
fn sqrtm_psd(a: &DMatrix<f64>) -> DMatrix<f64> {
    let e = SymmetricEigen::new(a.clone());
    let s = DMatrix::from_diagonal(&e.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &e.eigenvectors * s * e.eigenvectors.transpose()
}

/// Fréchet distance between Gaussians fitted to two sets of feature vectors:
/// `|μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)`. The trace of the cross term is taken from
/// the eigenvalues of the symmetric matrix `Σa^½ Σb Σa^½`, which is stable where `ΣaΣb` is not
/// symmetric. `None` with fewer than two vectors on either side or mismatched widths.
#[must_use]
pub fn frechet_distance(a: &[Vec<f32>], b: &[Vec<f32>]) -> Option<f64> {
    // A small ridge keeps the covariances of few, wide vectors well conditioned.
    let (ma, ca) = moments(a, 1e-6)?;
    let (mb, cb) = moments(b, 1e-6)?;
    if ma.len() != mb.len() {
        return None;
    }
    let sa = sqrtm_psd(&ca);
    let mut inner = &sa * &cb * &sa;
    inner = (&inner + inner.transpose()) * 0.5;
    let cross: f64 = SymmetricEigen::new(inner)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum();
    let d = (ma - mb).norm_squared() + ca.trace() + cb.trace() - 2.0 * cross;
    Some(d.max(0.0))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(n: usize, shift: f32, scale: f32) -> Vec<Vec<f32>> {
        // Deterministic, roughly isotropic 3-D points.
        (0..n)
            .map(|i| {
                let t = i as f32 * 0.7;
                vec![
                    shift + scale * t.sin(),
                    scale * (1.3 * t).cos(),
                    scale * (2.1 * t + 0.4).sin(),
                ]
            })
            .collect()
    }

    #[test]
    fn frechet_distance_of_known_cases() {
        let a = cloud(400, 0.0, 1.0);
        assert!(frechet_distance(&a, &a).unwrap() < 1e-6);
        // A pure mean shift of 2 along x adds 4.
        let b = cloud(400, 2.0, 1.0);
        assert!((frechet_distance(&a, &b).unwrap() - 4.0).abs() < 1e-6);
        // 1-D: N(0, 1) vs N(0, 4) -> 1 + 4 - 2*2 = 1.
        let u: Vec<Vec<f32>> = (0..1000).map(|i| vec![((i as f32) * 0.37).sin()]).collect();
        let var: f64 = {
            let m = u.iter().map(|v| f64::from(v[0])).sum::<f64>() / 1000.0;
            u.iter().map(|v| (f64::from(v[0]) - m).powi(2)).sum::<f64>() / 999.0
        };
        let w: Vec<Vec<f32>> = u.iter().map(|v| vec![2.0 * v[0]]).collect();
        let expected = var + 4.0 * var - 2.0 * (var * 4.0 * var).sqrt();
        assert!((frechet_distance(&u, &w).unwrap() - expected).abs() < 1e-5);
        // Symmetric, and undefined for a single vector or mismatched widths.
        let c = cloud(300, 0.5, 1.5);
        let (x, y) = (
            frechet_distance(&a, &c).unwrap(),
            frechet_distance(&c, &a).unwrap(),
        );
        assert!((x - y).abs() < 1e-6 * x.max(1.0));
        assert!(frechet_distance(&a[..1], &c).is_none());
        assert!(frechet_distance(&a, &[vec![0.0; 2], vec![1.0; 2]]).is_none());
    }
}
