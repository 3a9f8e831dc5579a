//! The generation pipeline with a tiny model on the CPU backend: training reduces the losses,
//! generation is deterministic per seed and shaped as asked, bundles round-trip, cancel works.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

mod common;

use burn::tensor::Device;
use pathogait::core::data::{CommonJoint, Provenance, Side};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::model::ModelError;
use pathogait::core::model::bundle::{GaitGenerator, TrainPlan};
use pathogait::core::model::fit::train;
use pathogait::core::model::generate::{Sampling, generate, generate_like};
use pathogait::core::model::prompt::Prompt;
use pathogait::core::model::variance::VarianceMatch;

/// burn's random generator may be process-wide: training tests take turns so each run sees
/// only its own seed and stays repeatable.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn tiny_demo() -> pathogait::core::data::Dataset {
    common::small_demo(3)
}

/// `plan` trained on `ds` on the CPU, with no checkpoint, progress or cancel, calibrated
/// when the plan asks for it.
fn trained(ds: &pathogait::core::data::Dataset, plan: &TrainPlan, name: &str) -> GaitGenerator {
    pathogait::core::model::calibrate::train(
        ds,
        plan,
        name,
        &Device::flex(),
        "CPU (Flex)",
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap()
}

fn tiny_model() -> GaitGenerator {
    trained(&tiny_demo(), &TrainPlan::tiny(), "tiny")
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}

#[test]
fn tiny_model_trains_generates_and_round_trips() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let g = tiny_model();
    let r = &g.manifest.report;
    let tok: Vec<f32> = r.tokenizer_log.iter().map(|l| l.main).collect();
    let gpt: Vec<f32> = r.gpt_log.iter().map(|l| l.loss).collect();
    assert!(tok.len() >= 4 && gpt.len() >= 4);
    assert!(
        mean(&tok[tok.len() - 2..]) < 0.8 * tok[0],
        "tokeniser reconstruction did not fall: {tok:?}"
    );
    assert!(
        mean(&gpt[gpt.len() - 2..]) < 0.8 * gpt[0],
        "GPT loss did not fall: {gpt:?}"
    );
    assert!(r.mpjpe_train_mm.is_finite() && r.mpjpe_train_mm > 0.0);
    assert!(
        r.code_usage.iter().all(|u| u.used_fraction > 0.1),
        "{:?}",
        r.code_usage
    );
    assert_eq!(g.manifest.vocab.classes.len(), 6);
    // The descriptor reference scores every class's windows, real and reconstructed.
    assert_eq!(r.class_reference.len(), 6);
    for c in &r.class_reference {
        assert!(c.windows > 0, "{c:?}");
        assert!(c.real_analysed <= c.windows && c.tokenised_analysed <= c.windows);
        assert_eq!(c.real_hit_rate.is_some(), c.real_analysed > 0, "{c:?}");
        assert!(c.real_hit_rate.is_none_or(|h| (0.0..=1.0).contains(&h)));
    }
    assert!(r.class_reference.iter().any(|c| c.real_analysed > 0));

    let prompt = Prompt {
        class: "stiff_legged".into(),
        severity: 0.8,
        side: Some(Side::Right),
        ..Prompt::default()
    };
    let s = Sampling {
        count: 3,
        frames: 90,
        seed: 5,
        ..Sampling::default()
    };
    let a = generate(&g, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    assert!(
        a.prompt
            .text
            .starts_with("Stiff-legged gait, severity 0.80, affected side right"),
        "{}",
        a.prompt.text
    );
    assert_eq!(a.sequences.len(), 3);
    for seq in &a.sequences {
        assert_eq!(seq.frames(), 90);
        assert_eq!(seq.label.as_deref(), Some("stiff_legged"));
        assert!(seq.is_synthetic());
        assert!(
            seq.positions
                .iter()
                .all(|p| p.iter().all(|v| v.is_finite()))
        );
        // The demo walks have arms, so the generated ones get them, said in provenance.
        assert!(seq.skeleton.has_arms(), "{}", seq.skeleton.name);
        let pathogait::core::data::Provenance::Generated { sampling, .. } = &seq.provenance else {
            panic!("generated provenance");
        };
        assert!(sampling.contains("arms added after decoding"), "{sampling}");
    }
    let b = generate(&g, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(
        a.sequences[0].positions, b.sequences[0].positions,
        "same seed, same output"
    );
    let c = generate(
        &g,
        &prompt,
        &Sampling { seed: 6, ..s },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_ne!(a.sequences[0].positions, c.sequences[0].positions);

    // The model records each training subject's build; asked to, a walk takes one of them.
    assert_eq!(g.manifest.subjects.len(), tiny_demo().subjects().len());
    let built = generate(
        &g,
        &prompt,
        &Sampling {
            subject_bodies: true,
            count: 8,
            ..s
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let mut drawn = std::collections::BTreeSet::new();
    for (k, seq) in built.sequences.iter().enumerate() {
        let pathogait::core::data::Provenance::Generated { sampling, .. } = &seq.provenance else {
            panic!("generated provenance");
        };
        let body = g
            .manifest
            .subjects
            .iter()
            .find(|b| sampling.contains(&format!("build of training subject {} ", b.subject)))
            .unwrap_or_else(|| panic!("no subject named in {sampling}"));
        drawn.insert(body.subject.clone());
        // Thigh (bone 4: left hip -> knee) and shank (5) as the subject's, every frame
        // (resampling 64 -> 90 frames interpolates positions, so chords are a little shorter).
        for f in 0..seq.frames() {
            for (bone, a, b) in [
                (4, CommonJoint::HipL, CommonJoint::KneeL),
                (5, CommonJoint::KneeL, CommonJoint::AnkleL),
            ] {
                let (p, q) = (seq.common(f, a).unwrap(), seq.common(f, b).unwrap());
                let len =
                    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
                assert!(
                    (len / body.bones[bone] - 1.0).abs() < 0.03,
                    "walk {k} frame {f} bone {bone}: {len} vs {}",
                    body.bones[bone]
                );
            }
        }
    }
    assert!(drawn.len() >= 2, "builds drawn per walk: {drawn:?}");
    // The first walk's sampling is untouched: the build changes lengths, not the motion's
    // side or timing.
    assert_eq!(built.sequences[0].side, a.sequences[0].side);
    assert_eq!(built.sequences[0].frames(), a.sequences[0].frames());

    let dir = tempfile::tempdir().unwrap();
    g.save(dir.path()).unwrap();
    let loaded = GaitGenerator::load(dir.path(), &Device::flex()).unwrap();
    assert_eq!(loaded.manifest, g.manifest);
    let d = generate(&loaded, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    for (x, y) in a.sequences[0]
        .positions
        .iter()
        .zip(&d.sequences[0].positions)
    {
        for k in 0..3 {
            assert!(
                (x[k] - y[k]).abs() < 1e-4,
                "saved model generates the same walks"
            );
        }
    }

    // The model learned right-affected walks mirrored: asking for the right side gives the
    // mirror image of the same seed's left-affected walk.
    assert!(g.manifest.plan.mirror_right);
    let left = generate(
        &g,
        &Prompt {
            side: Some(Side::Left),
            ..prompt.clone()
        },
        &s,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let rel = |q: &pathogait::core::data::GaitSequence, f: usize, j: CommonJoint| {
        let (a, p) = (
            q.common(f, j).unwrap(),
            q.common(f, CommonJoint::Pelvis).unwrap(),
        );
        [a[0] - p[0], a[1] - p[1], a[2] - p[2]]
    };
    for f in [0, 30, 89] {
        let r = rel(&a.sequences[0], f, CommonJoint::KneeR);
        let l = rel(&left.sequences[0], f, CommonJoint::KneeL);
        assert!(
            (r[0] - l[0]).abs() < 1e-4 && (r[1] + l[1]).abs() < 1e-4 && (r[2] - l[2]).abs() < 1e-4
        );
    }
    assert_eq!(left.sequences[0].side, Some(Side::Left));
    assert_eq!(a.sequences[0].side, Some(Side::Right));

    // No side named: a class whose training walks all have one draws it per walk (the model
    // never saw such a class with the "no side" token); normal walks keep none.
    let unsided = generate(
        &g,
        &Prompt {
            side: None,
            ..prompt.clone()
        },
        &Sampling { count: 12, ..s },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(
        unsided.prompt.text.contains("drawn per walk"),
        "{}",
        unsided.prompt.text
    );
    let sides: Vec<Option<Side>> = unsided.sequences.iter().map(|q| q.side).collect();
    assert!(sides.contains(&Some(Side::Left)), "{sides:?}");
    assert!(sides.contains(&Some(Side::Right)), "{sides:?}");
    let normal = generate(
        &g,
        &Prompt {
            class: "normal".into(),
            ..Prompt::default()
        },
        &s,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(
        !normal.prompt.text.contains("drawn"),
        "{}",
        normal.prompt.text
    );
    assert!(normal.sequences.iter().all(|q| q.side.is_none()));

    let e = generate(
        &g,
        &Prompt {
            class: "hemiplegic".into(),
            ..Prompt::default()
        },
        &s,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(matches!(e, ModelError::Prompt(_)));
    let cancel = CancelToken::new();
    cancel.cancel();
    assert!(matches!(
        generate(&g, &prompt, &s, &NoProgress, &cancel),
        Err(ModelError::Cancelled)
    ));
    like_training_walks(&g, &s);
}

/// `generate_like`: every walk is prompted with one recorded training walk of the class, each
/// used before one repeats, with that walk's side and subject's build.
fn like_training_walks(g: &GaitGenerator, s: &Sampling) {
    let c = g.manifest.vocab.class_index("stiff_legged").unwrap();
    let recorded: Vec<(String, pathogait::core::model::vocab::PromptValues)> = g
        .manifest
        .subjects
        .iter()
        .flat_map(|st| st.prompts.iter().map(|v| (st.subject.clone(), v.clone())))
        .filter(|(_, v)| v.class == c)
        .collect();
    let per_class = tiny_demo()
        .sequences
        .iter()
        .filter(|q| q.label.as_deref() == Some("stiff_legged"))
        .count();
    assert_eq!(
        recorded.len(),
        per_class,
        "one recorded prompt per training walk"
    );
    let n = recorded.len();
    let like = generate_like(
        g,
        "stiff_legged",
        &Sampling {
            count: n,
            subject_bodies: true,
            ..*s
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(like.sequences.len(), n);
    let mut used = std::collections::BTreeSet::new();
    for seq in &like.sequences {
        let Provenance::Generated { sampling, .. } = &seq.provenance else {
            panic!("generated provenance");
        };
        // The walk names the values it was prompted with and whose build it took: one of
        // the recorded walks of that subject has those values and the walk's side.
        let k = recorded
            .iter()
            .position(|(subject, v)| {
                sampling.contains(&format!(
                    "severity bin {}, descriptor bins {:?}",
                    v.severity_bin, v.bins
                )) && sampling.contains(&format!("build of training subject {subject} "))
                    && v.side == seq.side
            })
            .unwrap_or_else(|| panic!("no recorded walk matches {sampling} side {:?}", seq.side));
        used.insert(k);
    }
    // Distinct walks can share values, so count the values, not the walks.
    let distinct: std::collections::BTreeSet<String> = recorded
        .iter()
        .map(|(subject, v)| format!("{subject}{v:?}"))
        .collect();
    assert_eq!(
        used.len(),
        distinct.len(),
        "every recorded walk used once before repeats"
    );
    assert!(matches!(
        generate_like(g, "hemiplegic", s, &NoProgress, &CancelToken::new()),
        Err(ModelError::Prompt(_))
    ));
}

#[test]
fn corrupt_bundles_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = GaitGenerator::load(dir.path(), &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(e.contains("manifest.ron"), "{e}");
    std::fs::write(dir.path().join("manifest.ron"), "Manifest(version: 1").unwrap();
    let e = GaitGenerator::load(dir.path(), &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a valid model manifest"), "{e}");
}

#[test]
fn resume_reuses_the_tokeniser_checkpoint_of_the_same_plan() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = tiny_demo();
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("checkpoint");
    let mut plan = TrainPlan::tiny();
    let run = |plan: &TrainPlan, name: &str| {
        train(
            &ds,
            plan,
            name,
            &Device::flex(),
            "cpu",
            Some(&ckpt),
            &NoProgress,
            &CancelToken::new(),
        )
        .unwrap()
    };
    plan.gpt_stage.steps = 3;
    let a = run(&plan, "a");
    assert!(ckpt.join("tokenizer.bpk").is_file() && ckpt.join("tokenizer.ron").is_file());
    // Same plan: the tokeniser stage is skipped and its log and weights come from the checkpoint.
    let b = run(&plan, "b");
    assert_eq!(
        a.manifest.report.tokenizer_log,
        b.manifest.report.tokenizer_log
    );
    assert_eq!(
        a.manifest.report.mpjpe_train_mm,
        b.manifest.report.mpjpe_train_mm
    );
    // Training is repeatable: the same plan without a checkpoint gives the same run.
    let fresh = train(
        &ds,
        &plan,
        "f",
        &Device::flex(),
        "cpu",
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(
        a.manifest.report.tokenizer_log,
        fresh.manifest.report.tokenizer_log
    );
    assert_eq!(a.manifest.report.gpt_log, fresh.manifest.report.gpt_log);
    // A different plan trains afresh.
    plan.seed = 99;
    let c = run(&plan, "c");
    assert_ne!(
        a.manifest.report.tokenizer_log,
        c.manifest.report.tokenizer_log
    );
    // Cancelling stops training with the cancel error.
    let cancel = CancelToken::new();
    cancel.cancel();
    let e = train(
        &ds,
        &plan,
        "d",
        &Device::flex(),
        "cpu",
        None,
        &NoProgress,
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(e, ModelError::Cancelled), "{e}");
    // A damaged checkpoint is named, never silently retrained from scratch.
    std::fs::write(ckpt.join("tokenizer.ron"), "(garbage").unwrap();
    let e = train(
        &ds,
        &plan,
        "e",
        &Device::flex(),
        "cpu",
        Some(&ckpt),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("tokenizer.ron") && e.contains("checkpoint"),
        "{e}"
    );
}

/// Cancels its token once a stage whose name contains `stage` has advanced `limit` steps
/// (an interruption at a known point).
struct CancelAt {
    stage: &'static str,
    limit: u64,
    token: CancelToken,
    current: std::sync::Mutex<(String, u64)>,
}

impl pathogait::core::jobs::Progress for CancelAt {
    fn start(&self, stage: &str, _total: u64) {
        *self.current.lock().unwrap() = (stage.to_string(), 0);
    }
    fn advance(&self, n: u64, _item: &str) {
        let mut c = self.current.lock().unwrap();
        c.1 += n;
        if c.0.contains(self.stage) && c.1 >= self.limit {
            self.token.cancel();
        }
    }
    fn finish(&self) {}
}

#[test]
fn an_interrupted_run_resumes_mid_stage_and_ends_as_an_uninterrupted_one() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = tiny_demo();
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("checkpoint");
    let plan = TrainPlan {
        checkpoint_every: 10,
        ..TrainPlan::tiny()
    };
    let go = |stop: Option<(&'static str, u64)>, ck: Option<&std::path::Path>| {
        let token = CancelToken::new();
        let p = CancelAt {
            stage: stop.map_or("never", |s| s.0),
            limit: stop.map_or(u64::MAX, |s| s.1),
            token: token.clone(),
            current: std::sync::Mutex::new((String::new(), 0)),
        };
        train(&ds, &plan, "r", &Device::flex(), "cpu", ck, &p, &token)
    };
    // Stopped at tokeniser step 35 (last save: 30), then at GPT step 25 (last save: 20).
    let r = go(Some(("tokeniser", 35)), Some(&ckpt));
    assert!(matches!(r, Err(ModelError::Cancelled)), "{:?}", r.err());
    assert!(ckpt.join("tokenizer_progress.ron").is_file());
    assert!(matches!(
        go(Some(("GPT", 25)), Some(&ckpt)),
        Err(ModelError::Cancelled)
    ));
    assert!(ckpt.join("gpt_progress.ron").is_file());
    let resumed = go(None, Some(&ckpt)).unwrap();
    let whole = go(None, None).unwrap();
    let (a, b) = (&resumed.manifest.report, &whole.manifest.report);
    assert_eq!(a.tokenizer_log, b.tokenizer_log);
    assert_eq!(a.gpt_log, b.gpt_log);
    assert_eq!(a.mpjpe_train_mm, b.mpjpe_train_mm);
}

#[test]
fn classifier_free_guidance_is_deterministic_and_changes_the_samples() {
    // Training seeds the backend's process-wide generator: one training test at a time.
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let g = tiny_model();
    assert!(g.manifest.plan.uncond > 0.0, "trained with null prompts");
    let null = g.manifest.vocab.null_prompt();
    assert_eq!(null.len(), g.manifest.vocab.prompt_len());
    let prompt = Prompt {
        class: "stiff_legged".into(),
        severity: 0.8,
        ..Prompt::default()
    };
    let run = |guidance: f32| {
        let s = Sampling {
            count: 3,
            frames: 60,
            seed: 11,
            guidance,
            ..Sampling::default()
        };
        generate(&g, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap()
    };
    let (plain, guided, again) = (run(1.0), run(3.0), run(3.0));
    assert_eq!(guided.sequences, again.sequences, "same seed, same output");
    assert_ne!(plain.sequences[0].positions, guided.sequences[0].positions);
    assert!(
        guided
            .sequences
            .iter()
            .all(|s| s.positions.iter().all(|p| p.iter().all(|x| x.is_finite())))
    );
    match &guided.sequences[0].provenance {
        pathogait::core::data::Provenance::Generated { sampling, .. } => {
            assert!(sampling.contains("guidance 3"), "{sampling}");
        }
        p => panic!("{p:?}"),
    }
    random_starts(&g, &prompt);
    matched_variance(&g, &prompt);
    let bad = Sampling {
        guidance: f32::NAN,
        ..Sampling::default()
    };
    assert!(matches!(
        generate(&g, &prompt, &bad, &NoProgress, &CancelToken::new()),
        Err(ModelError::Prompt(_))
    ));
}

/// `random_start`: each walk is cut from the walk continued for half a window, at an offset
/// of its own that its provenance names, with and without guidance; the same seed gives the
/// same walks and the same offsets.
fn random_starts(g: &GaitGenerator, prompt: &Prompt) {
    let m = &g.manifest;
    let steps = m.tokenizer.latent_steps(m.window.frames);
    let continued = (steps + steps / 2) * m.tokenizer.downsample;
    let run = |guidance: f32| {
        let s = Sampling {
            count: 12,
            frames: 50,
            seed: 4,
            guidance,
            random_start: true,
            ..Sampling::default()
        };
        generate(g, prompt, &s, &NoProgress, &CancelToken::new()).unwrap()
    };
    let offsets = |walks: &[pathogait::core::data::GaitSequence]| -> Vec<usize> {
        walks
            .iter()
            .map(|q| {
                assert_eq!(q.frames(), 50);
                assert!(q.positions.iter().all(|p| p.iter().all(|x| x.is_finite())));
                let Provenance::Generated { sampling, .. } = &q.provenance else {
                    panic!("generated provenance");
                };
                let tail = format!(" of a {continued}-frame walk (random start)");
                let end = sampling
                    .find(&tail)
                    .unwrap_or_else(|| panic!("no '{tail}' in {sampling}"));
                let head = &sampling[..end];
                let off: usize = head[head.rfind("cut from frame ").unwrap() + 15..]
                    .parse()
                    .unwrap();
                assert!(off + m.window.frames <= continued, "{off}");
                off
            })
            .collect()
    };
    let (a, again, guided) = (run(1.0), run(1.0), run(3.0));
    assert_eq!(a.sequences, again.sequences, "same seed, same output");
    let offs = offsets(&a.sequences);
    assert!(
        offs.iter().any(|o| *o != offs[0]),
        "walks start at different points: {offs:?}"
    );
    // The offsets are drawn apart from the sampler: guidance changes the walks, not them.
    assert_eq!(offsets(&guided.sequences), offs);
    assert_ne!(a.sequences[0].positions, guided.sequences[0].positions);
}

/// `match_variance`: the model carries fitted filters (one scale per feature; overall and one
/// per class), the walks it filters differ from the plain ones only in that, and their
/// provenance says whose windows they were matched to.
fn matched_variance(g: &GaitGenerator, prompt: &Prompt) {
    let m = &g.manifest;
    assert!(!m.variance.is_empty(), "fitted at training");
    assert_eq!(m.variance_by_class.len(), m.vocab.classes.len());
    let class = m
        .vocab
        .classes
        .iter()
        .position(|c| *c == prompt.class)
        .unwrap();
    let own = &m.variance_by_class[class];
    assert!(!own.is_empty(), "the prompt's class had windows enough");
    assert_ne!(own, &m.variance);
    for v in std::iter::once(&m.variance).chain(&m.variance_by_class) {
        if v.is_empty() {
            continue;
        }
        let (lo, hi) = v.scale_range();
        assert!(
            (1.0 / 3.0..=3.0).contains(&lo) && lo <= hi && hi <= 3.0,
            "{lo} {hi}"
        );
    }
    let s = Sampling {
        count: 4,
        frames: 64,
        seed: 8,
        ..Sampling::default()
    };
    let plain = generate(g, prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    let on = Sampling {
        match_variance: true,
        ..s
    };
    let matched = generate(g, prompt, &on, &NoProgress, &CancelToken::new()).unwrap();
    for (a, b) in plain.sequences.iter().zip(&matched.sequences) {
        assert_ne!(a.positions, b.positions);
        assert!(b.positions.iter().all(|p| p.iter().all(|x| x.is_finite())));
        let Provenance::Generated { sampling, .. } = &b.provenance else {
            panic!("generated provenance");
        };
        assert!(
            sampling.contains("decoder variance matched to the class's training windows"),
            "{sampling}"
        );
    }
}

#[test]
fn two_frames_per_token_step_doubles_the_gait_tokens() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut plan = TrainPlan::tiny();
    plan.tokenizer.downsample = 2;
    plan.tokenizer_stage.steps = 10;
    plan.gpt_stage.steps = 5;
    let g = trained(&tiny_demo(), &plan, "r2");
    let m = &g.manifest;
    assert_eq!(
        m.tokenizer.latent_steps(m.window.frames),
        m.window.frames / 2
    );
    assert_eq!(
        m.gpt.context,
        m.vocab.prompt_len() + 3 * m.window.frames / 2 + 1
    );
    let s = Sampling {
        count: 2,
        frames: 50,
        ..Sampling::default()
    };
    let out = generate(&g, &Prompt::default(), &s, &NoProgress, &CancelToken::new()).unwrap();
    assert!(out.sequences.iter().all(|q| q.frames() == 50));
    // A bundle from before the setting existed reads as four frames per step.
    let text = ron::ser::to_string(&m.tokenizer)
        .unwrap()
        .replace(",downsample:2", "");
    let old: pathogait::core::model::tokenizer::TokenizerConfig = ron::from_str(&text).unwrap();
    assert_eq!(old.downsample, 4, "{text}");
}

/// Training takes the GPT's codes and the tokeniser's MPJPE from one pass per window (chunks
/// on parallel workers); each window's codes and error must be what a pass of its own gives.
#[test]
fn one_tokeniser_pass_gives_each_window_its_own_codes_and_error() {
    use pathogait::core::model::data::{Window, build_training_set};
    use pathogait::core::model::features::{FEATURES, feature_rows, frame_joints};
    use pathogait::core::model::metrics::{pooled_mpjpe_mm, tokenise_windows};
    use pathogait::core::model::tokenizer::TokenizerConfig;
    use pathogait::core::model::training::batch_tensor;
    let ds = common::small_demo(4);
    let plan = TrainPlan::tiny();
    let set = build_training_set(
        &ds,
        &plan.window,
        plan.tokenizer.codes,
        None,
        plan.mirror_right,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let cfg = TokenizerConfig {
        classes: set.vocab.classes.len(),
        priors: 4,
        ..plan.tokenizer
    };
    let dev = Device::flex();
    let tok = {
        let _turn = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        dev.seed(11);
        cfg.init(&dev)
    };
    let all: Vec<&Window> = set.windows.iter().collect();
    assert!(
        all.len() > 128,
        "more than one chunk: {} windows",
        all.len()
    );
    let t = tokenise_windows(&tok, &all, &set.normalizer, &dev).unwrap();
    assert_eq!(t.len(), all.len());
    let steps = cfg.latent_steps(plan.window.frames);
    for k in [0, 1, all.len() / 2, all.len() - 1] {
        // Codes from the encoders alone, the error from a full forward pass of this window.
        let codes = tok.encode(batch_tensor(&all[k..=k], &dev)).unwrap();
        assert_eq!(t[k].codes, codes, "window {k}");
        assert!(t[k].codes.iter().all(|c| c.len() == steps));
        let recon = tok
            .forward(batch_tensor(&all[k..=k], &dev))
            .recon
            .swap_dims(1, 2);
        let rows = feature_rows(&recon.into_data().try_to_vec::<f32>().unwrap());
        let n = &set.normalizer;
        let mut error = 0.0f64;
        for (row, truth) in rows.iter().zip(&all[k].frames) {
            let (pr, gt) = (
                frame_joints(&n.invert(row), [0.0, 0.0]),
                frame_joints(&n.invert(truth), [0.0, 0.0]),
            );
            for j in 0..12 {
                let d: f32 = (0..3).map(|a| (pr[j][a] - gt[j][a]).powi(2)).sum();
                error += f64::from(d.sqrt());
            }
        }
        assert_eq!(rows.len(), plan.window.frames);
        assert_eq!(rows[0].len(), FEATURES);
        assert_eq!(t[k].joints, 12 * plan.window.frames);
        assert!(
            (t[k].error_m - error).abs() < 1e-4 * error,
            "window {k}: {} vs {error}",
            t[k].error_m
        );
    }
    let pooled = pooled_mpjpe_mm(&t);
    let by_hand = 1000.0 * t.iter().map(|w| w.error_m).sum::<f64>()
        / t.iter().map(|w| w.joints).sum::<usize>() as f64;
    assert!(pooled > 0.0 && (pooled - by_hand).abs() < 1e-9 * by_hand);
    assert!(pooled_mpjpe_mm(t.iter().take(0)).is_nan());
}

#[test]
fn a_gpt_that_keeps_its_best_check_returns_that_steps_weights() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = tiny_demo();
    // A high learning rate and no early stop: the held-out loss passes its best well before
    // the last step, and the last measurement is taken after the last step.
    let plan = |steps: usize, keep_best: bool| TrainPlan {
        gpt_stage: pathogait::core::model::training::StageConfig {
            eval_every: 10,
            patience: 0,
            keep_best,
            ..pathogait::core::model::training::StageConfig::fixed(steps, 16, 2e-2)
        },
        ..TrainPlan::tiny()
    };
    let run = |p: &TrainPlan| trained(&ds, p, "best");
    let kept = run(&plan(150, true));
    let end = &kept.manifest.report.gpt_end;
    let k = end
        .kept_step
        .expect("the held-out loss is best before the last step");
    let best = end
        .heldout
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(best.0, k, "kept the best check: {:?}", end.heldout);
    assert_eq!(
        end.heldout.last().unwrap().0,
        150,
        "the last step is measured"
    );
    let why = end.stopped.as_deref().unwrap();
    assert!(
        why.contains(&format!("kept the weights of step {k}")),
        "{why}"
    );
    assert_eq!(
        kept.manifest.gpt_weights(),
        format!("step {k} of 150: its best held-out loss")
    );
    // The same run cut at step k holds the same weights: it samples the same walks.
    let short = run(&plan(k, false));
    assert_eq!(short.manifest.report.gpt_end.kept_step, None);
    let prompt = Prompt {
        class: "steppage".into(),
        ..Prompt::default()
    };
    let s = Sampling {
        count: 2,
        frames: 48,
        seed: 5,
        ..Sampling::default()
    };
    let a = generate(&kept, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    let b = generate(&short, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    let last = run(&plan(150, false));
    assert_eq!(
        last.manifest.gpt_weights(),
        "step 150, its last (checks of the held-out loss)"
    );
    let c = generate(&last, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    for i in 0..2 {
        assert_eq!(a.sequences[i].positions, b.sequences[i].positions);
    }
    assert_ne!(
        a.sequences[0].positions, c.sequences[0].positions,
        "the last step's weights differ from the kept ones"
    );
}

#[test]
fn calibrated_variance_is_fitted_to_sampled_walks_used_and_saved() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = tiny_demo();
    let plan = TrainPlan {
        calibrate_walks: 16,
        ..TrainPlan::tiny()
    };
    let g = trained(&ds, &plan, "calibrated");
    let m = &g.manifest;
    assert_eq!(m.variance_sampled_by_class.len(), m.vocab.classes.len());
    let c = m.vocab.class_index("steppage").unwrap();
    let (own, sampled) = (&m.variance_by_class[c], &m.variance_sampled_by_class[c]);
    assert!(!own.is_empty() && !sampled.is_empty());
    // Same target, another reference: the sampled walks' means and spreads, not the
    // reconstructions'.
    assert_eq!(own.real_mean, sampled.real_mean);
    assert_ne!(own.recon_mean, sampled.recon_mean);
    // The studio's model list says which filters the model carries.
    let n = m.vocab.classes.len();
    let count = |fs: &[VarianceMatch]| fs.iter().filter(|f| !f.is_empty()).count();
    let (owned, calibrated) = (
        count(&m.variance_by_class),
        count(&m.variance_sampled_by_class),
    );
    assert!(calibrated > 0 && calibrated <= owned);
    assert_eq!(
        m.variance_filters(),
        format!(
            "reconstructions: pooled + {owned} of {n} classes; calibrated to 16 sampled walks: {calibrated} of {n} classes"
        )
    );
    let s = Sampling {
        count: 3,
        frames: 48,
        seed: 2,
        match_variance: true,
        ..Sampling::default()
    };
    let prompt = Prompt {
        class: "steppage".into(),
        ..Prompt::default()
    };
    let a = generate(&g, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    match &a.sequences[0].provenance {
        Provenance::Generated { sampling, .. } => {
            assert!(
                sampling.contains("fitted to the model's own sampled walks"),
                "{sampling}"
            );
        }
        p => panic!("{p:?}"),
    }
    // Without calibration the same model, seed and prompt sample the same tokens: only the
    // filter differs.
    let mut plain = trained(&ds, &TrainPlan::tiny(), "plain");
    assert!(plain.manifest.variance_sampled_by_class.is_empty());
    assert_eq!(
        plain.manifest.variance_filters(),
        format!("reconstructions: pooled + {owned} of {n} classes")
    );
    let b = generate(&plain, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    assert_ne!(a.sequences[0].positions, b.sequences[0].positions);
    pathogait::core::model::calibrate::calibrate_variance(
        &mut plain,
        16,
        plan.seed,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let again = generate(&plain, &prompt, &s, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(a.sequences[0].positions, again.sequences[0].positions);
    assert_eq!(plain.manifest.variance_filters(), m.variance_filters());
    // The calibrated filters travel with the bundle.
    let dir = tempfile::tempdir().unwrap();
    g.save(dir.path()).unwrap();
    let loaded = GaitGenerator::load(dir.path(), &Device::flex()).unwrap();
    assert_eq!(
        loaded.manifest.variance_sampled_by_class,
        m.variance_sampled_by_class
    );
}

#[test]
fn a_gpt_judged_by_samples_keeps_the_weights_whose_samples_came_closest() {
    use pathogait::core::model::data::build_training_set;
    use pathogait::core::model::fit::heldout_split;
    use pathogait::core::model::gpt_training::SAMPLE_MEASURE;
    use pathogait::core::model::sample_check::sample_distance;
    use pathogait::core::model::training::StageConfig;
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = tiny_demo();
    let plan = TrainPlan {
        gpt_stage: StageConfig {
            eval_every: 10,
            patience: 0,
            keep_best: true,
            ..StageConfig::fixed(60, 16, 2e-2)
        },
        sample_checks: 24,
        ..TrainPlan::tiny()
    };
    let g = trained(&ds, &plan, "samples");
    let end = &g.manifest.report.gpt_end;
    assert_eq!(end.measure.as_deref(), Some(SAMPLE_MEASURE));
    let steps: Vec<usize> = end.heldout.iter().map(|m| m.0).collect();
    assert_eq!(&steps[..5], &[10, 20, 30, 40, 50], "{:?}", end.heldout);
    assert!(
        end.heldout.iter().all(|m| m.1.is_finite() && m.1 > 0.0),
        "{:?}",
        end.heldout
    );
    // The weights returned are those of the closest check, and measuring them again with the
    // same windows and seed gives that check's distance: the record is of the samples.
    let best = end
        .heldout
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(end.kept_step.unwrap_or(60), best.0, "{:?}", end.heldout);
    let weights = g.manifest.gpt_weights();
    match end.kept_step {
        Some(k) => assert_eq!(
            weights,
            format!("step {k} of 60: its best {SAMPLE_MEASURE}")
        ),
        None => assert_eq!(
            weights,
            format!("step 60, its last (checks of the {SAMPLE_MEASURE})")
        ),
    }
    let set = build_training_set(
        &ds,
        &plan.window,
        plan.tokenizer.codes,
        None,
        plan.mirror_right,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let (_, _, train_idx) = heldout_split(&ds, &plan, &set);
    let again = sample_distance(&g, &set, &train_idx, 24, plan.seed, &CancelToken::new()).unwrap();
    assert!(
        (again - best.1).abs() <= 1e-3 * best.1.max(1.0),
        "remeasured {again}, recorded {}",
        best.1
    );
}
