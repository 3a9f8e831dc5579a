//! The learning path measured against the machine's own limit: per stage (tokeniser step, GPT
//! step, classifier epoch, generation at several batch sizes, twin step) the time, the FLOPs
//! the stage performs (counted from the model shapes by the models' own `*_flops` methods),
//! the achieved GFLOP/s, the process's CPU use, and the f32 matmul peak of the same device
//! measured in the same run (one thread and all threads), so every figure reads as a fraction.

use std::sync::Mutex;
use std::time::Instant;

use burn::prelude::*;
use serde::Serialize;

use crate::core::data::Dataset;
use crate::core::eval::EvalConfig;
use crate::core::eval::classifier::{
    ClassifierConfig, ClassifierKind, LabelledWindow, train_classifier,
};
use crate::core::eval::prepared::{prepare, standardise};
use crate::core::eval::size_normalise;
use crate::core::jobs::{CancelToken, NoProgress, Progress};
use crate::core::model::ModelError;
use crate::core::model::bundle::TrainPlan;
use crate::core::model::features::{FEATURES, Normalizer};
use crate::core::model::fit::train;
use crate::core::model::generate::{Sampling, generate_batched, generation_flops};
use crate::core::model::prompt::Prompt;
use crate::core::model::training::StageConfig;
use crate::core::twin::{TwinConfig, train_twin};

/// One measured stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageFigure {
    /// What was timed ("GPT step", "generation, batch 100", ...).
    pub stage: String,
    /// Shapes it ran at.
    pub detail: String,
    /// Unit the time is per ("step", "epoch", "sequence").
    pub unit: String,
    /// Units timed (after one warm-up unit where the stage has several).
    pub units: usize,
    /// Mean wall time per unit, seconds.
    pub seconds: f64,
    /// FLOPs per unit (a multiply-add counts 2).
    pub flops: f64,
    /// Achieved GFLOP/s.
    pub gflops: f64,
    /// Achieved rate over the all-threads matmul peak.
    pub fraction_of_peak: f64,
    /// Process CPU time over wall time during the stage (1.0 = one core busy).
    pub cpu_cores_used: Option<f64>,
}

/// The f32 matrix-multiply limit of the device, measured with burn on 1024 x 1024 operands.
#[derive(Debug, Clone, Serialize)]
pub struct MatmulPeak {
    /// Matrix size.
    pub n: usize,
    /// GFLOP/s on one thread (the CPU backend run in a one-thread pool).
    pub one_thread_gflops: f64,
    /// GFLOP/s with every thread of the backend.
    pub all_threads_gflops: f64,
    /// Threads the CPU backend may use.
    pub threads: usize,
}

/// Everything `pathogait bench` reports about the learning path.
#[derive(Debug, Clone, Serialize)]
pub struct LearningBench {
    /// The device line (as printed by every command).
    pub backend: String,
    /// The machine's limit.
    pub peak: MatmulPeak,
    /// Per stage.
    pub stages: Vec<StageFigure>,
}

/// Process CPU seconds (user + system) so far, where the platform says (Linux).
#[must_use]
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // Linux reports in USER_HZ, 100 on every mainstream configuration.
    Some(ticks / 100.0)
}

/// One stage as a progress sink saw it: when it started and each unit ended, and the
/// process CPU time at those moments.
struct StageTimes {
    name: String,
    at: Vec<Instant>,
    cpu: Vec<Option<f64>>,
}

/// Times of every `advance` per stage name, recorded by a progress sink.
#[derive(Default)]
struct Recorder {
    stages: Mutex<Vec<StageTimes>>,
}

impl Recorder {
    /// Mean seconds per unit of `stage` after the first (warm-up) unit, the units counted,
    /// and the CPU cores used over them.
    fn per_unit(&self, stage: &str) -> Option<(f64, usize, Option<f64>)> {
        let s = self.stages.lock().ok()?;
        let st = s.iter().rev().find(|st| st.name == stage)?;
        let (t, cpu) = (&st.at, &st.cpu);
        // t[0] is the start; t[1] ends the warm-up unit when there are several.
        let first = usize::from(t.len() > 2);
        let units = t.len().checked_sub(first + 1).filter(|&u| u > 0)?;
        let wall = (t[t.len() - 1] - t[first]).as_secs_f64();
        let cores = match (cpu[first], cpu[cpu.len() - 1]) {
            (Some(a), Some(b)) if wall > 0.0 => Some((b - a) / wall),
            _ => None,
        };
        Some((wall / units as f64, units, cores))
    }
}

impl Progress for Recorder {
    fn start(&self, stage: &str, _total: u64) {
        if let Ok(mut s) = self.stages.lock() {
            s.push(StageTimes {
                name: stage.to_string(),
                at: vec![Instant::now()],
                cpu: vec![process_cpu_seconds()],
            });
        }
    }
    fn advance(&self, n: u64, _item: &str) {
        if n == 0 {
            return;
        }
        if let Ok(mut s) = self.stages.lock()
            && let Some(last) = s.last_mut()
        {
            last.at.push(Instant::now());
            last.cpu.push(process_cpu_seconds());
        }
    }
    fn finish(&self) {}
}

/// Measures the f32 matmul rate of `device` on `n x n` operands (best of a few runs).
fn matmul_gflops(device: &Device, n: usize, reps: usize) -> Result<f64, ModelError> {
    let a = Tensor::<2>::random([n, n], burn::tensor::Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], burn::tensor::Distribution::Default, device);
    let read = |t: Tensor<2>| -> Result<f32, ModelError> {
        let v = t
            .slice([0..1, 0..1])
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|e| ModelError::Backend(format!("matmul peak: cannot read: {e:?}")))?;
        Ok(v.first().copied().unwrap_or(f32::NAN))
    };
    read(a.clone().matmul(b.clone()))?; // warm-up (and kernel compilation on wgpu)
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        read(a.clone().matmul(b.clone()))?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

/// The device's matmul peak with all threads and, on the CPU backend, with one.
///
/// # Errors
/// A tensor that cannot be read, or a thread pool that cannot be built.
pub fn matmul_peak(device: &Device, cpu: bool) -> Result<MatmulPeak, ModelError> {
    let n = 1024;
    let all = matmul_gflops(device, n, 10)?;
    let one = if cpu {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "pathogait-bench-1t".into())
            .build()
            .map_err(|e| ModelError::Backend(format!("one-thread pool: {e}")))?;
        // The CPU backend's kernels split work over the current rayon pool: one thread here.
        pool.install(|| matmul_gflops(device, n, 10))?
    } else {
        f64::NAN
    };
    Ok(MatmulPeak {
        n,
        one_thread_gflops: one,
        all_threads_gflops: all,
        threads: rayon::current_num_threads(),
    })
}

fn figure(
    stage: &str,
    detail: String,
    unit: &str,
    (seconds, units, cores): (f64, usize, Option<f64>),
    flops: f64,
    peak: &MatmulPeak,
) -> StageFigure {
    let gflops = flops / seconds / 1e9;
    StageFigure {
        stage: stage.into(),
        detail,
        unit: unit.into(),
        units,
        seconds,
        flops,
        gflops,
        fraction_of_peak: gflops / peak.all_threads_gflops,
        cpu_cores_used: cores,
    }
}

fn missing(stage: &str) -> ModelError {
    ModelError::Data(format!("benchmark: stage '{stage}' reported no progress"))
}

/// The real windows evaluation trains its classifiers on (its own window length and hop,
/// size-normalised and standardised), with their frame count.
fn classifier_windows(ds: &Dataset) -> Result<(Vec<LabelledWindow>, usize), ModelError> {
    let cfg = EvalConfig::default();
    let prep = prepare(ds, cfg.generator.window, cfg.real_hop)?;
    let frames: Vec<[f32; FEATURES]> = prep
        .windows
        .iter()
        .flat_map(|(_, ws)| ws.iter())
        .flat_map(|w| {
            let mut w = w.clone();
            size_normalise(&mut w);
            w
        })
        .collect();
    let norm = Normalizer::fit(&frames);
    let windows = prep
        .windows
        .iter()
        .enumerate()
        .filter_map(|(i, (c, ws))| c.map(|c| (i, c, ws)))
        .flat_map(|(i, class, ws)| ws.iter().map(move |w| (i, class, w)))
        .map(|(sequence, class, w)| LabelledWindow {
            frames: standardise(w, &norm),
            class,
            sequence,
        })
        .collect();
    Ok((windows, cfg.generator.window.frames))
}

/// What a learning benchmark times.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Timed training steps per model (at least 3; the first is warm-up).
    pub steps: usize,
    /// Classifier windows per step (default: the evaluation's).
    pub classifier_batch: Option<usize>,
    /// Generation batch sizes, each timed on max(batch, 20) walks of 120 frames.
    pub gen_batches: Vec<usize>,
}

/// Runs every stage on `ds` (the demo data) as `opts` asks.
///
/// # Errors
/// A stage that fails, or data too small for a stage.
pub fn learning_bench(
    ds: &Dataset,
    device: &Device,
    backend: &str,
    cpu: bool,
    opts: &BenchOptions,
    progress: &dyn Progress,
) -> Result<LearningBench, ModelError> {
    let (steps, classifier_batch) = (opts.steps, opts.classifier_batch);
    let cancel = CancelToken::new();
    progress.start("benchmark: matmul peak", 1);
    let peak = matmul_peak(device, cpu)?;
    progress.advance(1, "matmul peak");
    progress.finish();
    let rec = Recorder::default();
    let steps = steps.max(3);
    let mut plan = TrainPlan::default();
    // Every step timed: no early stop, no held-out checks in between.
    plan.tokenizer_stage =
        StageConfig::fixed(steps, plan.tokenizer_stage.batch, plan.tokenizer_stage.lr);
    plan.gpt_stage = StageConfig::fixed(steps, plan.gpt_stage.batch, plan.gpt_stage.lr);
    progress.start("benchmark: tokeniser and GPT steps", 1);
    let g = train(ds, &plan, "bench", device, backend, None, &rec, &cancel)?;
    progress.advance(1, "trained");
    progress.finish();
    let m = &g.manifest;
    let (tb, frames) = (plan.tokenizer_stage.batch, m.window.frames);
    let mut stages = vec![figure(
        "tokeniser step",
        format!(
            "batch {tb} x {frames} frames, hidden {}",
            m.tokenizer.hidden
        ),
        "step",
        rec.per_unit("training tokeniser")
            .ok_or_else(|| missing("tokeniser"))?,
        m.tokenizer.train_step_flops(tb, frames),
        &peak,
    )];
    let (gb, len) = (plan.gpt_stage.batch, m.gpt.context - 1);
    stages.push(figure(
        "GPT step",
        format!(
            "batch {gb} x {len} tokens, width {}, {} layers",
            m.gpt.width, m.gpt.layers
        ),
        "step",
        rec.per_unit("training GPT").ok_or_else(|| missing("GPT"))?,
        m.gpt.train_step_flops(gb, len),
        &peak,
    ));
    stages.extend(classifier_stages(
        ds,
        device,
        &peak,
        classifier_batch,
        progress,
        &cancel,
    )?);
    for &batch in &opts.gen_batches {
        let batch = batch.max(1);
        let count = batch.max(20);
        let s = Sampling {
            count,
            frames: 120,
            ..Sampling::default()
        };
        let prompt = Prompt {
            class: "antalgic".into(),
            severity: 0.6,
            ..Prompt::default()
        };
        progress.start(&format!("benchmark: generation at batch {batch}"), 1);
        let cpu0 = process_cpu_seconds();
        let t = Instant::now();
        let out = generate_batched(&g, &prompt, &s, batch, &NoProgress, &cancel)?;
        let wall = t.elapsed().as_secs_f64();
        let cores = cpu0.zip(process_cpu_seconds()).map(|(a, b)| (b - a) / wall);
        progress.advance(1, "generated");
        progress.finish();
        let n = out.sequences.len().max(1);
        stages.push(figure(
            &format!("generation, batch {batch}"),
            format!("{n} sequences of 120 frames"),
            "sequence",
            (wall / n as f64, n, cores),
            generation_flops(&g, &Sampling { count: 1, ..s }),
            &peak,
        ));
    }
    let twin = TwinConfig {
        steps,
        ..TwinConfig::default()
    };
    progress.start("benchmark: twin steps", 1);
    train_twin(ds, "normal", &twin, device, &rec, &cancel)?;
    progress.advance(1, "twin");
    progress.finish();
    stages.push(figure(
        "twin step",
        format!(
            "batch {} x {} frames, width {}, {} layers",
            twin.batch, twin.frames, twin.width, twin.layers
        ),
        "step",
        rec.per_unit("training normative twin")
            .ok_or_else(|| missing("twin"))?,
        twin.train_step_flops(),
        &peak,
    ));
    Ok(LearningBench {
        backend: backend.to_string(),
        peak,
        stages,
    })
}

/// One classifier epoch of each architecture at the evaluation's default size (or `batch`
/// windows per step).
fn classifier_stages(
    ds: &Dataset,
    device: &Device,
    peak: &MatmulPeak,
    batch: Option<usize>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Vec<StageFigure>, ModelError> {
    let (windows, frames) = classifier_windows(ds)?;
    let refs: Vec<&LabelledWindow> = windows.iter().collect();
    let classes = ds.labels().len();
    let default = ClassifierConfig::default();
    let cfg = ClassifierConfig {
        max_epochs: 3,
        patience: 10,
        batch: batch.unwrap_or(default.batch).max(1),
        ..default
    };
    let steps_per_epoch = cfg.steps_per_epoch(refs.len());
    let mut out = Vec::new();
    for kind in ClassifierKind::ALL {
        let rec = Recorder::default();
        progress.start(&format!("benchmark: {} epochs", kind.name()), 1);
        train_classifier(kind, &cfg, classes, &refs, &[], device, 1, &rec, cancel)?;
        progress.advance(1, kind.name());
        progress.finish();
        let stage = format!("{} classifier", kind.name());
        out.push(figure(
            &format!("{} epoch", kind.name()),
            format!(
                "{steps_per_epoch} steps of batch {} x {frames} frames, hidden {}",
                cfg.batch, cfg.hidden
            ),
            "epoch",
            rec.per_unit(&stage).ok_or_else(|| missing(&stage))?,
            steps_per_epoch as f64
                * crate::core::model::TRAIN_STEP_FACTOR
                * cfg.forward_flops(kind, classes, cfg.batch, frames),
            peak,
        ));
    }
    Ok(out)
}

/// A memory figure of this process from `/proc/self/status` (Linux), MiB: `VmHWM` (peak
/// resident) or `VmRSS` (resident now). `None` where the platform does not say.
fn proc_status_mib(field: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Peak resident memory of this process so far, MiB (Linux; `None` elsewhere).
#[must_use]
pub fn peak_rss_mib() -> Option<f64> {
    proc_status_mib("VmHWM:")
}

/// Minor page faults of this process so far (Linux `/proc/self/stat`; `None` elsewhere): each is
/// the kernel mapping, and zeroing, a fresh page. An allocator that hands freed tensor buffers
/// back to the kernel shows here in the millions for a training fold (see `.cargo/config.toml`).
#[must_use]
pub fn minor_page_faults() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields count from its end.
    let rest = &s[s.rfind(')')? + 1..];
    // After the name: state (3), ppid, pgrp, session, tty_nr, tpgid, flags, minflt (10).
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Resident memory of this process now, MiB (Linux; `None` elsewhere).
#[must_use]
pub fn rss_mib() -> Option<f64> {
    proc_status_mib("VmRSS:")
}

#[cfg(test)]
mod tests {
    use super::minor_page_faults;

    /// Touching fresh memory makes the kernel fault pages in, and the counter sees them.
    #[test]
    #[cfg(target_os = "linux")]
    fn page_faults_count_fresh_pages() {
        let before = minor_page_faults().expect("Linux reports minor page faults");
        // 64 MiB written byte by byte: at least one fault per 2 MiB even with huge pages.
        let v = std::hint::black_box(vec![1_u8; 64 << 20]);
        let sum: u64 = v.iter().step_by(4096).map(|&b| u64::from(b)).sum();
        assert_eq!(sum, (64 << 20) / 4096);
        let after = minor_page_faults().expect("Linux reports minor page faults");
        assert!(after >= before + 32, "{before} -> {after}");
    }
}
