//! The GPT's training loop: next-token cross-entropy on prompt + gait-token sequences of the
//! tokenised windows, data-parallel steps (see [`super::parallel`]), held-out plateau stops.

use burn::optim::AdamConfig;
use burn::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ModelError;
use super::checkpoint::StageCheckpoint;
use super::data::{TrainingSet, augment};
use super::gpt::{Gpt, GptConfig};
use super::parallel::{lm_mean_loss, lm_step, materialise, seeded};
use super::training::{
    LOSS_READ_EVERY, Plateau, StageConfig, StageEnd, StepLog, check_due, check_subset, read_due,
    read_pending,
};
use super::vocab::{CodeKind, EOS, Vocab};
use crate::core::jobs::{CancelToken, Progress};

/// A training sequence for the GPT: prompt tokens, gait tokens interleaved per latent step
/// (spatial, temporal, pathological), EOS.
#[must_use]
pub fn token_sequence(
    vocab: &Vocab,
    prompt: &super::vocab::PromptValues,
    codes: &[Vec<usize>; 3],
) -> Vec<usize> {
    let mut t = vocab.prompt_tokens(prompt);
    for step in 0..codes[0].len() {
        for (i, kind) in CodeKind::ORDER.into_iter().enumerate() {
            t.push(vocab.gait_token(kind, codes[i][step]));
        }
    }
    t.push(EOS);
    t
}

/// Token sequences of the windows `idx`, prompts augmented (probability `augment_p` per bin)
/// and, with probability `uncond_p`, replaced by the null prompt.
fn training_sequences(
    set: &TrainingSet,
    codes: &[[Vec<usize>; 3]],
    idx: &[usize],
    augment_p: f64,
    uncond_p: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    idx.iter()
        .map(|&i| {
            let mut t = token_sequence(
                &set.vocab,
                &augment(&set.windows[i].prompt, augment_p, rng),
                &codes[i],
            );
            // Classifier-free guidance needs the unconditional model too: sometimes the
            // prompt says nothing.
            if uncond_p > 0.0 && rng.random_bool(uncond_p.clamp(0.0, 1.0)) {
                let null = set.vocab.null_prompt();
                t[..null.len()].copy_from_slice(&null);
            }
            t
        })
        .collect()
}

/// Mean next-token cross-entropy of `model` on the `heldout` windows' own prompts.
fn gpt_heldout_loss(
    model: &Gpt,
    set: &TrainingSet,
    codes: &[[Vec<usize>; 3]],
    heldout: &[usize],
    context: usize,
    device: &Device,
) -> Result<f32, ModelError> {
    let prompt_len = set.vocab.prompt_len();
    let seqs: Vec<Vec<usize>> = heldout
        .iter()
        .map(|&i| token_sequence(&set.vocab, &set.windows[i].prompt, &codes[i]))
        .collect();
    let mut total = 0.0f64;
    for chunk in seqs.chunks(64) {
        let (l, _) = lm_mean_loss(model, chunk, prompt_len, context, device)?;
        total += f64::from(l) * chunk.len() as f64;
    }
    Ok((total / seqs.len().max(1) as f64) as f32)
}

/// A held-out measure of the GPT's weights other than its next-token loss (lower is better),
/// e.g. [`super::sample_check::sample_distance`] of what it samples.
pub type SampleScore<'a> = dyn Fn(&Gpt) -> Result<f32, ModelError> + 'a;

/// What a sample check's measurements are called in logs and reasons to stop.
pub const SAMPLE_MEASURE: &str = "sample distance";

/// Trains the GPT on token sequences of the `train` windows, with semantic augmentation of the
/// prompts (probability `augment_p` per bin). Loss is next-token cross-entropy on the gait
/// tokens and EOS (the prompt is given, not predicted). `init` optionally loads pretrained
/// GPT-2 blocks first (see [`super::gpt2_import`]). `score`, when given, replaces the held-out
/// next-token loss at every check (plateau stops and kept weights follow it).
///
/// # Errors
/// Cancellation, or no training windows.
#[allow(clippy::too_many_arguments)] // as for train_tokenizer
pub fn train_gpt(
    init: Option<&std::path::Path>,
    set: &TrainingSet,
    codes: &[[Vec<usize>; 3]],
    train: &[usize],
    heldout: &[usize],
    cfg: &GptConfig,
    stage: &StageConfig,
    augment_p: f64,
    uncond_p: f64,
    device: &Device,
    seed: u64,
    ckpt: Option<&StageCheckpoint>,
    score: Option<&SampleScore>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<(Gpt, Vec<StepLog>, StageEnd), ModelError> {
    if train.is_empty() {
        return Err(ModelError::Data("no training windows".into()));
    }
    let ad = device.clone().autodiff();
    // Weight initialisation draws from the backend's process-wide generator: seeded, so a run
    // is repeatable, and under the lock other threads' models are built under.
    let mut model = seeded(&ad, seed, || -> Result<Gpt, ModelError> {
        let mut m = cfg.init(&ad);
        if let Some(path) = init {
            m = m.load_gpt2(path)?.0;
        }
        materialise(&m);
        Ok(m)
    })?;
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let prompt_len = set.vocab.prompt_len();
    let mut order: Vec<usize> = train.to_vec();
    let mut log = Vec::with_capacity(stage.steps);
    let mut start = 1;
    let resumed = match ckpt {
        Some(c) => c.load::<_, Vec<usize>>("gpt", model.clone(), AdamConfig::new().init())?,
        None => None,
    };
    if let Some(r) = resumed {
        (model, optim, rng, log, order, start) =
            (r.model, r.optim, r.rng, r.log, r.extra, r.step + 1);
    }
    // The weights of the best held-out check so far, when the stage keeps them.
    let mut best: Option<(usize, Gpt)> = None;
    // The last step taken (the step log keeps only some steps).
    let mut last = start - 1;
    let heldout = check_subset(heldout);
    let heldout = heldout.as_slice();
    let measure = |m: &Gpt| match score {
        Some(f) => f(m),
        None => gpt_heldout_loss(m, set, codes, heldout, cfg.context, device),
    };
    let what = if score.is_some() {
        SAMPLE_MEASURE
    } else {
        "held-out loss"
    };
    let (mut plateau, mut end) = (Plateau::new(what), StageEnd::default());
    end.measure = score.map(|_| SAMPLE_MEASURE.to_string());
    progress.start("training GPT", stage.steps as u64);
    progress.advance((start - 1) as u64, "resumed from checkpoint");
    // Step losses wait on the device and are read LOSS_READ_EVERY steps at a time.
    let mut pending: Vec<(usize, Tensor<1>)> = Vec::with_capacity(LOSS_READ_EVERY);
    let mut shown = String::from("cross-entropy …");
    for step in start..=stage.steps {
        if cancel.is_cancelled() {
            progress.finish();
            return Err(ModelError::Cancelled);
        }
        order.shuffle(&mut rng);
        let idx: Vec<usize> = order
            .iter()
            .copied()
            .cycle()
            .take(stage.batch.max(1))
            .collect();
        let seqs = training_sequences(set, codes, &idx, augment_p, uncond_p, &mut rng);
        // Dropout masks come from the run's own generator (drawn only when there is dropout,
        // so a model without it sees the same batches as before masks were drawn here).
        let drop_seed = if cfg.dropout > 0.0 { rng.random() } else { 0 };
        let (loss, grads) = lm_step(
            &model,
            &seqs,
            prompt_len,
            cfg.context,
            cfg.dropout,
            drop_seed,
            &ad,
        )?;
        model = optim.step(stage.lr, model, grads);
        last = step;
        pending.push((step, loss));
        progress.advance(1, &shown);
        let ckpt_due = ckpt.is_some_and(|c| c.due(step, stage.steps));
        let check = check_due(stage, step, heldout);
        if read_due(pending.len(), step, stage, ckpt_due || check)
            && let Some(e) = read_pending(
                &mut pending,
                "GPT step losses",
                &mut log,
                progress,
                |step, v| StepLog {
                    step,
                    loss: v[0],
                    main: v[0],
                    perplexity: v[0].exp(),
                },
                |e| vec![("cross-entropy", f64::from(e.loss))],
            )?
        {
            shown = format!("cross-entropy {:.3}", e.loss);
            progress.advance(0, &shown);
        }
        if let Some(c) = ckpt
            && ckpt_due
        {
            c.save("gpt", step, &model, &optim, &log, &rng, &order)?;
        }
        if check {
            let valid = model.valid();
            progress.advance(0, &format!("measuring the {what}"));
            let loss = measure(&valid)?;
            let stop = plateau.record(step, loss, stage, &mut end);
            if stage.keep_best && plateau.best_step() == step {
                best = Some((step, valid));
            }
            if let Some(why) = stop {
                progress.advance(0, &why);
                end.stopped = Some(why);
                break;
            }
        }
    }
    progress.finish();
    let mut model = model.valid();
    if let Some((best_step, best_model)) = best {
        // A stage that ran all its steps is measured once more: its last weights may be the best.
        if end.stopped.is_none() && last > best_step {
            let loss = measure(&model)?;
            let _ = plateau.record(last, loss, stage, &mut end);
        }
        if plateau.best_step() == best_step && best_step < last {
            model = best_model;
            end.kept_step = Some(best_step);
            let kept = format!("kept the weights of step {best_step}, its best {what}");
            end.stopped = Some(match end.stopped.take() {
                Some(why) => format!("{why}; {kept}"),
                None => format!("ran all {last} steps; {kept}"),
            });
        }
    }
    Ok((model, log, end))
}
