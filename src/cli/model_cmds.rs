//! `train`, `generate` and `bench`: the generation model from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use pathogait::core::bench::{BenchOptions, learning_bench};
use pathogait::core::data::{Dataset, Side};
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::fsutil::write_atomic;
use pathogait::core::io::trc;
use pathogait::core::jobs::{CancelToken, NoProgress, Progress};
use pathogait::core::model::bundle::{GaitGenerator, TrainPlan};
use pathogait::core::model::calibrate::train;
use pathogait::core::model::features::WindowConfig;
use pathogait::core::model::generate::{Sampling, generate, generate_like};
use pathogait::core::model::metrics::{
    bone_length_violation_pct, diversity_m, foot_skating_ratio, prior_adherence,
};
use pathogait::core::model::prompt::{Prompt, Speed};
use pathogait::core::model::vocab::DESCRIPTORS;
use pathogait::core::model::{BackendChoice, select_device};
use serde::Serialize;

use super::progress::Bars;
use super::table::{Table, num, pct0};
use super::{DataArgs, load_data};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BackendArg {
    Auto,
    Cpu,
    Wgpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => Self::Auto,
            BackendArg::Cpu => Self::Cpu,
            BackendArg::Wgpu => Self::Wgpu,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Preset {
    /// The default model (minutes on a CPU).
    Default,
    /// A tiny model (seconds): smoke tests.
    Tiny,
}

#[derive(Debug, Args)]
pub struct TrainCmd {
    #[command(flatten)]
    data: DataArgs,
    /// Output folder of the model bundle.
    #[arg(long)]
    out: PathBuf,
    /// Model size preset.
    #[arg(long, value_enum, default_value = "default")]
    preset: Preset,
    /// Tokeniser steps (overrides the preset).
    #[arg(long)]
    tokenizer_steps: Option<usize>,
    /// GPT steps (overrides the preset).
    #[arg(long)]
    gpt_steps: Option<usize>,
    /// Batch size (overrides the preset).
    #[arg(long)]
    batch: Option<usize>,
    /// Normal class (default: auto-detected).
    #[arg(long)]
    normal_class: Option<String>,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Continue an interrupted run with the same settings from its last checkpoint (the
    /// finished tokeniser, or mid-stage progress saved every 100 steps in OUT/checkpoint).
    #[arg(long)]
    resume: bool,
    /// Initialise the GPT blocks from a local GPT-2 safetensors file (sets width 768, 12 heads;
    /// the first --gpt-layers blocks are loaded).
    #[arg(long)]
    gpt2: Option<PathBuf>,
    /// GPT blocks (default: the preset's).
    #[arg(long)]
    gpt_layers: Option<usize>,
    /// Frames per training window at 30 Hz (a multiple of 4; default 64 = 2.1 s). Longer
    /// windows hold more complete gait cycles per generated walk, at a longer GPT context.
    #[arg(long)]
    window_frames: Option<usize>,
    /// Frames between the starts of training windows (default 16). Smaller hops give the GPT
    /// the same walks cut at more points of the stride, each with its own tokens.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    window_hop: Option<u32>,
    /// Frames per gait-token step: 4 (default) or 2 (finer strides, twice the GPT tokens).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["2", "4"]))]
    downsample: Option<String>,
    /// Codebook sizes spatial,temporal,pathological (default 128,64,32).
    #[arg(long, value_delimiter = ',', num_args = 3)]
    codes: Option<Vec<usize>>,
    /// Keep the GPT weights of its best held-out check instead of its last step.
    #[arg(long)]
    keep_best: bool,
    /// After training, sample this many walks per class like the training walks and fit the
    /// decoder's variance compensation (generate --match-variance) to them instead of to the
    /// reconstructions alone (0 = off).
    #[arg(long, default_value_t = 0)]
    calibrate_variance: usize,
    /// At each of the GPT's held-out checks, sample this many windows prompted like its
    /// training windows and judge the GPT by their distance to those windows instead of by its
    /// held-out next-token loss (0 = the loss; needs the default preset's checks).
    #[arg(long, default_value_t = 0)]
    sample_checks: usize,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // command-line switches, each independent
pub struct GenerateCmd {
    /// Model bundle folder (from `pathogait train`).
    #[arg(long)]
    model: PathBuf,
    /// Class to generate (as named in the training data).
    #[arg(long = "class", required_unless_present = "all_classes")]
    class: Option<String>,
    /// Generate every class the model knows and print the adherence table.
    #[arg(long)]
    all_classes: bool,
    /// Severity 0..1 (0.5 = the class's typical walk).
    #[arg(long, default_value_t = 0.5)]
    severity: f32,
    /// Affected side.
    #[arg(long)]
    side: Option<String>,
    /// Speed: slow, normal or fast.
    #[arg(long, default_value = "normal")]
    speed: String,
    /// Free descriptor (repeatable), e.g. "reduced knee flexion".
    #[arg(long = "descriptor")]
    descriptors: Vec<String>,
    /// Sequences (per class with --all-classes).
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Frames per sequence.
    #[arg(long, default_value_t = 120)]
    frames: usize,
    /// Softmax temperature.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Top-k (0 = off).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Top-p.
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Classifier-free guidance scale (1 = off; 2-3 follow the prompt more closely).
    #[arg(long, default_value_t = 1.0)]
    guidance: f32,
    /// Give each walk the build (bone lengths) of one of the model's training subjects, drawn
    /// per walk, instead of the decoder's average build (named in the provenance).
    #[arg(long)]
    subject_bodies: bool,
    /// Start each walk at a random point of its stride: the model continues the walk for half
    /// a window and the frames are cut from it at a seeded offset (named in the provenance).
    #[arg(long)]
    random_start: bool,
    /// Move each decoded feature's mean and variance to the training windows' of the walk's
    /// class (the decoder's variance compensation: its reconstructions vary less than the data).
    #[arg(long)]
    match_variance: bool,
    /// Prompt each walk with the values (severity, descriptor bins, side) of one of the
    /// model's training walks of the class, using every one before repeating one, instead of
    /// the prompt options (with --subject-bodies, that walk's subject's build).
    #[arg(long)]
    like_training_walks: bool,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Semantic augmentation: probability of moving each prompt bin per sequence.
    #[arg(long, default_value_t = 0.0)]
    augment: f64,
    /// Output folder for TRC files and a generation manifest.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Keep the walks in this project as a generated set (npz in `<project>.data/generated/`,
    /// model, prompt, sampling and seeds in the project file), named by --save-set.
    #[arg(long, requires = "save_set")]
    project: Option<PathBuf>,
    /// Name of the generated set (with --all-classes, the class is appended).
    #[arg(long, requires = "project")]
    save_set: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchCmd {
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Training steps timed per model.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Time the studio's viewport renderer drawing this many skeletons instead of the models.
    #[arg(long)]
    viewport: Option<usize>,
    /// Time the studio's frames with this many walks instead of the models (a list runs each:
    /// `--ui 1000,10000,100000`).
    #[arg(long, value_delimiter = ',')]
    ui: Vec<usize>,
    /// Frames drawn per tab with --ui.
    #[arg(long, default_value_t = 120)]
    ui_frames: usize,
    /// Print the figures as JSON (for scripts) instead of a table.
    #[arg(long)]
    json: bool,
    /// Classifier windows per step in the classifier epochs (default: the evaluation's).
    #[arg(long)]
    classifier_batch: Option<usize>,
    /// Generation batch sizes timed, each generating max(batch, 20) walks of 120 frames
    /// (`--gen-batches 1,100,1000,10000` on a GPU).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 100, 1000])]
    gen_batches: Vec<usize>,
}

fn plan_for(c: &TrainCmd) -> TrainPlan {
    let mut p = match c.preset {
        Preset::Default => TrainPlan::default(),
        Preset::Tiny => TrainPlan::tiny(),
    };
    if let Some(s) = c.tokenizer_steps {
        p.tokenizer_stage.steps = s;
    }
    if let Some(s) = c.gpt_steps {
        p.gpt_stage.steps = s;
    }
    if let Some(b) = c.batch {
        p.tokenizer_stage.batch = b;
        p.gpt_stage.batch = b;
    }
    p.normal_class.clone_from(&c.normal_class);
    if let Some(l) = c.gpt_layers {
        p.gpt_layers = l;
    }
    if let Some(r) = c.downsample.as_deref().and_then(|r| r.parse().ok()) {
        p.tokenizer.downsample = r;
    }
    if let Some(k) = &c.codes
        && let [a, b, c] = k[..]
    {
        p.tokenizer.codes = [a.max(2), b.max(2), c.max(2)];
    }
    if let Some(f) = c.window_frames {
        p.window.frames = WindowConfig::whole_frames(f);
    }
    if let Some(h) = c.window_hop {
        p.window.hop = h as usize;
    }
    p.gpt_stage.keep_best |= c.keep_best;
    p.calibrate_walks = c.calibrate_variance;
    p.sample_checks = c.sample_checks;
    if let Some(f) = &c.gpt2 {
        p.gpt2_init = Some(f.clone());
        p.gpt_width = 768;
        p.gpt_heads = 12;
    }
    p.seed = c.seed;
    p
}

pub fn train_cmd(c: &TrainCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    println!(
        "Data: {} ({} walks, {} subjects)",
        ds.name,
        ds.sequences.len(),
        ds.subjects().len()
    );
    let plan = plan_for(c);
    let name = c
        .out
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let ckpt = c.out.join("checkpoint");
    if !c.resume && ckpt.exists() {
        std::fs::remove_dir_all(&ckpt).with_context(|| format!("clearing {}", ckpt.display()))?;
    }
    let g = train(
        &ds,
        &plan,
        &name,
        &device,
        &backend,
        Some(&ckpt),
        &Bars::default(),
        &CancelToken::new(),
    )?;
    g.save(&c.out)?;
    let r = &g.manifest.report;
    println!(
        "Trained in {:.1} s; saved to {}",
        r.seconds,
        c.out.display()
    );
    println!(
        "Windows: {} training, {} held out (subjects {})",
        r.windows.0,
        r.windows.1,
        r.heldout_subjects.join(", ")
    );
    println!(
        "Tokeniser MPJPE (root-relative): {} mm on training windows, {} mm on held-out subjects",
        num(r.mpjpe_train_mm, 1),
        num(r.mpjpe_heldout_mm, 1)
    );
    for (name, u) in ["spatial", "temporal", "pathological"]
        .iter()
        .zip(&r.code_usage)
    {
        println!(
            "Codebook {name:<12} {:>5.1} % of codes used, perplexity {:.1}",
            100.0 * u.used_fraction,
            u.perplexity
        );
    }
    if !r.class_reference.is_empty() {
        let mut t = Table::new(&[
            "class",
            "windows",
            "real analysed",
            "real nearest = own",
            "tokenised analysed",
            "tokenised nearest = own",
        ]);
        for c in &r.class_reference {
            t.row(vec![
                c.class.clone(),
                c.windows.to_string(),
                c.real_analysed.to_string(),
                pct0(c.real_hit_rate.unwrap_or(f64::NAN)),
                c.tokenised_analysed.to_string(),
                pct0(c.tokenised_hit_rate.unwrap_or(f64::NAN)),
            ]);
        }
        println!("Descriptor reference (nearest real class by priors, training windows):");
        print!("{}", t.render());
    }
    if let (Some(t), Some(g)) = (r.tokenizer_log.last(), r.gpt_log.last()) {
        println!(
            "Final losses: tokeniser {:.4} (reconstruction {:.4}), GPT cross-entropy {:.3}",
            t.loss, t.main, g.loss
        );
    }
    for (stage, end) in [("Tokeniser", &r.tokenizer_end), ("GPT", &r.gpt_end)] {
        if let Some((step, loss)) = end.heldout.last() {
            let what = end
                .stopped
                .as_deref()
                .unwrap_or("no plateau: ran all its steps");
            let measure = end.measure.as_deref().unwrap_or("held-out loss");
            println!("{stage}: {measure} {loss:.4} at step {step}; {what}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_prompt(c: &GenerateCmd, class: &str) -> Result<Prompt> {
    let side = match c.side.as_deref() {
        None => None,
        Some(s) => {
            Some(Side::parse(s).with_context(|| format!("--side '{s}' is not L/R/left/right"))?)
        }
    };
    let speed = match c.speed.to_ascii_lowercase().as_str() {
        "slow" => Speed::Slow,
        "normal" => Speed::Normal,
        "fast" => Speed::Fast,
        other => bail!("--speed '{other}' is not slow, normal or fast"),
    };
    Ok(Prompt {
        class: class.to_string(),
        severity: c.severity,
        side,
        speed,
        descriptors: c.descriptors.clone(),
    })
}

#[derive(Serialize)]
struct GenerationManifest<'a> {
    model: String,
    prompt: &'a Prompt,
    expanded: &'a str,
    sampling: Sampling,
    files: Vec<(String, u64)>,
}

fn write_outputs(
    dir: &Path,
    g: &GaitGenerator,
    prompt: &Prompt,
    expanded: &str,
    s: Sampling,
    seqs: &[pathogait::core::data::GaitSequence],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = Vec::new();
    for seq in seqs {
        let name = format!("{}.trc", seq.id);
        let text = trc::opensim_text(&name, seq);
        write_atomic(&dir.join(&name), text.as_bytes())
            .with_context(|| format!("writing {}", dir.join(&name).display()))?;
        let seed = match &seq.provenance {
            pathogait::core::data::Provenance::Generated { seed, .. } => *seed,
            _ => 0,
        };
        files.push((name, seed));
    }
    let m = GenerationManifest {
        model: format!("{} ({})", g.manifest.name, g.weights_hash),
        prompt,
        expanded,
        sampling: s,
        files,
    };
    let text = ron::ser::to_string_pretty(&m, ron::ser::PrettyConfig::new())
        .context("serialising the generation manifest")?;
    write_atomic(&dir.join("generation.ron"), text.as_bytes()).context("writing generation.ron")?;
    Ok(())
}

pub fn generate_cmd(c: &GenerateCmd) -> Result<ExitCode> {
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    let g = GaitGenerator::load(&c.model, &device)?;
    let classes: Vec<String> = if c.all_classes {
        g.manifest.vocab.classes.clone()
    } else {
        c.class.clone().into_iter().collect()
    };
    let mut table = Table::new(&[
        "requested",
        "walks",
        "analysed",
        "nearest = requested",
        "real/tokenised",
        "knee ROM gen/real",
        "stance % gen/real",
        "cadence gen/real",
        "asym % gen/real",
        "diversity m",
        "foot skate",
        "bone CV %",
    ]);
    let t0 = Instant::now();
    let mut total = 0;
    for class in &classes {
        let prompt = parse_prompt(c, class)?;
        let s = Sampling {
            temperature: c.temperature,
            top_k: c.top_k,
            top_p: c.top_p,
            seed: c.seed,
            count: c.count,
            frames: c.frames,
            augment: c.augment,
            guidance: c.guidance,
            subject_bodies: c.subject_bodies,
            random_start: c.random_start,
            match_variance: c.match_variance,
        };
        let out = if c.like_training_walks {
            generate_like(&g, class, &s, &Bars::default(), &CancelToken::new())?
        } else {
            generate(&g, &prompt, &s, &Bars::default(), &CancelToken::new())?
        };
        println!("Prompt: {}", out.prompt.text);
        total += out.sequences.len();
        let a = prior_adherence(&out.sequences, class, &g.manifest.class_priors);
        let pair = |k: &str, d: usize| {
            let i = DESCRIPTORS.iter().position(|(x, _)| *x == k).unwrap_or(0);
            format!("{}/{}", num(a.generated_mean[i], d), num(a.real_mean[i], d))
        };
        table.row(vec![
            class.clone(),
            out.sequences.len().to_string(),
            a.analysed.to_string(),
            pct0(a.hit_rate),
            g.manifest
                .report
                .class_reference
                .iter()
                .find(|r| r.class == *class)
                .map_or_else(
                    || "-".into(),
                    |r| {
                        format!(
                            "{} / {}",
                            pct0(r.real_hit_rate.unwrap_or(f64::NAN)),
                            pct0(r.tokenised_hit_rate.unwrap_or(f64::NAN))
                        )
                    },
                ),
            pair("knee_rom_deg", 1),
            pair("stance_pct", 1),
            pair("cadence_steps_min", 1),
            pair("asymmetry_pct", 1),
            num(diversity_m(&out.sequences), 3),
            num(foot_skating_ratio(&out.sequences), 2),
            num(bone_length_violation_pct(&out.sequences), 1),
        ]);
        if let (Some(pfile), Some(name)) = (&c.project, &c.save_set) {
            let name = if c.all_classes {
                format!("{name}_{class}")
            } else {
                name.clone()
            };
            save_set(pfile, &name, &g, &prompt, &s, &out)?;
        }
        if let Some(dir) = &c.out {
            let dir = if c.all_classes {
                dir.join(class)
            } else {
                dir.clone()
            };
            write_outputs(&dir, &g, &prompt, &out.prompt.text, s, &out.sequences)?;
            println!(
                "Wrote {} TRC files and generation.ron to {}",
                out.sequences.len(),
                dir.display()
            );
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    print!("{}", table.render());
    println!(
        "{total} sequences of {} frames in {secs:.1} s ({:.1} per second)",
        c.frames,
        total as f64 / secs.max(1e-9)
    );
    println!(
        "gen/real: mean over generated walks / mean of the real class; nearest: real class closest over all prior features (z in within-class SDs)"
    );
    println!(
        "real/tokenised: the same hit rate for real training windows of the class and for their tokeniser reconstructions (what the descriptors can separate at all)"
    );
    Ok(ExitCode::SUCCESS)
}

/// Adds a generated set to a project file (saved atomically, previous version kept).
fn save_set(
    pfile: &Path,
    name: &str,
    g: &GaitGenerator,
    prompt: &Prompt,
    s: &Sampling,
    out: &pathogait::core::model::generate::Generated,
) -> Result<()> {
    let mut project = pathogait::core::project::Project::load(pfile)?;
    if project.generated.iter().any(|x| x.name == name) {
        bail!(
            "{}: a generated set named '{name}' already exists",
            pfile.display()
        );
    }
    let base = pfile.parent().unwrap_or(Path::new("."));
    let data_dir = pathogait::core::project::Project::data_dir(pfile);
    let model = format!("{} ({})", g.manifest.name, g.weights_hash);
    let set = pathogait::core::project::GeneratedSet::save(
        name, &model, prompt, s, out, &data_dir, base,
    )?;
    println!(
        "Saved generated set '{name}' ({} walks) to {}",
        set.walks.len(),
        set.file.display()
    );
    project.generated.push(set);
    project.save(pfile)?;
    Ok(())
}

pub fn bench_cmd(c: &BenchCmd) -> Result<ExitCode> {
    if !c.ui.is_empty() {
        #[cfg(feature = "studio")]
        return super::render_bench::ui_bench_cmd(&c.ui, c.ui_frames, c.json);
        #[cfg(not(feature = "studio"))]
        anyhow::bail!(
            "bench --ui times the studio, which this build leaves out (--no-default-features)"
        );
    }
    if let Some(n) = c.viewport {
        #[cfg(feature = "studio")]
        return super::render_bench::viewport_bench(n);
        #[cfg(not(feature = "studio"))]
        anyhow::bail!(
            "bench --viewport {n} times the studio's renderer, which this build leaves out \
             (--no-default-features)"
        );
    }
    let (device, backend) = select_device(c.backend.into())?;
    if !c.json {
        println!("Backend: {backend}");
    }
    let ds: Dataset = demo_dataset(&DemoConfig::default(), &NoProgress, &CancelToken::new())?;
    let cpu = !backend.starts_with("wgpu");
    let t0 = Instant::now();
    let bars = Bars::default();
    let progress: &dyn Progress = if c.json { &NoProgress } else { &bars };
    let r = learning_bench(
        &ds,
        &device,
        &backend,
        cpu,
        &BenchOptions {
            steps: c.steps,
            classifier_batch: c.classifier_batch,
            gen_batches: c.gen_batches.clone(),
        },
        progress,
    )?;
    let total_s = t0.elapsed().as_secs_f64();
    let rss = pathogait::core::bench::peak_rss_mib();
    let faults = pathogait::core::bench::minor_page_faults();
    if c.json {
        let v = serde_json::json!({
            "bench": r,
            "total_seconds": total_s,
            "peak_rss_mib": rss,
            "minor_page_faults": faults,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let p = &r.peak;
    println!(
        "Machine limit (f32 matmul {n}x{n}, burn on this device): {} GFLOP/s on one thread, {} GFLOP/s on all {} threads",
        num(p.one_thread_gflops, 1),
        num(p.all_threads_gflops, 1),
        p.threads,
        n = p.n
    );
    let mut t = Table::new(&[
        "stage",
        "shapes",
        "time",
        "GFLOP/unit",
        "GFLOP/s",
        "% of peak",
        "cores used",
    ]);
    for s in &r.stages {
        let time = if s.seconds < 1.0 {
            format!("{:.1} ms/{}", s.seconds * 1e3, s.unit)
        } else {
            format!("{:.2} s/{}", s.seconds, s.unit)
        };
        t.row(vec![
            s.stage.clone(),
            s.detail.clone(),
            time,
            num(s.flops / 1e9, 3),
            num(s.gflops, 1),
            num(100.0 * s.fraction_of_peak, 1),
            s.cpu_cores_used.map_or_else(|| "-".into(), |c| num(c, 2)),
        ]);
    }
    print!("{}", t.render());
    println!("Total {total_s:.1} s, data preparation and model setup included");
    if let Some(m) = rss {
        println!("Peak memory (VmHWM): {m:.0} MiB");
    }
    if let Some(f) = faults {
        println!("Page faults (minor, the kernel zeroing fresh pages): {f}");
    }
    Ok(ExitCode::SUCCESS)
}
