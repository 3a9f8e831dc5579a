//! Quality measures of the tokeniser and of generated gait.
//!
//! - MPJPE: mean per-joint position error in mm, root-relative (joints relative to the pelvis,
//!   pelvis height kept), between a window and its tokenised reconstruction.
//! - Foot skating ratio: of the frames where a foot is within 3 cm of its lowest height in the
//!   sequence (in contact), the fraction where it moves faster than 0.3 m/s horizontally.
//! - Bone-length violation: mean over bones of the coefficient of variation of the bone's
//!   length over time, in % (0 for a rigid skeleton).
//! - Diversity: mean pairwise distance between sequences' root-relative poses, metres per joint.
//! - Prior adherence: features of generated walks against the real classes' priors; each walk
//!   is assigned the nearest real class by RMS z-distance over all prior features, z in units of
//!   the pooled within-class SD.

use std::collections::BTreeMap;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::Window;
use super::features::{FEATURES, Normalizer, feature_rows, frame_joints};
use super::tokenizer::GaitTokenizer;
use super::training::batch_tensor;
use super::variance::Moments;
use super::vocab::DESCRIPTORS;
use super::{ModelError, read_floats};
use crate::core::biomech::analyse;
use crate::core::biomech::priors::{FEATURES as ADHERENCE_FEATURES, GroupPriors, features};
use crate::core::data::{CommonJoint, GaitSequence};
use crate::core::jobs::run_parallel;
use crate::core::math::{evenly_spaced, mean, norm, std_dev, sub};

/// Tokeniser reconstructions of `windows`, standardised feature rows per window (batches of 64).
fn reconstructions(
    tok: &GaitTokenizer,
    windows: &[&Window],
    device: &Device,
) -> Result<Vec<Vec<[f32; FEATURES]>>, ModelError> {
    let mut out = Vec::with_capacity(windows.len());
    for chunk in windows.chunks(64) {
        out.extend(window_rows(tok.forward(batch_tensor(chunk, device)).recon)?);
    }
    Ok(out)
}

/// A batch's reconstruction `[B, F, T]` as standardised feature rows, one list per window.
fn window_rows(recon: Tensor<3>) -> Result<Vec<Vec<[f32; FEATURES]>>, ModelError> {
    let recon = recon.swap_dims(1, 2); // [B, T, F]
    let t = recon.dims()[1].max(1);
    let rows = feature_rows(&read_floats(recon, "tokeniser reconstruction")?);
    Ok(rows.chunks(t).map(<[[f32; FEATURES]]>::to_vec).collect())
}

/// Sum of the root-relative joint position errors (m) of a reconstruction against its
/// window, and how many joint positions it summed.
fn window_error(w: &Window, recon: &[[f32; FEATURES]], n: &Normalizer) -> (f64, usize) {
    let (mut total, mut count) = (0.0f64, 0usize);
    for (row, truth) in recon.iter().zip(&w.frames) {
        let pr = frame_joints(&n.invert(row), [0.0, 0.0]);
        let gt = frame_joints(&n.invert(truth), [0.0, 0.0]);
        for j in 0..12 {
            total += f64::from(norm(sub(pr[j], gt[j])));
            count += 1;
        }
    }
    (total, count)
}

/// One window through the tokeniser: its codes and how far its reconstruction is from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenisedWindow {
    /// Codes per branch (spatial, temporal, pathological), `T/r` each.
    pub codes: [Vec<usize>; 3],
    /// Sum over frames and joints of the root-relative position error, metres.
    pub error_m: f64,
    /// Joint positions `error_m` sums over (frames x joints).
    pub joints: usize,
    /// Per-feature sums of the window and its reconstruction (the decoder's variance
    /// compensation is fitted on them).
    pub moments: Moments,
}

/// Windows per tokeniser pass in [`tokenise_windows`]: large enough that the backend's own
/// threads have work, small enough that passes spread over the workers.
const TOKENISE_CHUNK: usize = 128;

/// Codes and reconstruction errors of `windows` from one tokeniser pass each (the GPT's
/// training data and the tokeniser's root-relative MPJPE used to take a pass each), chunks on
/// parallel named workers (the element-wise parts of a pass run on one thread), results in
/// window order.
///
/// # Errors
/// When the backend cannot read codes or reconstructions back.
pub fn tokenise_windows(
    tok: &GaitTokenizer,
    windows: &[&Window],
    n: &Normalizer,
    device: &Device,
) -> Result<Vec<TokenisedWindow>, ModelError> {
    let chunks: Vec<&[&Window]> = windows.chunks(TOKENISE_CHUNK).collect();
    let parts = run_parallel(
        &chunks,
        "tokenise",
        |_, chunk| tokenise_chunk(tok, chunk, n, device),
        || ModelError::Backend("a tokenising worker stopped".into()),
    );
    let mut out = Vec::with_capacity(windows.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// [`tokenise_windows`] for one batch of windows of equal length.
fn tokenise_chunk(
    tok: &GaitTokenizer,
    chunk: &[&Window],
    n: &Normalizer,
    device: &Device,
) -> Result<Vec<TokenisedWindow>, ModelError> {
    let (codes, recon) = tok.encode_decode(batch_tensor(chunk, device))?;
    let per = codes[0].len() / chunk.len().max(1);
    Ok(chunk
        .iter()
        .zip(window_rows(recon)?)
        .enumerate()
        .map(|(i, (w, recon))| {
            let (error_m, joints) = window_error(w, &recon, n);
            TokenisedWindow {
                codes: [0, 1, 2].map(|b| codes[b][i * per..(i + 1) * per].to_vec()),
                error_m,
                joints,
                moments: Moments::of(&w.frames, &recon),
            }
        })
        .collect())
}

/// Root-relative MPJPE (mm) pooled over tokenised windows (NaN for none).
pub fn pooled_mpjpe_mm<'a>(windows: impl IntoIterator<Item = &'a TokenisedWindow>) -> f64 {
    let (total, count) = windows
        .into_iter()
        .fold((0.0, 0), |(t, c), w| (t + w.error_m, c + w.joints));
    if count == 0 {
        f64::NAN
    } else {
        1000.0 * total / count as f64
    }
}

/// Foot skating ratio over sequences (see the module notes).
#[must_use]
pub fn foot_skating_ratio(seqs: &[GaitSequence]) -> f64 {
    let (mut contact, mut skating) = (0usize, 0usize);
    for s in seqs {
        for foot in [
            CommonJoint::AnkleL,
            CommonJoint::AnkleR,
            CommonJoint::ToeL,
            CommonJoint::ToeR,
        ] {
            let Some(tr) = s.common_track(foot) else {
                continue;
            };
            let low = tr.iter().map(|p| p[2]).fold(f32::INFINITY, f32::min);
            for w in tr.windows(2) {
                if w[0][2] < low + 0.03 {
                    contact += 1;
                    let v = norm([w[1][0] - w[0][0], w[1][1] - w[0][1], 0.0]) * s.fps;
                    skating += usize::from(v > 0.3);
                }
            }
        }
    }
    if contact == 0 {
        f64::NAN
    } else {
        skating as f64 / contact as f64
    }
}

/// Mean coefficient of variation of bone lengths over time, %.
#[must_use]
pub fn bone_length_violation_pct(seqs: &[GaitSequence]) -> f64 {
    let mut cvs = Vec::new();
    for s in seqs {
        for (p, c) in s.skeleton.bones() {
            let lens: Vec<f64> = (0..s.frames())
                .map(|f| f64::from(norm(sub(s.pos(f, c), s.pos(f, p)))))
                .collect();
            if let (Some(m), Some(sd)) = (mean(&lens), std_dev(&lens))
                && m > 1e-6
            {
                cvs.push(100.0 * sd / m);
            }
        }
    }
    mean(&cvs).unwrap_or(f64::NAN)
}

/// Sequences [`diversity_m`] compares pairwise: every window of an evaluation's quality sample
/// (30 per class), since a sample of 50 moved the figure by about as much as the differences it
/// was read for.
pub const DIVERSITY_SAMPLE: usize = 200;

fn pose_signature(s: &GaitSequence) -> Vec<f32> {
    let Some(pelvis) = s.common_track(CommonJoint::Pelvis) else {
        return Vec::new();
    };
    let n = s.frames();
    let mut out = Vec::with_capacity(n * 33);
    for f in 0..n {
        for c in CommonJoint::ALL.iter().skip(1) {
            if let Some(p) = s.common(f, *c) {
                out.extend(sub(p, pelvis[f]));
            }
        }
    }
    out
}

/// Mean pairwise root-relative pose distance (m per joint and frame) over up to
/// [`DIVERSITY_SAMPLE`] sequences, evenly spaced over `seqs` (the first ones of a set grouped by
/// class would measure one or two classes only).
#[must_use]
pub fn diversity_m(seqs: &[GaitSequence]) -> f64 {
    let sigs: Vec<Vec<f32>> = evenly_spaced(seqs, DIVERSITY_SAMPLE)
        .into_iter()
        .map(pose_signature)
        .collect();
    let mut d = Vec::new();
    for i in 0..sigs.len() {
        for j in i + 1..sigs.len() {
            let n = sigs[i].len().min(sigs[j].len()) / 3;
            if n == 0 {
                continue;
            }
            let s: f64 = (0..n)
                .map(|k| {
                    f64::from(norm([
                        sigs[i][3 * k] - sigs[j][3 * k],
                        sigs[i][3 * k + 1] - sigs[j][3 * k + 1],
                        sigs[i][3 * k + 2] - sigs[j][3 * k + 2],
                    ]))
                })
                .sum();
            d.push(s / n as f64);
        }
    }
    mean(&d).unwrap_or(f64::NAN)
}

/// Prior adherence of generated walks of one requested class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adherence {
    /// Walks analysed (generated walks too short for a full cycle per side are skipped).
    pub analysed: usize,
    /// Mean descriptor values of the generated walks, in `DESCRIPTORS` order.
    pub generated_mean: Vec<f64>,
    /// Mean descriptor values of the real requested class.
    pub real_mean: Vec<f64>,
    /// How many walks land nearest to each real class.
    pub nearest: BTreeMap<String, usize>,
    /// Fraction whose nearest real class is the requested one.
    pub hit_rate: f64,
}

/// Compares generated walks with the real classes' priors.
///
/// Each walk goes to the real class nearest in all prior features
/// ([`crate::core::biomech::priors::FEATURES`]),
/// each feature's difference divided by the pooled within-class SD (the RMS of the classes'
/// SDs), so a feature counts by how well it separates walks, not by its units or by how far
/// apart the class means happen to lie. On the demo data this puts 100 % of real training
/// windows in their own class; the six prompt descriptors alone reach 40-100 %, because lurch
/// and Trendelenburg differ in trunk lean and pelvic obliquity, which they do not describe.
#[must_use]
pub fn prior_adherence(
    generated: &[GaitSequence],
    requested: &str,
    classes: &[GroupPriors],
) -> Adherence {
    let keys: Vec<&str> = DESCRIPTORS.iter().map(|(k, _)| *k).collect();
    let feats: Vec<BTreeMap<String, f64>> = generated
        .iter()
        .filter_map(|s| analyse(s).ok())
        .map(|a| features(&a))
        .collect();
    let col = |k: &str| {
        feats
            .iter()
            .map(|f| f.get(k).copied().unwrap_or(f64::NAN))
            .collect::<Vec<_>>()
    };
    let generated_mean: Vec<f64> = keys
        .iter()
        .map(|k| mean(&col(k)).unwrap_or(f64::NAN))
        .collect();
    let class_mean = |g: &GroupPriors| {
        keys.iter()
            .map(|k| g.features.get(*k).map_or(f64::NAN, |s| s.mean))
            .collect::<Vec<f64>>()
    };
    // Pooled within-class SD per feature; features without one (single-walk classes) drop out.
    let scaled: Vec<(&str, f64)> = ADHERENCE_FEATURES
        .iter()
        .filter_map(|(k, _)| {
            let vars: Vec<f64> = classes
                .iter()
                .filter_map(|g| g.features.get(*k))
                .map(|s| s.sd * s.sd)
                .filter(|v| v.is_finite())
                .collect();
            let sd = mean(&vars)?.sqrt();
            (sd > 1e-9).then_some((*k, sd))
        })
        .collect();
    let mut nearest: BTreeMap<String, usize> = BTreeMap::new();
    for f in &feats {
        let best = classes
            .iter()
            .map(|g| {
                let z: Vec<f64> = scaled
                    .iter()
                    .filter_map(|(k, sd)| {
                        let v = f.get(*k).copied()?;
                        let m = g.features.get(*k)?.mean;
                        (v.is_finite() && m.is_finite()).then(|| ((v - m) / sd).powi(2))
                    })
                    .collect();
                (g.name.clone(), mean(&z).unwrap_or(f64::INFINITY))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((name, _)) = best {
            *nearest.entry(name).or_insert(0) += 1;
        }
    }
    let real_mean = classes
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(requested))
        .map_or(vec![f64::NAN; keys.len()], class_mean);
    let hits = nearest
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(requested))
        .map(|(_, v)| *v)
        .sum::<usize>();
    Adherence {
        analysed: feats.len(),
        generated_mean,
        real_mean,
        hit_rate: if feats.is_empty() {
            f64::NAN
        } else {
            hits as f64 / feats.len() as f64
        },
        nearest,
    }
}

/// What the descriptor features can tell apart before any generation: for one class, the share
/// of real training windows (rebuilt from the model's features, as generated walks are) and of
/// their tokeniser reconstructions whose nearest real class is their own. Generated hit rates
/// read against these: a class the real windows themselves do not reach cannot be expected
/// from the generator, and a drop from real to tokenised is lost in the codebooks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassReference {
    /// Class name.
    pub class: String,
    /// Windows scored (at most [`REFERENCE_WINDOWS`], evenly spread over the class).
    pub windows: usize,
    /// Real windows analysable (a full cycle per side).
    pub real_analysed: usize,
    /// Nearest class = own class among analysable real windows (`None` when none was).
    pub real_hit_rate: Option<f64>,
    /// Reconstructions analysable.
    pub tokenised_analysed: usize,
    /// Nearest class = own class among analysable reconstructions.
    pub tokenised_hit_rate: Option<f64>,
}

/// Windows per class scored by [`class_reference`] (keeps training's extra cost to seconds).
pub const REFERENCE_WINDOWS: usize = 60;

/// Scores real windows and their reconstructions per class (see [`ClassReference`]).
///
/// # Errors
/// When the backend cannot read the reconstructions back.
pub fn class_reference(
    tok: &GaitTokenizer,
    windows: &[&Window],
    class_names: &[String],
    n: &Normalizer,
    fps: f32,
    classes: &[GroupPriors],
    device: &Device,
) -> Result<Vec<ClassReference>, ModelError> {
    let to_seq = |rows: &[[f32; FEATURES]], label: &str| {
        let frames: Vec<_> = rows.iter().map(|r| n.invert(r)).collect();
        super::features::features_to_sequence(
            &frames,
            fps,
            "reference",
            Some(label.to_string()),
            // Only the analysis reads these sequences; where they came from is not shown.
            crate::core::data::Provenance::Imported {
                format: "model window".into(),
                path: std::path::PathBuf::new(),
            },
        )
    };
    class_names
        .iter()
        .enumerate()
        .map(|(ci, name)| {
            let all: Vec<&Window> = windows.iter().copied().filter(|w| w.class == ci).collect();
            let step = all.len().div_ceil(REFERENCE_WINDOWS).max(1);
            let picked: Vec<&Window> = all.into_iter().step_by(step).collect();
            let real: Vec<GaitSequence> = picked.iter().map(|w| to_seq(&w.frames, name)).collect();
            let recon: Vec<GaitSequence> = reconstructions(tok, &picked, device)?
                .iter()
                .map(|w| to_seq(w, name))
                .collect();
            let (r, k) = (
                prior_adherence(&real, name, classes),
                prior_adherence(&recon, name, classes),
            );
            Ok(ClassReference {
                class: name.clone(),
                windows: picked.len(),
                real_analysed: r.analysed,
                real_hit_rate: r.hit_rate.is_finite().then_some(r.hit_rate),
                tokenised_analysed: k.analysed,
                tokenised_hit_rate: k.hit_rate.is_finite().then_some(k.hit_rate),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::data::Provenance;
    use crate::core::model::features::features_to_sequence;

    /// A still pose whose left knee sits `dx` m forward.
    fn pose(dx: f32) -> GaitSequence {
        let mut v = [0.0f32; FEATURES];
        for k in 0..11 {
            v[3 * k + 2] = -0.1 * k as f32;
        }
        v[3 * 4] = dx;
        v[33] = 0.9;
        features_to_sequence(
            &[v; 4],
            30.0,
            "p",
            None,
            Provenance::SyntheticDemo {
                seed: 0,
                params: String::new(),
            },
        )
    }

    #[test]
    fn diversity_samples_the_whole_set_not_its_first_run() {
        // A set grouped by class: 60 identical walks, then 60 of another pose. The first 50
        // alone would read no diversity at all.
        let set: Vec<GaitSequence> = (0..120)
            .map(|i| pose(if i < 60 { 0.0 } else { 0.22 }))
            .collect();
        let d = diversity_m(&set);
        // Pairs across the two runs differ by 0.22 m at one of 11 joints: 0.02 m per joint.
        assert!(d > 0.009 && d < 0.011, "{d}");
        assert!(diversity_m(&set[..60]).abs() < 1e-9);
    }
}
