//! Anomaly localisation and the "normative twin" (after GenGait, arXiv 2604.01997): a
//! transformer masked autoencoder over joint-frame tokens, trained on normal gait only.
//!
//! Joint-frame values: 12 common joints x T frames of a short window at 15 Hz; the pelvis
//! carries (height, forward and lateral velocity), every other joint its position relative to
//! the pelvis; all standardised with normal-data statistics. The transformer attends over the
//! T frames; each frame token holds its 12 joints (hidden ones zeroed) and 12 hidden-flags.
//! Shapes: values `[B, T*J, 3]` -> frame tokens `[B, T, 4J]` -> `[B, T, W]` -> `[B, T*J, 3]`.
//!
//! - Training: random 40 % of joint-frame values hidden, or whole joints in every frame (as
//!   the two passes do); MSE on the hidden values.
//! - Pass 1: each non-pelvis joint is hidden in every frame and rebuilt from the others; its
//!   error (mm) against a threshold learned on held-out normal walks (99th percentile of
//!   window errors) gives a per-joint inconsistency score; score > 1 flags the joint (the worst
//!   first, then the rest rescored without it: see `TwinModel::analyse_walk`).
//! - Pass 2: all flagged joints are hidden together and rebuilt from the rest: the twin.

use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::data::{CommonJoint, Dataset, GaitSequence, Provenance};
use crate::core::jobs::{CancelToken, Progress};
use crate::core::math::{norm, quantile, sub};
use crate::core::model::features::{FEATURES, Normalizer, features_to_sequence, sequence_features};
use crate::core::model::parallel::{materialise, seeded};
use crate::core::model::{ModelError, read_floats, read_scalar};

mod store;

/// Joints (tokens per frame): the pelvis and the 11 relative joints.
pub const JOINTS: usize = 12;

/// Model and training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TwinConfig {
    /// Frames per window (at `fps`).
    pub frames: usize,
    /// Window frame rate.
    pub fps: f32,
    /// Frames between windows.
    pub hop: usize,
    /// Transformer width.
    pub width: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Share of tokens masked in training.
    pub mask_ratio: f64,
    /// Optimiser steps.
    pub steps: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for TwinConfig {
    fn default() -> Self {
        Self {
            frames: 24,
            fps: 15.0,
            hop: 6,
            width: 64,
            layers: 3,
            heads: 4,
            mask_ratio: 0.4,
            steps: 600,
            batch: 16,
            lr: 1e-3,
            seed: 1,
        }
    }
}

impl TwinConfig {
    /// FLOPs of a forward pass over `batch` windows: the input projection, per encoder layer
    /// the attention projections (`8 W^2`), scores and context over the frames (`4 T W`) and
    /// the 2x MLP (`8 W^2`) per frame, and the output head.
    #[must_use]
    pub fn forward_flops(&self, batch: usize) -> f64 {
        let (w, t) = (self.width as f64, self.frames as f64);
        let rows = batch as f64 * t;
        let j = JOINTS as f64;
        let layer = rows * (16.0 * w * w + 4.0 * t * w);
        rows * 2.0 * (4.0 * j) * w + self.layers as f64 * layer + rows * 2.0 * w * 3.0 * j
    }

    /// FLOPs of one training step (forward + backward) on a batch.
    #[must_use]
    pub fn train_step_flops(&self) -> f64 {
        crate::core::model::TRAIN_STEP_FACTOR * self.forward_flops(self.batch)
    }
}

/// The masked autoencoder.
#[derive(Module, Debug)]
pub struct Mae {
    input: Linear,
    time: Embedding,
    encoder: TransformerEncoder,
    head: Linear,
}

impl Mae {
    fn new(cfg: &TwinConfig, device: &Device) -> Self {
        let w = cfg.width;
        Self {
            // 12 joints x 3 values, plus one "hidden" flag per joint.
            input: LinearConfig::new(JOINTS * 4, w).init(device),
            time: EmbeddingConfig::new(cfg.frames, w).init(device),
            encoder: TransformerEncoderConfig::new(w, 2 * w, cfg.heads, cfg.layers)
                .with_dropout(0.0)
                .with_norm_first(true)
                .init(device),
            head: LinearConfig::new(w, JOINTS * 3).init(device),
        }
    }

    /// `x [B, T*J, 3]` (token order `t * JOINTS + j`), `hidden [B, T*J]` (1 = hidden) ->
    /// reconstruction `[B, T*J, 3]`. Attention runs over the T frames; each frame carries its
    /// joints with hidden ones zeroed and flagged, so the model learns how joints constrain
    /// each other within a frame and over time.
    fn forward(&self, x: Tensor<3>, hidden: Tensor<2>) -> Tensor<3> {
        let [b, n, _] = x.dims();
        let t = n / JOINTS;
        let device = x.device();
        let m = hidden.reshape([b, t, JOINTS]);
        let keep = m.clone().neg() + 1.0;
        let xs = x.reshape([b, t, JOINTS, 3]) * keep.reshape([b, t, JOINTS, 1]);
        let input = Tensor::cat(vec![xs.reshape([b, t, JOINTS * 3]), m], 2); // [B, T, 4J]
        let times: Vec<i64> = (0..t as i64).collect();
        let times = Tensor::<2, Int>::from_data(TensorData::new(times, [1, t]), &device);
        let h = self.input.forward(input) + self.time.forward(times);
        self.head
            .forward(self.encoder.forward(TransformerEncoderInput::new(h)))
            .reshape([b, n, 3])
    }
}

/// Standardised tokens of one window: `[frames * JOINTS]` triples.
type Tokens = Vec<[f32; 3]>;

fn window_tokens(frames: &[[f32; FEATURES]]) -> Tokens {
    frames
        .iter()
        .flat_map(|f| {
            (0..JOINTS).map(move |j| {
                let o = if j == 0 { 33 } else { 3 * (j - 1) };
                [f[o], f[o + 1], f[o + 2]]
            })
        })
        .collect()
}

/// Standardised windows of a walk and their start frames (at the twin's rate).
fn walk_windows(
    seq: &GaitSequence,
    cfg: &TwinConfig,
    norm: &Normalizer,
) -> (Vec<Tokens>, Vec<usize>, usize) {
    let Some(f) = sequence_features(seq, cfg.fps) else {
        return (Vec::new(), Vec::new(), 0);
    };
    let z: Vec<[f32; FEATURES]> = f.iter().map(|r| norm.apply(r)).collect();
    if z.len() < cfg.frames {
        return (Vec::new(), Vec::new(), z.len());
    }
    let mut starts: Vec<usize> = (0..=z.len() - cfg.frames).step_by(cfg.hop.max(1)).collect();
    if starts.last() != Some(&(z.len() - cfg.frames)) {
        starts.push(z.len() - cfg.frames);
    }
    let w = starts
        .iter()
        .map(|&s| window_tokens(&z[s..s + cfg.frames]))
        .collect();
    (w, starts, z.len())
}

fn tensor(windows: &[&Tokens], device: &Device) -> Tensor<3> {
    let n = windows.first().map_or(0, |w| w.len());
    let data: Vec<f32> = windows
        .iter()
        .flat_map(|w| w.iter().flatten().copied())
        .collect();
    Tensor::<3>::from_data(TensorData::new(data, [windows.len(), n, 3]), device)
}

/// A trained twin model with its normal-data statistics.
#[derive(Debug, Clone)]
pub struct TwinModel {
    /// Settings.
    pub cfg: TwinConfig,
    /// Feature standardisation (normal data).
    pub normalizer: Normalizer,
    /// Flagging threshold per joint (mm), index as [`CommonJoint::ALL`]; the pelvis (origin of
    /// the others) is never flagged.
    pub thresholds_mm: Vec<f64>,
    /// Normal walks used: (training, held out for thresholds).
    pub walks: (usize, usize),
    mae: Mae,
    device: Device,
}

/// Per-joint result for one walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JointScore {
    /// Joint.
    pub joint: CommonJoint,
    /// Mean reconstruction error when hidden (mm).
    pub error_mm: f64,
    /// Error / threshold (> 1 = flagged).
    pub score: f64,
    /// Flagged as inconsistent with normal gait.
    pub flagged: bool,
}

/// Pass 1 and pass 2 on one walk.
#[derive(Debug, Clone)]
pub struct TwinResult {
    /// Scores of the 11 non-pelvis joints.
    pub scores: Vec<JointScore>,
    /// The walk with flagged joints rebuilt from the rest (common rig, twin's frame rate).
    pub twin: GaitSequence,
    /// The walk itself on the same rig and rate (for side-by-side comparison).
    pub original: GaitSequence,
}

impl TwinResult {
    /// Names of the flagged joints (e.g. `KneeL`), in joint order.
    #[must_use]
    pub fn flagged_names(&self) -> Vec<String> {
        self.scores
            .iter()
            .filter(|s| s.flagged)
            .map(|s| format!("{:?}", s.joint))
            .collect()
    }
}

/// Angle deviation from normative curves before and after the twin: `(variable, side, GVS of
/// the walk, GVS of its twin)` in degrees (RMS difference from the normative mean curve).
#[must_use]
pub fn angle_deviation(
    r: &TwinResult,
    bands: &crate::core::biomech::NormativeBands,
) -> Vec<(
    crate::core::biomech::AngleVar,
    crate::core::data::Side,
    f64,
    f64,
)> {
    use crate::core::biomech::{analyse, normative::gait_profile};
    let (Ok(a), Ok(b)) = (analyse(&r.original), analyse(&r.twin)) else {
        return Vec::new();
    };
    let (pa, pb) = (
        gait_profile(&a.curves, bands),
        gait_profile(&b.curves, bands),
    );
    pa.gvs
        .iter()
        .filter_map(|(v, s, before)| {
            pb.gvs
                .iter()
                .find(|(v2, s2, _)| v2 == v && s2 == s)
                .map(|(_, _, after)| (*v, *s, *before, *after))
        })
        .collect()
}

/// Trains on the normal walks of `ds` (`normal_class`), holding out about a fifth of the
/// subjects to learn the flagging thresholds.
///
/// # Errors
/// No normal walks long enough for a window, or cancellation.
pub fn train_twin(
    ds: &Dataset,
    normal_class: &str,
    cfg: &TwinConfig,
    device: &Device,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<TwinModel, ModelError> {
    let normal: Vec<&GaitSequence> = ds
        .sequences
        .iter()
        .filter(|s| s.label.as_deref() == Some(normal_class))
        .collect();
    let mut subjects: Vec<&str> = normal.iter().map(|s| s.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let held: Vec<&str> = if subjects.len() >= 3 {
        subjects.iter().step_by(5).copied().collect()
    } else {
        Vec::new()
    };
    let feats: Vec<Vec<[f32; FEATURES]>> = normal
        .iter()
        .filter(|s| !held.contains(&s.subject.as_str()))
        .filter_map(|s| sequence_features(s, cfg.fps))
        .collect();
    let all: Vec<[f32; FEATURES]> = feats.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(ModelError::Data(format!(
            "no walks of the normal class '{normal_class}' to learn normal gait from"
        )));
    }
    let normalizer = Normalizer::fit(&all);
    let train_w: Vec<Tokens> = normal
        .iter()
        .filter(|s| !held.contains(&s.subject.as_str()))
        .flat_map(|s| walk_windows(s, cfg, &normalizer).0)
        .collect();
    if train_w.is_empty() {
        return Err(ModelError::Data(format!(
            "normal walks are shorter than one {}-frame window",
            cfg.frames
        )));
    }
    let ad = device.clone().autodiff();
    // Seeded under the lock other threads' models are built under (the studio may train a
    // twin while an evaluation trains its classifiers).
    let mut mae = seeded(&ad, cfg.seed, || {
        let m = Mae::new(cfg, &ad);
        materialise(&m);
        m
    });
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = cfg.frames * JOINTS;
    progress.start("training normative twin", cfg.steps as u64);
    for step in 1..=cfg.steps {
        if cancel.is_cancelled() {
            progress.finish();
            return Err(ModelError::Cancelled);
        }
        let batch: Vec<&Tokens> = (0..cfg.batch.max(1))
            .map(|_| &train_w[rng.random_range(0..train_w.len())])
            .collect();
        let b = batch.len();
        let hide = training_mask(&mut rng, b, n, cfg.mask_ratio);
        let x = tensor(&batch, &ad);
        let hidden = Tensor::<2>::from_data(TensorData::new(hide, [b, n]), &ad);
        let recon = mae.forward(x.clone(), hidden.clone());
        let err = (recon - x).powi_scalar(2).sum_dim(2).reshape([b, n]);
        let loss = (err * hidden.clone()).sum() / hidden.sum().clamp_min(1.0);
        let v = read_scalar(loss.clone(), "twin training loss")?;
        let grads = GradientsParams::from_grads(loss.backward(), &mae);
        mae = optim.step(cfg.lr, mae, grads);
        progress.advance(1, &format!("masked MSE {v:.4}"));
        progress.metrics(step as u64, &[("masked MSE", f64::from(v))]);
    }
    progress.finish();
    let mut model = TwinModel {
        cfg: *cfg,
        normalizer,
        thresholds_mm: vec![f64::INFINITY; JOINTS],
        walks: (
            normal.len()
                - normal
                    .iter()
                    .filter(|s| held.contains(&s.subject.as_str()))
                    .count(),
            0,
        ),
        mae: mae.valid(),
        device: device.clone(),
    };
    set_thresholds(&mut model, &normal, &held)?;
    Ok(model)
}

/// A training batch's mask `[b * n]` (1 = hidden): half the batches hide whole joints (as
/// passes 1 and 2 do, never the pelvis), half hide random tokens at `mask_ratio`.
fn training_mask(rng: &mut ChaCha8Rng, b: usize, n: usize, mask_ratio: f64) -> Vec<f32> {
    let whole_joints = rng.random_bool(0.5);
    let mut hide = vec![0.0f32; b * n];
    for r in 0..b {
        let hidden_joints: Vec<bool> = (0..JOINTS).map(|_| rng.random_bool(0.25)).collect();
        for i in 0..n {
            let h = if whole_joints {
                hidden_joints[i % JOINTS] && i % JOINTS != 0
            } else {
                rng.random_bool(mask_ratio)
            };
            hide[r * n + i] = if h { 1.0 } else { 0.0 };
        }
    }
    hide
}

/// Flagging thresholds: the 99th percentile of per-window errors on held-out normal walks
/// (the training walks when there are too few subjects to hold any out).
fn set_thresholds(
    model: &mut TwinModel,
    normal: &[&GaitSequence],
    held: &[&str],
) -> Result<(), ModelError> {
    let held_walks: Vec<&GaitSequence> = normal
        .iter()
        .filter(|s| held.is_empty() || held.contains(&s.subject.as_str()))
        .copied()
        .collect();
    model.walks.1 = if held.is_empty() { 0 } else { held_walks.len() };
    let mut per_joint: Vec<Vec<f64>> = vec![Vec::new(); JOINTS];
    for s in held_walks {
        let (w, _, _) = walk_windows(s, &model.cfg, &model.normalizer);
        for win in &w {
            for (j, e) in model.joint_errors_mm(win)?.into_iter().enumerate() {
                per_joint[j].push(e);
            }
        }
    }
    model.thresholds_mm = per_joint
        .iter()
        .enumerate()
        .map(|(j, v)| {
            if j == 0 {
                f64::INFINITY
            } else {
                quantile(v, 0.99).unwrap_or(f64::INFINITY)
            }
        })
        .collect();
    Ok(())
}

/// Pass 1's flags and each joint's `(error mm, score)`.
type JointFlags = ([bool; JOINTS], [(f64, f64); JOINTS]);

impl TwinModel {
    /// Reconstruction of a window with `hide[j]` joints hidden in every frame; standardised
    /// tokens.
    fn rebuild(&self, windows: &[&Tokens], hide: &[Vec<bool>]) -> Result<Vec<Tokens>, ModelError> {
        let n = self.cfg.frames * JOINTS;
        let b = windows.len();
        let mask: Vec<f32> = hide
            .iter()
            .flat_map(|h| (0..n).map(move |i| if h[i % JOINTS] { 1.0 } else { 0.0 }))
            .collect();
        let x = tensor(windows, &self.device);
        let hidden = Tensor::<2>::from_data(TensorData::new(mask, [b, n]), &self.device);
        let out = self.mae.forward(x, hidden);
        let v = read_floats(out, "twin reconstruction")?;
        Ok(v.chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect::<Vec<[f32; 3]>>()
            .chunks(n)
            .map(<[[f32; 3]]>::to_vec)
            .collect())
    }

    /// Token triple back to metres (relative joints) via the normaliser.
    fn metres(&self, j: usize, t: [f32; 3]) -> [f32; 3] {
        let o = if j == 0 { 33 } else { 3 * (j - 1) };
        let m = &self.normalizer;
        [0, 1, 2].map(|k| t[k] * m.std[o + k] + m.mean[o + k])
    }

    /// Mean error (mm) of each joint hidden in one window together with the joints already in
    /// `base` (pelvis and `base` joints: NaN).
    fn joint_errors_mm_given(&self, win: &Tokens, base: &[bool]) -> Result<Vec<f64>, ModelError> {
        let cand: Vec<usize> = (1..JOINTS).filter(|&j| !base[j]).collect();
        let hides: Vec<Vec<bool>> = cand
            .iter()
            .map(|&j| (0..JOINTS).map(|k| k == j || base[k]).collect())
            .collect();
        let mut out = vec![f64::NAN; JOINTS];
        if cand.is_empty() {
            return Ok(out);
        }
        let rec = self.rebuild(&vec![win; hides.len()], &hides)?;
        for (r, &j) in cand.iter().enumerate() {
            let mut e = 0.0;
            for t in 0..self.cfg.frames {
                let i = t * JOINTS + j;
                let (a, b) = (self.metres(j, rec[r][i]), self.metres(j, win[i]));
                e += f64::from(norm(sub(a, b)));
            }
            out[j] = 1000.0 * e / self.cfg.frames as f64;
        }
        Ok(out)
    }

    /// Mean error (mm) of each joint hidden alone in one window (pelvis: NaN).
    fn joint_errors_mm(&self, win: &Tokens) -> Result<Vec<f64>, ModelError> {
        self.joint_errors_mm_given(win, &[false; JOINTS])
    }

    /// Pass 1: joints flagged one at a time, the worst above its threshold first, the others
    /// scored again with it hidden. Returns the flags and each joint's `(error mm, score)`.
    fn flag_joints(&self, wins: &[Tokens]) -> Result<JointFlags, ModelError> {
        let mut hide = [false; JOINTS];
        let mut score_of = [(f64::NAN, f64::NAN); JOINTS];
        for _ in 0..JOINTS / 2 {
            let mut sum = [0.0f64; JOINTS];
            for w in wins {
                for (j, e) in self
                    .joint_errors_mm_given(w, &hide)?
                    .into_iter()
                    .enumerate()
                {
                    sum[j] += e;
                }
            }
            let mut worst: Option<(usize, f64)> = None;
            for j in (1..JOINTS).filter(|&j| !hide[j]) {
                let e = sum[j] / wins.len() as f64;
                let sc = e / self.thresholds_mm[j];
                score_of[j] = (e, sc);
                if sc > 1.0 && worst.is_none_or(|(_, w)| sc > w) {
                    worst = Some((j, sc));
                }
            }
            match worst {
                Some((j, _)) => hide[j] = true,
                None => break,
            }
        }
        Ok((hide, score_of))
    }

    /// Pass 2: the flagged joints rebuilt window by window; returns per frame and joint the
    /// summed tokens of the windows covering it, and per frame how many there were (overlaps
    /// are averaged by the caller).
    fn rebuild_walk(
        &self,
        wins: &[Tokens],
        starts: &[usize],
        frames: usize,
        hide: &[bool; JOINTS],
    ) -> Result<(Vec<[f32; 3]>, Vec<u32>), ModelError> {
        let refs: Vec<&Tokens> = wins.iter().collect();
        let rec = self.rebuild(&refs, &vec![hide.to_vec(); refs.len()])?;
        let mut acc = vec![[0.0f32; 3]; frames * JOINTS];
        let mut count = vec![0u32; frames];
        for (w, &s) in starts.iter().enumerate() {
            for t in 0..self.cfg.frames {
                count[s + t] += 1;
                for j in 0..JOINTS {
                    let v = if hide[j] {
                        rec[w][t * JOINTS + j]
                    } else {
                        wins[w][t * JOINTS + j]
                    };
                    for k in 0..3 {
                        acc[(s + t) * JOINTS + j][k] += v[k];
                    }
                }
            }
        }
        Ok((acc, count))
    }

    /// Pass 1 (scores and flags) and pass 2 (the twin) on one walk.
    ///
    /// Flagging explains away: the worst joint above its threshold is flagged and hidden, and
    /// the others are scored again without it as context, until no joint is above threshold.
    /// Otherwise an abnormal leg would make the healthy leg look abnormal too, because the
    /// healthy joints are rebuilt from a context that contains it.
    ///
    /// # Errors
    /// A walk without the common joints or shorter than one window.
    pub fn analyse_walk(&self, seq: &GaitSequence) -> Result<TwinResult, ModelError> {
        let (wins, starts, frames) = walk_windows(seq, &self.cfg, &self.normalizer);
        if wins.is_empty() {
            return Err(ModelError::Data(format!(
                "walk '{}' is shorter than one {}-frame window at {} Hz (or lacks common joints)",
                seq.id, self.cfg.frames, self.cfg.fps
            )));
        }
        let (hide, score_of) = self.flag_joints(&wins)?;
        let scores: Vec<JointScore> = (1..JOINTS)
            .map(|j| JointScore {
                joint: CommonJoint::ALL[j],
                error_mm: score_of[j].0,
                score: score_of[j].1,
                flagged: hide[j],
            })
            .collect();
        let (acc, count) = self.rebuild_walk(&wins, &starts, frames, &hide)?;
        let to_features = |tok: &dyn Fn(usize, usize) -> [f32; 3]| -> Vec<[f32; FEATURES]> {
            (0..frames)
                .map(|f| {
                    let mut v = [0.0f32; FEATURES];
                    for j in 0..JOINTS {
                        let m = self.metres(j, tok(f, j));
                        let o = if j == 0 { 33 } else { 3 * (j - 1) };
                        v[o..o + 3].copy_from_slice(&m);
                    }
                    v
                })
                .collect()
        };
        let twin_f = to_features(&|f, j| {
            let c = count[f].max(1) as f32;
            acc[f * JOINTS + j].map(|x| x / c)
        });
        let orig_f = {
            let raw = sequence_features(seq, self.cfg.fps).ok_or_else(|| {
                ModelError::Data(format!("walk '{}' lacks the common joints", seq.id))
            })?;
            let z: Vec<[f32; FEATURES]> = raw.iter().map(|r| self.normalizer.apply(r)).collect();
            to_features(&|f, j| window_tokens(&z[f..=f])[j])
        };
        let flagged: Vec<String> = scores
            .iter()
            .filter(|s| s.flagged)
            .map(|s| format!("{:?}", s.joint))
            .collect();
        let prov = Provenance::Generated {
            model: "normative twin (masked autoencoder)".into(),
            prompt: format!(
                "twin of {} with {} rebuilt",
                seq.id,
                if flagged.is_empty() {
                    "nothing".into()
                } else {
                    flagged.join(", ")
                }
            ),
            seed: self.cfg.seed,
            sampling: "deterministic reconstruction".into(),
        };
        let mut twin = features_to_sequence(
            &twin_f,
            self.cfg.fps,
            &format!("{}_twin", seq.id),
            seq.label.clone(),
            prov,
        );
        twin.subject.clone_from(&seq.subject);
        let mut original = features_to_sequence(
            &orig_f,
            self.cfg.fps,
            &seq.id,
            seq.label.clone(),
            seq.provenance.clone(),
        );
        original.subject.clone_from(&seq.subject);
        Ok(TwinResult {
            scores,
            twin,
            original,
        })
    }
}
