//! burn-wgpu exercised on whatever adapter the machine has (Mesa lavapipe in CI): training
//! steps of the GPT and the tokeniser from identical initial weights give the CPU backend's
//! losses, a tiny generator trains and generates end to end on wgpu with finite losses, and a
//! CPU-trained bundle loaded onto wgpu generates the CPU's walks.
//!
//! Without any wgpu adapter the tests print SKIPPED, unless `PATHOGAIT_REQUIRE_WGPU=1` (set by
//! CI), which makes a missing adapter a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use pathogait::core::data::Dataset;
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::model::bundle::{GaitGenerator, TrainPlan};
use pathogait::core::model::features::FEATURES;
use pathogait::core::model::fit::train;
use pathogait::core::model::generate::{Sampling, generate};
use pathogait::core::model::gpt::{Gpt, GptConfig};
use pathogait::core::model::prompt::Prompt;
use pathogait::core::model::tokenizer::{GaitTokenizer, TokenizerConfig};
use pathogait::core::model::{BackendChoice, select_device};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The CPU backend's generator is process-wide: tests that initialise weights take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Losses of the two backends may differ by float rounding (other summation orders), no more.
const LOSS_TOLERANCE: f32 = 2e-3;

fn wgpu() -> Option<(Device, String)> {
    match select_device(BackendChoice::Wgpu) {
        Ok(d) => {
            println!("wgpu device: {}", d.1);
            Some(d)
        }
        Err(e) => {
            assert!(
                std::env::var_os("PATHOGAIT_REQUIRE_WGPU").is_none(),
                "no wgpu adapter but PATHOGAIT_REQUIRE_WGPU is set: {e}"
            );
            println!("SKIPPED: no wgpu adapter ({e})");
            None
        }
    }
}

/// `model`'s weights copied to `device` through a weights file, as a bundle travels.
fn copy_to<M: burn::module::Module>(model: &M, fresh: M, dir: &std::path::Path, name: &str) -> M {
    let path = dir.join(name);
    model.clone().save_file(&path).unwrap();
    fresh.try_load_file(&path).unwrap()
}

fn close(cpu: &[f32], gpu: &[f32], what: &str) {
    assert_eq!(cpu.len(), gpu.len());
    for (i, (c, g)) in cpu.iter().zip(gpu).enumerate() {
        assert!(c.is_finite() && g.is_finite(), "{what} step {i}: {c} / {g}");
        assert!(
            (c - g).abs() <= LOSS_TOLERANCE * c.abs().max(1.0),
            "{what} step {i}: CPU {c}, wgpu {g}"
        );
    }
}

fn gpt_losses(mut model: Gpt, tokens: &[i64], b: usize, l: usize, device: &Device) -> Vec<f32> {
    let mut optim = AdamConfig::new().init();
    let ce = CrossEntropyLossConfig::new().init(device);
    let mut out = Vec::new();
    for _ in 0..4 {
        let input: Vec<i64> = (0..b)
            .flat_map(|r| tokens[r * l..r * l + l - 1].to_vec())
            .collect();
        let target: Vec<i64> = (0..b)
            .flat_map(|r| tokens[r * l + 1..r * l + l].to_vec())
            .collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(input, [b, l - 1]), device);
        let target = Tensor::<1, Int>::from_data(TensorData::new(target, [b * (l - 1)]), device);
        let logits = model.forward(input); // [B, L-1, V]
        let v = logits.dims()[2];
        let loss = ce.forward(logits.reshape([b * (l - 1), v]), target);
        out.push(loss.clone().into_data().try_to_vec_as::<f32>().unwrap()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    out
}

fn tokenizer_losses(
    mut model: GaitTokenizer,
    x: &[f32],
    b: usize,
    t: usize,
    device: &Device,
) -> Vec<f32> {
    let mut optim = AdamConfig::new().init();
    let mut out = Vec::new();
    for _ in 0..3 {
        let input = Tensor::<3>::from_data(TensorData::new(x.to_vec(), [b, FEATURES, t]), device);
        let o = model.forward(input.clone());
        let loss = (o.recon - input).powi_scalar(2).mean();
        out.push(loss.clone().into_data().try_to_vec_as::<f32>().unwrap()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    out
}

#[test]
fn training_steps_on_wgpu_match_the_cpu_from_identical_weights() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((gpu, _)) = wgpu() else { return };
    let (cpu, gpu) = (Device::flex().autodiff(), gpu.autodiff());
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);

    let cfg = GptConfig {
        vocab: 48,
        context: 16,
        width: 32,
        layers: 2,
        heads: 2,
        dropout: 0.0,
    };
    cpu.seed(11);
    let a = cfg.init(&cpu);
    let b = copy_to(&a, cfg.init(&gpu), dir.path(), "gpt.bpk");
    let (rows, len) = (4, 16);
    let tokens: Vec<i64> = (0..rows * len).map(|_| rng.random_range(0..48)).collect();
    let on_cpu = gpt_losses(a, &tokens, rows, len, &cpu);
    let on_gpu = gpt_losses(b, &tokens, rows, len, &gpu);
    println!("GPT cross-entropy CPU {on_cpu:?} wgpu {on_gpu:?}");
    close(&on_cpu, &on_gpu, "GPT");
    assert!(
        on_cpu[3] < on_cpu[0],
        "Adam steps lower the loss: {on_cpu:?}"
    );

    let tcfg = TokenizerConfig {
        hidden: 16,
        latent: 8,
        codes: [16, 8, 8],
        classes: 3,
        ..TokenizerConfig::default()
    };
    let a = tcfg.init(&cpu);
    let b = copy_to(&a, tcfg.init(&gpu), dir.path(), "tokenizer.bpk");
    let (bt, t) = (3, 32);
    let x: Vec<f32> = (0..bt * FEATURES * t)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let on_cpu = tokenizer_losses(a, &x, bt, t, &cpu);
    let on_gpu = tokenizer_losses(b, &x, bt, t, &gpu);
    println!("tokeniser reconstruction CPU {on_cpu:?} wgpu {on_gpu:?}");
    close(&on_cpu, &on_gpu, "tokeniser");
}

fn demo() -> Dataset {
    common::small_demo(3)
}

fn short_plan() -> TrainPlan {
    let mut plan = TrainPlan::tiny();
    plan.tokenizer_stage.steps = 4;
    plan.gpt_stage.steps = 4;
    plan
}

fn greedy(count: usize) -> Sampling {
    // One candidate token per step: both backends must then pick the same tokens, and only
    // the decoder's rounding can separate their joints.
    Sampling {
        top_k: 1,
        count,
        frames: 60,
        seed: 7,
        ..Sampling::default()
    }
}

#[test]
fn a_tiny_generator_trains_and_generates_on_wgpu_as_on_the_cpu() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((gpu, name)) = wgpu() else { return };
    let ds = demo();
    let prompt = Prompt {
        class: "antalgic".into(),
        severity: 0.6,
        ..Prompt::default()
    };
    // End to end on wgpu: finite losses, walks of the asked shape.
    let g = train(
        &ds,
        &short_plan(),
        "wgpu",
        &gpu,
        &name,
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let r = &g.manifest.report;
    assert!(
        r.tokenizer_log
            .iter()
            .chain(&r.gpt_log)
            .all(|l| l.loss.is_finite())
    );
    let out = generate(&g, &prompt, &greedy(3), &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(out.sequences.len(), 3);
    assert!(out.sequences.iter().all(|s| s.frames() == 60));

    // A CPU-trained bundle on wgpu generates the CPU's walks.
    let cpu = Device::flex();
    let g = train(
        &ds,
        &short_plan(),
        "cpu",
        &cpu,
        "CPU",
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    g.save(dir.path()).unwrap();
    let on_gpu = GaitGenerator::load(dir.path(), &gpu).unwrap();
    let a = generate(&g, &prompt, &greedy(4), &NoProgress, &CancelToken::new()).unwrap();
    let b = generate(
        &on_gpu,
        &prompt,
        &greedy(4),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let mut worst = 0.0f32;
    for (x, y) in a.sequences.iter().zip(&b.sequences) {
        assert_eq!(x.frames(), y.frames());
        assert_eq!(x.skeleton.joints.len(), y.skeleton.joints.len());
        assert_eq!(x.positions.len(), y.positions.len());
        for (p, q) in x.positions.iter().zip(&y.positions) {
            let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
            worst = worst.max(d);
        }
    }
    println!(
        "largest joint difference CPU vs wgpu: {:.3} mm",
        worst * 1000.0
    );
    // 1 mm: far below the tokeniser's own reconstruction error (centimetres).
    assert!(worst < 1e-3, "joints differ by {worst} m");
}
