//! Training a generator end to end: windows and vocabulary, the tokeniser stage (resumable
//! from a checkpoint), codes, the GPT stage, and what training measured, assembled into a
//! [`GaitGenerator`] with its manifest.

use std::path::Path;
use std::time::Instant;

use burn::prelude::*;

use super::ModelError;
use super::bundle::{
    BUNDLE_VERSION, GaitGenerator, Manifest, TrainPlan, TrainReport, files_err, save_module,
};
use super::checkpoint::StageCheckpoint;
use super::data::{TrainingSet, build_training_set};
use super::gpt::{Gpt, GptConfig};
use super::gpt_training::{SampleScore, train_gpt};
use super::metrics::{TokenisedWindow, class_reference, pooled_mpjpe_mm, tokenise_windows};
use super::style::{SubjectStyle, subject_styles};
use super::tokenizer::{GaitTokenizer, TokenizerConfig};
use super::training::{StageEnd, StepLog, train_tokenizer};
use super::variance::{Moments, VarianceMatch};
use super::vq::{CodeUsage, VqEma, code_usage};
use crate::core::data::Dataset;
use crate::core::fsutil::write_atomic;
use crate::core::jobs::{CancelToken, Progress};

/// Whole subjects held out of training (the same k-fold machinery as evaluation, so no
/// subject straddles): `(held-out subjects, held-out windows, training windows)`.
#[must_use]
pub fn heldout_split(
    ds: &Dataset,
    plan: &TrainPlan,
    set: &TrainingSet,
) -> (Vec<String>, Vec<usize>, Vec<usize>) {
    let k = (1.0 / plan.heldout_fraction.clamp(0.05, 0.5)).round() as usize;
    let heldout_subjects = if ds.subjects().len() >= 3 {
        ds.kfold_by_subject(k, plan.seed)
            .first()
            .map(|f| f.test_subjects.clone())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (heldout, train_idx): (Vec<usize>, Vec<usize>) =
        (0..set.windows.len()).partition(|&i| heldout_subjects.contains(&set.windows[i].subject));
    (heldout_subjects, heldout, train_idx)
}

/// A finished tokeniser with its codebook statistics and log.
type SavedTokenizer = (GaitTokenizer, Vec<VqEma>, Vec<StepLog>);

/// A finished tokeniser saved in `checkpoint` by an earlier run of the same plan (`key`):
/// `(weights, codebook statistics, log)`; `None` when there is none or it was another plan's.
fn resumed_tokenizer(
    checkpoint: Option<&Path>,
    key: &str,
    tcfg: &TokenizerConfig,
    device: &Device,
) -> Result<Option<SavedTokenizer>, ModelError> {
    let Some(dir) = checkpoint else {
        return Ok(None);
    };
    let (w, m) = (dir.join("tokenizer.bpk"), dir.join("tokenizer.ron"));
    if !(w.exists() && m.exists()) {
        return Ok(None);
    }
    // A checkpoint that exists must read: resuming never quietly starts over.
    let text = std::fs::read_to_string(&m)
        .map_err(|e| files_err(&m, format!("cannot read checkpoint: {e}")))?;
    let (saved_key, emas, log): (String, Vec<VqEma>, Vec<StepLog>) =
        ron::from_str(&text).map_err(|e| files_err(&m, format!("cannot read checkpoint: {e}")))?;
    if saved_key != key {
        return Ok(None);
    }
    let tok = tcfg
        .init(device)
        .try_load_file(&w)
        .map_err(|e| files_err(&w, format!("cannot load checkpoint: {e:?}")))?;
    Ok(Some((tok, emas, log)))
}

/// The tokeniser stage: resumed from `checkpoint` when a finished one of the same plan is
/// there, else trained (mid-stage checkpoints through `stage_ckpt`) and saved there.
#[allow(clippy::too_many_arguments)] // train() is the one caller
fn tokenizer_stage(
    set: &TrainingSet,
    split: (&[usize], &[usize]),
    tcfg: &TokenizerConfig,
    plan: &TrainPlan,
    key: &str,
    checkpoint: Option<&Path>,
    stage_ckpt: Option<&StageCheckpoint>,
    device: &Device,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(GaitTokenizer, Vec<VqEma>, Vec<StepLog>, StageEnd), ModelError> {
    if let Some((t, e, l)) = resumed_tokenizer(checkpoint, key, tcfg, device)? {
        return Ok((t, e, l, StageEnd::default()));
    }
    let (tok, emas, log, end) = train_tokenizer(
        set,
        split.0,
        split.1,
        tcfg,
        &plan.tokenizer_stage,
        &plan.weights,
        device,
        plan.seed,
        stage_ckpt,
        progress,
        cancel,
    )?;
    if let Some(dir) = checkpoint {
        let (w, m) = (dir.join("tokenizer.bpk"), dir.join("tokenizer.ron"));
        std::fs::create_dir_all(dir).map_err(|e| files_err(dir, e))?;
        save_module(tok.clone(), &w)?;
        let text = ron::to_string(&(key.to_string(), emas.to_vec(), log.clone()))
            .map_err(|e| files_err(&m, e))?;
        write_atomic(&m, text.as_bytes()).map_err(|e| files_err(&m, e))?;
    }
    Ok((tok, emas.to_vec(), log, end))
}

/// Every 10th step of a log, with the first and the last.
fn thinned(log: &[StepLog]) -> Vec<StepLog> {
    let last = log.last().map(|e| e.step);
    log.iter()
        .filter(|l| l.step % 10 == 0 || l.step == 1 || Some(l.step) == last)
        .copied()
        .collect()
}

/// What training measured: tokeniser MPJPE on training and held-out windows, code usage,
/// the class reference and the stage logs.
#[allow(clippy::too_many_arguments)] // train() is the one caller
fn train_report(
    set: &TrainingSet,
    tokenizer: &GaitTokenizer,
    tcfg: &TokenizerConfig,
    tokenised: &[TokenisedWindow],
    split: (&[usize], &[usize], Vec<String>),
    plan: &TrainPlan,
    stages: ((Vec<StepLog>, StageEnd), (Vec<StepLog>, StageEnd)),
    device: &Device,
) -> Result<TrainReport, ModelError> {
    let (train_idx, heldout, heldout_subjects) = split;
    let ((tok_log, tokenizer_end), (gpt_log, gpt_end)) = stages;
    let pick = |idx: &[usize]| -> Vec<&super::data::Window> {
        idx.iter().map(|&i| &set.windows[i]).collect()
    };
    let code_usage_all: Vec<CodeUsage> = (0..3)
        .map(|b| {
            code_usage(
                &tokenised
                    .iter()
                    .flat_map(|t| t.codes[b].iter().copied())
                    .collect::<Vec<_>>(),
                tcfg.codes[b],
            )
        })
        .collect();
    Ok(TrainReport {
        backend: String::new(),
        seconds: 0.0,
        windows: (train_idx.len(), heldout.len()),
        mpjpe_train_mm: pooled_mpjpe_mm(train_idx.iter().map(|&i| &tokenised[i])),
        mpjpe_heldout_mm: pooled_mpjpe_mm(heldout.iter().map(|&i| &tokenised[i])),
        heldout_subjects,
        code_usage: code_usage_all,
        class_reference: class_reference(
            tokenizer,
            &pick(train_idx),
            &set.vocab.classes,
            &set.normalizer,
            plan.window.fps,
            &set.priors.classes,
            device,
        )?,
        tokenizer_log: thinned(&tok_log),
        gpt_log: thinned(&gpt_log),
        tokenizer_end,
        gpt_end,
    })
}

/// The training set's subjects: builds from every fourth frame of their raw
/// (de-standardised) windows (medians need no more; windows overlap), and the prompt values
/// of each of their walks with the walk's own side (training windows of right-affected walks
/// carry the mirrored side).
fn training_subjects(ds: &Dataset, set: &TrainingSet) -> Vec<SubjectStyle> {
    let mut styles = subject_styles(set.windows.iter().flat_map(|w| {
        w.frames
            .iter()
            .step_by(4)
            .map(|f| (w.subject.as_str(), set.normalizer.invert(f)))
    }));
    let side_of: std::collections::HashMap<&str, _> = ds
        .sequences
        .iter()
        .map(|q| (q.id.as_str(), q.side))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for w in &set.windows {
        if !seen.insert(w.sequence.as_str()) {
            continue;
        }
        if let Some(st) = styles.iter_mut().find(|st| st.subject == w.subject) {
            let mut v = w.prompt.clone();
            v.side = side_of.get(w.sequence.as_str()).copied().flatten();
            st.prompts.push(v);
        }
    }
    styles
}

/// A held-out measure of a generator whose GPT is still training (lower is better): the
/// draft generator (its tokeniser finished, its GPT at the current step), the training set
/// and the GPT's training windows (indices into it). See [`super::sample_check`].
pub type GeneratorScore<'a> =
    dyn Fn(&GaitGenerator, &TrainingSet, &[usize]) -> Result<f32, ModelError> + 'a;

/// Trains a generator end to end: windows and vocabulary, tokeniser (held-out subjects kept
/// out), codes, GPT, measurements. `resume` reuses a tokeniser already saved in `checkpoint`
/// by an earlier run of the same plan, so an interrupted run restarts at the GPT stage.
///
/// # Errors
/// Unusable data, cancellation, or checkpoint files that cannot be written.
#[allow(clippy::too_many_arguments)] // the plan, the data, the device and the job plumbing
pub fn train(
    ds: &Dataset,
    plan: &TrainPlan,
    name: &str,
    device: &Device,
    backend: &str,
    checkpoint: Option<&Path>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<GaitGenerator, ModelError> {
    train_with(
        ds, plan, name, device, backend, checkpoint, None, progress, cancel,
    )
}

/// [`train`], with the GPT's held-out checks measured by `score` instead of its next-token
/// loss when given.
///
/// # Errors
/// As [`train`], or a failing `score`.
#[allow(clippy::too_many_arguments)] // as train, and the check
pub fn train_with(
    ds: &Dataset,
    plan: &TrainPlan,
    name: &str,
    device: &Device,
    backend: &str,
    checkpoint: Option<&Path>,
    score: Option<&GeneratorScore>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<GaitGenerator, ModelError> {
    let t0 = Instant::now();
    let set: TrainingSet = build_training_set(
        ds,
        &plan.window,
        plan.tokenizer.codes,
        plan.normal_class.as_deref(),
        plan.mirror_right,
        progress,
        cancel,
    )?;
    let tcfg = TokenizerConfig {
        classes: set.vocab.classes.len(),
        priors: 4,
        ..plan.tokenizer
    };
    let (heldout_subjects, heldout, train_idx) = heldout_split(ds, plan, &set);
    let plan_key =
        ron::to_string(plan).map_err(|e| ModelError::Data(format!("training plan: {e}")))?;
    let stage_ckpt = checkpoint.map(|dir| StageCheckpoint {
        dir: dir.to_path_buf(),
        every: plan.checkpoint_every,
        key: plan_key.clone(),
    });
    let (tokenizer, emas, tok_log, tok_end) = tokenizer_stage(
        &set,
        (&train_idx, &heldout),
        &tcfg,
        plan,
        &plan_key,
        checkpoint,
        stage_ckpt.as_ref(),
        device,
        progress,
        cancel,
    )?;
    let all: Vec<&super::data::Window> = set.windows.iter().collect();
    let tokenised = tokenise_windows(&tokenizer, &all, &set.normalizer, device)?;
    let codes: Vec<[Vec<usize>; 3]> = tokenised.iter().map(|t| t.codes.clone()).collect();
    let gcfg = GptConfig {
        vocab: set.vocab.size(),
        context: set.vocab.prompt_len() + 3 * tcfg.latent_steps(plan.window.frames) + 1,
        width: plan.gpt_width,
        layers: plan.gpt_layers,
        heads: plan.gpt_heads,
        dropout: plan.gpt_dropout,
    };
    // Everything but the GPT and the report is known now: a sample check decodes with it.
    let mut manifest = draft_manifest(
        ds,
        &set,
        plan,
        name,
        (tcfg, gcfg),
        emas,
        &tokenised,
        &train_idx,
    );
    let gpt_score = |gpt: &Gpt| -> Result<f32, ModelError> {
        let Some(f) = score else { return Ok(f32::NAN) };
        let g = GaitGenerator {
            manifest: manifest.clone(),
            tokenizer: tokenizer.clone(),
            gpt: gpt.clone(),
            device: device.clone(),
            weights_hash: "training".into(),
        };
        f(&g, &set, &train_idx)
    };
    let (gpt, gpt_log, gpt_end) = train_gpt(
        plan.gpt2_init.as_deref(),
        &set,
        &codes,
        &train_idx,
        &heldout,
        &gcfg,
        &plan.gpt_stage,
        plan.augment,
        plan.uncond,
        device,
        plan.seed,
        stage_ckpt.as_ref(),
        score.map(|_| &gpt_score as &SampleScore),
        progress,
        cancel,
    )?;
    let mut report = train_report(
        &set,
        &tokenizer,
        &tcfg,
        &tokenised,
        (&train_idx, &heldout, heldout_subjects),
        plan,
        ((tok_log, tok_end), (gpt_log, gpt_end)),
        device,
    )?;
    report.backend = backend.to_string();
    report.seconds = t0.elapsed().as_secs_f64();
    manifest.report = report;
    Ok(GaitGenerator {
        manifest,
        tokenizer,
        gpt,
        device: device.clone(),
        weights_hash: "unsaved".into(),
    })
}

/// The manifest of a generator trained on `set` by `plan`, its report left empty.
#[allow(clippy::too_many_arguments)] // the pieces train_with has made so far
fn draft_manifest(
    ds: &Dataset,
    set: &TrainingSet,
    plan: &TrainPlan,
    name: &str,
    (tokenizer, gpt): (TokenizerConfig, GptConfig),
    emas: Vec<VqEma>,
    tokenised: &[TokenisedWindow],
    train_idx: &[usize],
) -> Manifest {
    Manifest {
        version: BUNDLE_VERSION,
        name: name.to_string(),
        trained_on: format!(
            "{} ({} walks, {} subjects)",
            ds.name,
            ds.sequences.len(),
            ds.subjects().len()
        ),
        plan: plan.clone(),
        window: plan.window,
        tokenizer,
        gpt,
        vocab: set.vocab.clone(),
        normalizer: set.normalizer.clone(),
        aux_scale: set.aux_scale.clone(),
        emas,
        class_priors: set.priors.classes.clone(),
        report: TrainReport::default(),
        subjects: training_subjects(ds, set),
        variance: VarianceMatch::fit(train_idx.iter().map(|&i| &tokenised[i].moments)),
        variance_by_class: (0..set.vocab.classes.len())
            .map(|c| {
                let of_class: Vec<&Moments> = train_idx
                    .iter()
                    .filter(|&&i| set.windows[i].class == c)
                    .map(|&i| &tokenised[i].moments)
                    .collect();
                VarianceMatch::fit_class(&of_class)
            })
            .collect(),
        variance_sampled_by_class: Vec::new(),
    }
}
