//! Sampling gait tokens from a prompt and decoding them into fixed-length 3D sequences.

use burn::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::arms::{arm_targets, with_arms};
use super::bundle::GaitGenerator;
use super::data::augment;
use super::features::{FEATURES, feature_rows, features_to_sequence, mirror_frame};
use super::gpt::KvCache;
use super::prompt::{ExpandedPrompt, Prompt, draw_side, expand};
use super::style::{SubjectStyle, retarget};
use super::vocab::{BINS, CodeKind, PromptValues};
use super::{ModelError, read_floats};
use crate::core::data::preprocess::resample_frames;
use crate::core::data::{GaitSequence, Provenance, Side};
use crate::core::jobs::{CancelToken, Progress, run_parallel};

/// Sequences sampled together: large batches keep the CPU's matrix kernels busy; 128 fits a
/// default model's activations in well under 1 GiB.
const GEN_BATCH: usize = 128;

/// Sampling settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampling {
    /// Softmax temperature (> 0).
    pub temperature: f32,
    /// Keep the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set of tokens whose probability reaches p (1 = all).
    pub top_p: f32,
    /// Seed: the same seed, prompt and model give the same sequences.
    pub seed: u64,
    /// Sequences to generate.
    pub count: usize,
    /// Frames per output sequence (resampled from the model's window, duration kept).
    pub frames: usize,
    /// Probability of moving each prompt bin by one per sequence (semantic augmentation).
    pub augment: f64,
    /// Classifier-free guidance scale `w`: logits `u + w (c - u)` from the prompted (`c`) and
    /// null-prompt (`u`) passes. 1 = the prompted model alone (one pass); above 1 pushes
    /// samples further towards the prompt. Needs a model trained with `uncond > 0`.
    pub guidance: f32,
    /// Give each walk the build (bone lengths) of one of the model's training subjects,
    /// drawn per walk from the seed, instead of the decoder's average build (see
    /// [`super::style`]). No effect with a model saved before builds were recorded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub subject_bodies: bool,
    /// Start each walk at a seeded random point of its stride, as real windows cut from
    /// longer walks do: the GPT continues the walk for half a window more (seeing the prompt
    /// and the last half window of gait tokens, as a training window that starts mid-walk),
    /// and the window is cut from the longer walk at an offset drawn per walk. Off, every
    /// walk starts where the GPT's first tokens put it, and those favour the common starts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub random_start: bool,
    /// Move each decoded feature's mean and variance to the training windows' of the walk's
    /// class (all classes' where a class had too few; the decoder's variance compensation, see
    /// [`super::variance`]): the decoder's reconstructions vary less than the data. No effect
    /// with a model saved before it was fitted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub match_variance: bool,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.95,
            seed: 0,
            count: 10,
            frames: 120,
            augment: 0.0,
            guidance: 1.0,
            subject_bodies: false,
            random_start: false,
            match_variance: false,
        }
    }
}

/// Generated sequences and the prompt they came from.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The expanded prompt (shown to the user before and after generation).
    pub prompt: ExpandedPrompt,
    /// Sequences on the common rig, labelled with the requested class and synthetic provenance.
    pub sequences: Vec<GaitSequence>,
}

/// Draws one token from `logits`, restricted to `[lo, hi)`, with temperature, top-k and top-p.
#[must_use]
pub fn sample_token(
    logits: &[f32],
    (lo, hi): (usize, usize),
    s: &Sampling,
    rng: &mut ChaCha8Rng,
) -> usize {
    let hi = hi.min(logits.len());
    if lo >= hi {
        return lo;
    }
    let t = s.temperature.max(1e-4);
    let mut cand: Vec<(usize, f32)> = (lo..hi).map(|i| (i, logits[i] / t)).collect();
    cand.sort_by(|a, b| b.1.total_cmp(&a.1));
    if s.top_k > 0 {
        cand.truncate(s.top_k);
    }
    let max = cand[0].1;
    let mut probs: Vec<f32> = cand.iter().map(|c| (c.1 - max).exp()).collect();
    let z: f32 = probs.iter().sum();
    for p in &mut probs {
        *p /= z;
    }
    if s.top_p < 1.0 {
        let mut acc = 0.0;
        let keep = probs.iter().position(|p| {
            acc += p;
            acc >= s.top_p
        });
        let keep = keep.map_or(probs.len(), |k| k + 1);
        probs.truncate(keep);
        cand.truncate(keep);
        let z: f32 = probs.iter().sum();
        for p in &mut probs {
            *p /= z;
        }
    }
    let r: f32 = rng.random_range(0.0..1.0);
    let mut acc = 0.0;
    for (c, p) in cand.iter().zip(&probs) {
        acc += p;
        if r < acc {
            return c.0;
        }
    }
    cand[cand.len() - 1].0
}

/// Generates sequences for a prompt.
///
/// # Errors
/// An invalid prompt or sampling setting, or cancellation.
pub fn generate(
    g: &GaitGenerator,
    prompt: &Prompt,
    s: &Sampling,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Generated, ModelError> {
    generate_batched(g, prompt, s, GEN_BATCH, progress, cancel)
}

/// [`generate`] with `batch` sequences sampled together (the benchmark varies it; the
/// sequences do not depend on it).
///
/// # Errors
/// As [`generate`].
pub fn generate_batched(
    g: &GaitGenerator,
    prompt: &Prompt,
    s: &Sampling,
    batch: usize,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Generated, ModelError> {
    generate_walks(g, prompt, None, s, batch, progress, cancel)
}

/// [`generate_batched`] where each walk may have its own prompt values and build: `walks`
/// holds `s.count` requests (the prompt's class, for its text and arms, should be theirs).
///
/// # Errors
/// As [`generate`], or a `walks` list of another length than `s.count`.
pub fn generate_walks(
    g: &GaitGenerator,
    prompt: &Prompt,
    walks: Option<&[WalkRequest]>,
    s: &Sampling,
    batch: usize,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Generated, ModelError> {
    if walks.is_some_and(|w| w.len() != s.count) {
        return Err(ModelError::Prompt(format!(
            "{} walk requests for {} walks",
            walks.map_or(0, <[WalkRequest]>::len),
            s.count
        )));
    }
    if s.temperature.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        || !(0.0..=1.0).contains(&s.top_p)
        || s.count == 0
        || s.frames < 2
        || !(s.guidance.is_finite() && s.guidance >= 0.0)
    {
        return Err(ModelError::Prompt(
            "temperature must be > 0, top-p in 0..1, count >= 1, frames >= 2 and guidance >= 0"
                .into(),
        ));
    }
    let expanded = expand(prompt, &g.manifest.vocab)?;
    let batch = batch.max(1);
    let starts: Vec<usize> = (0..s.count).step_by(batch).collect();
    // Batches are independent (each sequence has its own seeded sampler and the models are
    // read-only), so they run on parallel workers; the result does not depend on how many.
    progress.start("generating", s.count as u64);
    let results = run_parallel(
        &starts,
        "pathogait-generate",
        |_, &start| {
            if cancel.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            let b = (s.count - start).min(batch);
            let part = walks.map(|w| &w[start..start + b]);
            let seqs = generate_batch(g, prompt, &expanded, s, start, b, part, cancel)?;
            progress.advance(b as u64, seqs.last().map_or("", |q| q.id.as_str()));
            Ok(seqs)
        },
        || ModelError::Backend("a generation worker did not finish".into()),
    );
    progress.finish();
    let mut sequences = Vec::with_capacity(s.count);
    for r in results {
        sequences.extend(r?);
    }
    Ok(Generated {
        prompt: expanded,
        sequences,
    })
}

/// Generates `s.count` walks of `class`, each prompted with the values of one of the model's
/// training walks of that class (severity and descriptor bins, side), taken in a seeded
/// shuffle that uses every walk before repeating one: the synthetic set then covers the spread
/// of the real walks instead of the class's typical one. With [`Sampling::subject_bodies`]
/// each walk also takes the build of that walk's subject.
///
/// # Errors
/// An unknown class, a model saved before it recorded its training walks, or as [`generate`].
pub fn generate_like(
    g: &GaitGenerator,
    class: &str,
    s: &Sampling,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Generated, ModelError> {
    let m = &g.manifest;
    let c = m
        .vocab
        .class_index(class)
        .ok_or_else(|| ModelError::Prompt(format!("the model does not know class '{class}'")))?;
    let mut pool = training_walks(g, c);
    if pool.is_empty() {
        return Err(ModelError::Prompt(format!(
            "the model recorded no training walks of '{class}' (saved before walks were recorded: retrain it)"
        )));
    }
    pool.shuffle(&mut ChaCha8Rng::seed_from_u64(s.seed ^ 0x11ce));
    let walks: Vec<WalkRequest> = (0..s.count).map(|k| pool[k % pool.len()].clone()).collect();
    let prompt = Prompt {
        class: class.to_string(),
        ..Prompt::default()
    };
    generate_walks(g, &prompt, Some(&walks), s, GEN_BATCH, progress, cancel)
}

/// Requests for walks like each of the model's training walks of class index `c`, with the
/// build of the walk's subject, in the order the manifest records them.
pub(super) fn training_walks(g: &GaitGenerator, c: usize) -> Vec<WalkRequest> {
    g.manifest
        .subjects
        .iter()
        .enumerate()
        .flat_map(|(k, st)| {
            st.prompts
                .iter()
                .filter(|v| v.class == c)
                .map(move |v| WalkRequest {
                    values: v.clone(),
                    subject: Some(k),
                })
        })
        .collect()
}

/// One walk of a request whose walks differ (see [`generate_walks`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WalkRequest {
    /// Prompt values; the side inside is the walk's own (a mirrored model is prompted with
    /// the left side and the walk mirrored back, as for any right-affected walk).
    pub values: PromptValues,
    /// Index into the model's `subjects` of the build to take (with
    /// [`Sampling::subject_bodies`]); `None` draws one.
    pub subject: Option<usize>,
}

/// Samples and decodes sequences `start..start + b` of a request (one batch); `walks`, when
/// given, holds this batch's per-walk requests.
#[allow(clippy::too_many_arguments)] // one batch of a request: the request's parts and its range
fn generate_batch(
    g: &GaitGenerator,
    prompt: &Prompt,
    expanded: &ExpandedPrompt,
    s: &Sampling,
    start: usize,
    b: usize,
    walks: Option<&[WalkRequest]>,
    cancel: &CancelToken,
) -> Result<Vec<GaitSequence>, ModelError> {
    let d = sample_decode(g, prompt, expanded, s, start, b, walks, cancel)?;
    Ok((0..b)
        .map(|i| {
            let walk = DecodedWalk {
                index: start + i,
                side: d.sides[i],
                mirror: d.mirrored[i],
                request: walks.map(|w| &w[i]),
                rows: d.window(i),
                start: (d.t > d.frames).then_some((d.offsets[i], d.t)),
            };
            finish_walk(g, prompt, expanded, s, &walk)
        })
        .collect())
}

/// One batch of walks sampled and decoded, before they become sequences.
pub(super) struct DecodedBatch {
    /// Standardised feature rows of every walk, `t` per walk, in the model's (mirrored) space.
    rows: Vec<[f32; FEATURES]>,
    /// Decoded frames per walk (longer than the window with a continuation).
    t: usize,
    /// Frames of each walk's window.
    frames: usize,
    /// Where each walk's window starts in its decoded frames.
    offsets: Vec<usize>,
    sides: Vec<Option<Side>>,
    /// Prompted as left, to be mirrored back.
    mirrored: Vec<bool>,
}

impl DecodedBatch {
    /// Walk `i`'s window of standardised rows, before any variance filter.
    pub(super) fn window(&self, i: usize) -> &[[f32; FEATURES]] {
        let at = i * self.t + self.offsets[i];
        &self.rows[at..at + self.frames]
    }
}

/// Samples the gait tokens of walks `start..start + b` of a request and decodes them.
#[allow(clippy::too_many_arguments)] // as generate_batch
pub(super) fn sample_decode(
    g: &GaitGenerator,
    prompt: &Prompt,
    expanded: &ExpandedPrompt,
    s: &Sampling,
    start: usize,
    b: usize,
    walks: Option<&[WalkRequest]>,
    cancel: &CancelToken,
) -> Result<DecodedBatch, ModelError> {
    let m = &g.manifest;
    let device = &g.device;
    let mut rngs: Vec<ChaCha8Rng> = (0..b)
        .map(|i| ChaCha8Rng::seed_from_u64(s.seed.wrapping_add((start + i) as u64)))
        .collect();
    // An unnamed side is drawn per walk first, so the walk keeps it whatever is sampled after.
    let sides: Vec<Option<Side>> = rngs
        .iter_mut()
        .enumerate()
        .map(|(i, r)| match walks {
            Some(w) => w[i].values.side,
            None => expanded
                .side_draw
                .map_or(prompt.side, |p| draw_side(p, r.random_range(0.0..1.0))),
        })
        .collect();
    // A mirrored model knows one-sided walks as left-affected only: right-side walks are
    // prompted as left and mirrored back after decoding.
    let mirrored: Vec<bool> = sides
        .iter()
        .map(|side| m.plan.mirror_right && *side == Some(Side::Right))
        .collect();
    let mut tokens: Vec<Vec<usize>> = rngs
        .iter_mut()
        .enumerate()
        .map(|(i, r)| {
            let mut v = walks.map_or_else(|| expanded.values.clone(), |w| w[i].values.clone());
            v.side = if mirrored[i] {
                Some(Side::Left)
            } else {
                sides[i]
            };
            m.vocab.prompt_tokens(&augment(&v, s.augment, r))
        })
        .collect();
    let window_steps = m.tokenizer.latent_steps(m.window.frames);
    sample_tokens(g, s, &mut tokens, &mut rngs, 0, 3 * window_steps, cancel)?;
    let extra_steps = continuation_steps(g, s);
    if extra_steps > 0 {
        // The continuation sees the prompt and the last half window, so the GPT's context
        // holds exactly one window's tokens, as in training.
        let keep = 3 * (window_steps - extra_steps);
        sample_tokens(g, s, &mut tokens, &mut rngs, keep, 3 * extra_steps, cancel)?;
    }
    // L2G: tokens back to codebook indices, per branch, row-major per sample.
    let mut codes: [Vec<usize>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for t in &tokens {
        for tok in &t[m.vocab.prompt_len()..] {
            if let Some((kind, c)) = m.vocab.decode_gait(*tok) {
                let i = CodeKind::ORDER.iter().position(|k| *k == kind).unwrap_or(0);
                codes[i].push(c);
            }
        }
    }
    let feats = g.tokenizer.decode(&codes, b, device).swap_dims(1, 2); // [B, T, F]
    let t = feats.dims()[1];
    let rows = feature_rows(&read_floats(feats, "decoding generated tokens")?);
    // With a continuation, T is longer than the window: each walk's window starts at an
    // offset of its own (a stream apart from the sampler's, so the tokens do not change).
    let frames = m.window.frames.min(t);
    let offsets = (0..b)
        .map(|i| {
            if t > frames {
                ChaCha8Rng::seed_from_u64(s.seed.wrapping_add((start + i) as u64) ^ 0x5747_a127)
                    .random_range(0..=t - frames)
            } else {
                0
            }
        })
        .collect();
    Ok(DecodedBatch {
        rows,
        t,
        frames,
        offsets,
        sides,
        mirrored,
    })
}

/// One decoded walk of a batch, before it becomes a sequence.
struct DecodedWalk<'a> {
    /// Index in the request (seed offset and id).
    index: usize,
    side: Option<Side>,
    /// Prompted as left, to be mirrored back.
    mirror: bool,
    request: Option<&'a WalkRequest>,
    /// Standardised feature rows.
    rows: &'a [[f32; FEATURES]],
    /// With a continuation: the first frame of `rows` in the continued walk, and its frames.
    start: Option<(usize, usize)>,
}

/// A decoded walk as a sequence: de-standardised, mirrored back, given a build, resampled to
/// the frames asked for, with arms where the training walks had them, and its provenance.
fn finish_walk(
    g: &GaitGenerator,
    prompt: &Prompt,
    expanded: &ExpandedPrompt,
    s: &Sampling,
    w: &DecodedWalk<'_>,
) -> GaitSequence {
    let m = &g.manifest;
    // The class's own filter where it had windows enough: pooled over the classes, the gaps
    // between them (which the decoder keeps) hide how much it squashes each class's spread.
    let class = expanded.values.class;
    let (filter, whose) = match (
        m.variance_sampled_by_class.get(class),
        m.variance_by_class.get(class),
    ) {
        (Some(v), _) if !v.is_empty() => (
            v,
            "the class's training windows, fitted to the model's own sampled walks",
        ),
        (_, Some(v)) if !v.is_empty() => (v, "the class's training windows"),
        _ => (&m.variance, "the training windows"),
    };
    let matched = s.match_variance && !filter.is_empty();
    let decoded: Vec<[f32; FEATURES]> = w
        .rows
        .iter()
        .map(|r| {
            let f = if matched {
                m.normalizer.invert(&filter.apply(r))
            } else {
                m.normalizer.invert(r)
            };
            if w.mirror { mirror_frame(&f) } else { f }
        })
        .collect();
    let seed = s.seed.wrapping_add(w.index as u64);
    let subject = w.request.and_then(|r| r.subject);
    let (frames, body_note) = subject_body(decoded, &m.subjects, s.subject_bodies, subject, seed);
    // A walk asked for by prompt values has the severity of its bin's middle.
    let severity = w.request.map_or(prompt.severity, |r| {
        (r.values.severity_bin as f32 + 0.5) / BINS as f32
    });
    let like_note = w.request.map_or_else(String::new, |r| {
        format!(
            "; prompted with the values of a training walk: severity bin {}, descriptor bins {:?}",
            r.values.severity_bin, r.values.bins
        )
    });
    let variance_note = if matched {
        let (lo, hi) = filter.scale_range();
        format!("; decoder variance matched to {whose} (x{lo:.2}-{hi:.2})")
    } else {
        String::new()
    };
    let start_note = w.start.map_or_else(String::new, |(off, t)| {
        format!("; cut from frame {off} of a {t}-frame walk (random start)")
    });
    // Arms swing with the decoded legs where the training walks had arms.
    let arms = arm_targets(expanded, &m.vocab, &m.class_priors, severity, w.side);
    let arm_note = arms.map_or_else(String::new, |r| {
        format!(
            "; arms added after decoding, swinging with the opposite thigh, arm-swing ROM L {:.1} R {:.1} deg",
            r[0], r[1]
        )
    });
    let prov = Provenance::Generated {
        model: format!("{} ({})", m.name, g.weights_hash),
        prompt: expanded.text.clone(),
        seed,
        sampling: format!(
            "temperature {} top-k {} top-p {} guidance {}{like_note}{body_note}{start_note}{variance_note}{arm_note}",
            s.temperature, s.top_k, s.top_p, s.guidance
        ),
    };
    let class = &m.vocab.classes[expanded.values.class];
    let id = format!("gen_{class}_{:04}", w.index);
    let mut seq = features_to_sequence(&frames, m.window.fps, &id, Some(class.clone()), prov);
    seq.side = w.side;
    seq.severity = Some(severity);
    if s.frames != seq.frames() {
        seq = resample_frames(&seq, s.frames);
    }
    if let Some(rom) = arms {
        seq = with_arms(&seq, rom);
    }
    seq
}

/// `frames` with the build of a training subject when `on` (and the model recorded builds):
/// `subject` when given, else one drawn from `seed`; and the provenance note saying whose.
fn subject_body(
    frames: Vec<[f32; FEATURES]>,
    subjects: &[SubjectStyle],
    on: bool,
    subject: Option<usize>,
    seed: u64,
) -> (Vec<[f32; FEATURES]>, String) {
    if !on || subjects.is_empty() {
        return (frames, String::new());
    }
    // A stream of its own, so the draw does not change what the sampler draws.
    let k = subject.filter(|k| *k < subjects.len()).unwrap_or_else(|| {
        ChaCha8Rng::seed_from_u64(seed ^ 0x00b0_d1e5).random_range(0..subjects.len())
    });
    let b = &subjects[k];
    (
        retarget(&frames, b),
        format!(
            "; build of training subject {} (leg {:.3} m)",
            b.subject,
            b.leg_length()
        ),
    )
}

/// Latent steps sampled past the window for [`Sampling::random_start`]: half a window (about
/// one stride at the default 64 frames), or none.
fn continuation_steps(g: &GaitGenerator, s: &Sampling) -> usize {
    if s.random_start {
        g.manifest.tokenizer.latent_steps(g.manifest.window.frames) / 2
    } else {
        0
    }
}

/// Extends every sequence in `tokens` (prompt, then the gait tokens sampled so far) by `steps`
/// gait tokens, one latent step's code per position (spatial, temporal, pathological in
/// turn), sampling each sequence with its own generator. The GPT sees the prompt and the last
/// `keep` gait tokens (all of them on the first call, `keep` 0, when there are none), from
/// position 0, as a training window that starts there. With guidance, a null-prompt pass
/// over the same gait tokens shifts the logits.
fn sample_tokens(
    g: &GaitGenerator,
    s: &Sampling,
    tokens: &mut [Vec<usize>],
    rngs: &mut [ChaCha8Rng],
    keep: usize,
    steps: usize,
    cancel: &CancelToken,
) -> Result<(), ModelError> {
    let m = &g.manifest;
    let b = tokens.len();
    let p = m.vocab.prompt_len();
    let done = tokens.first().map_or(0, |t| t.len().saturating_sub(p));
    if keep > done || p + keep + steps > g.gpt.context() {
        return Err(ModelError::Prompt(format!(
            "sampling {steps} gait tokens after {keep} of {done}: more than the model's context of {}",
            g.gpt.context()
        )));
    }
    let input = |feed: &[Vec<usize>]| {
        let l = feed.first().map_or(0, Vec::len);
        let flat: Vec<i64> = feed
            .iter()
            .flat_map(|t| t.iter().map(|x| *x as i64))
            .collect();
        Tensor::<2, Int>::from_data(TensorData::new(flat, [b, l]), &g.device)
    };
    let mut cache = KvCache::default();
    // The prompt and kept tokens go in whole; afterwards only the newest token each step
    // (KV cache).
    let context = |head: &[usize], t: &[usize]| -> Vec<usize> {
        head.iter().chain(&t[t.len() - keep..]).copied().collect()
    };
    let mut feed: Vec<Vec<usize>> = tokens.iter().map(|t| context(&t[..p], t)).collect();
    // Guidance runs a second, null-prompt pass over the same sampled gait tokens.
    let guided = (s.guidance - 1.0).abs() > f32::EPSILON;
    let mut ucache = KvCache::default();
    let null = m.vocab.null_prompt();
    let mut ufeed: Vec<Vec<usize>> = tokens.iter().map(|t| context(&null, t)).collect();
    for step in 0..steps {
        if cancel.is_cancelled() {
            return Err(ModelError::Cancelled);
        }
        let logits = g.gpt.forward_step(input(&feed), &mut cache); // [B, V]
        let v = logits.dims()[1];
        let mut last = read_floats(logits, "sampling gait tokens")?;
        if guided {
            let u = read_floats(
                g.gpt.forward_step(input(&ufeed), &mut ucache),
                "guidance pass",
            )?;
            for (c, u) in last.iter_mut().zip(&u) {
                *c = u + s.guidance * (*c - u);
            }
        }
        if last.len() != b * v {
            return Err(ModelError::Backend(format!(
                "sampling gait tokens: {} logits read, {} expected",
                last.len(),
                b * v
            )));
        }
        let range = m.vocab.code_range(CodeKind::ORDER[(done + step) % 3]);
        for (i, t) in tokens.iter_mut().enumerate() {
            let next = sample_token(&last[i * v..(i + 1) * v], range, s, &mut rngs[i]);
            t.push(next);
            feed[i] = vec![next];
            ufeed[i] = vec![next];
        }
    }
    Ok(())
}

/// FLOPs of generating `count` sequences: the prompt pass and one cached step per gait token
/// through the GPT (twice with guidance), then the tokeniser's decoder.
#[must_use]
pub fn generation_flops(g: &GaitGenerator, s: &Sampling) -> f64 {
    let m = &g.manifest;
    let prompt = m.vocab.prompt_len();
    let steps = 3 * m.tokenizer.latent_steps(m.window.frames);
    let mut gpt = m.gpt.forward_flops(s.count, prompt, prompt);
    // Step k (after the prompt) feeds one token that attends over prompt + k positions.
    for k in 1..steps {
        gpt += m.gpt.forward_flops(s.count, 1, prompt + k);
    }
    // A continuation feeds the prompt and half a window whole, then one token per step.
    let extra = 3 * continuation_steps(g, s);
    if extra > 0 {
        let keep = steps - extra;
        gpt += m.gpt.forward_flops(s.count, prompt + keep, prompt + keep);
        for k in 1..extra {
            gpt += m.gpt.forward_flops(s.count, 1, prompt + keep + k);
        }
    }
    let passes = if (s.guidance - 1.0).abs() > f32::EPSILON {
        2.0
    } else {
        1.0
    };
    let decoded = m.window.frames + continuation_steps(g, s) * m.tokenizer.downsample.max(1);
    passes * gpt + m.tokenizer.decode_flops(s.count, decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_respects_range_top_k_and_seed() {
        let logits = [5.0, 0.0, 1.0, 2.0, 3.0, -1.0];
        let s = Sampling {
            top_k: 2,
            top_p: 1.0,
            ..Sampling::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let t = sample_token(&logits, (1, 5), &s, &mut rng);
            assert!(t == 3 || t == 4, "{t}");
        }
        let cold = Sampling {
            temperature: 1e-3,
            ..Sampling::default()
        };
        assert_eq!(sample_token(&logits, (1, 6), &cold, &mut rng), 4);
        let draw = |seed| {
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| sample_token(&logits, (0, 6), &Sampling::default(), &mut r))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
    }
}
