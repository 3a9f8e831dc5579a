//! `evaluate`: does synthetic data help? Subject-wise cross-validation with classifiers trained
//! on real, synthetic and mixed data, a jitter/time-warp baseline, and generative metrics.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use pathogait::core::data::Dataset;
use pathogait::core::eval::classifier::{ClassifierConfig, ClassifierKind};
use pathogait::core::eval::scarcity::{Scarcity, ScarcityRow, cut_dir, cut_name};
use pathogait::core::eval::significance::p_label;
use pathogait::core::eval::{
    Condition, EvalConfig, EvalReport, FoldResult, FoldRun, Protocol, evaluate_folds, fold_count,
};
use pathogait::core::jobs::CancelToken;
use pathogait::core::model::bundle::TrainPlan;
use pathogait::core::model::select_device;

use super::eval_print::{pct, print_report};
use super::model_cmds::{BackendArg, Preset};
use super::progress::Bars;
use super::table::Table;
use super::{DataArgs, load_data};

/// What a classifier's validation loss averages over.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ValidationArg {
    /// Each class's mean loss, averaged over the classes.
    Classes,
    /// Every validation window alike.
    Windows,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProtocolArg {
    /// Leave one subject out.
    Loso,
    /// k folds of whole subjects (--folds).
    Kfold,
}

/// How the synthetic windows are asked for.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // command-line switches, each independent
pub struct SyntheticArgs {
    /// Spread each class's synthetic prompts over severities 0.1-0.9 and slow/normal/fast
    /// speed instead of asking for the typical walk every time.
    #[arg(long)]
    prompt_spread: bool,
    /// Prompt each synthetic window with the values of one of the fit subjects' walks of its
    /// class (severity, descriptor bins, side), cycling through them (overrides
    /// --prompt-spread); with --subject-bodies each takes that walk's subject's build.
    #[arg(long)]
    like_fit_walks: bool,
    /// Give each synthetic window the build (bone lengths) of one of the fold's fit subjects,
    /// drawn per window, instead of the decoder's average build.
    #[arg(long)]
    subject_bodies: bool,
    /// Start each synthetic window at a random point of its stride, as real windows cut from
    /// longer walks do: the generator continues each walk for half a window and the window is
    /// cut from it at a seeded offset.
    #[arg(long)]
    random_start: bool,
    /// Move each decoded feature's mean and variance to the fit windows' of the window's class
    /// (the decoder's variance compensation: its reconstructions vary less than the data).
    #[arg(long)]
    match_variance: bool,
}

#[derive(Debug, Args)]
pub struct EvaluateCmd {
    #[command(flatten)]
    data: DataArgs,
    /// Output folder: `report.json`, `summary.csv`, `per_fold.csv`, `confusion.csv`,
    /// `generative.csv`, and `folds/` (finished folds, reused when the same run is started again).
    #[arg(long)]
    out: PathBuf,
    /// Fold scheme.
    #[arg(long, value_enum, default_value = "loso")]
    protocol: ProtocolArg,
    /// Folds for --protocol kfold.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Run only the first N folds (a quick look).
    #[arg(long)]
    max_folds: Option<usize>,
    /// Run only these folds (1-based, comma-separated) into `--out`/folds/, e.g. one per job
    /// of a cluster array; the report covers every fold saved there under the same settings.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["merge", "max_folds", "fresh"])]
    fold: Vec<usize>,
    /// Run no fold: assemble the report from the folds saved in `--out`/folds/.
    #[arg(long, conflicts_with = "fresh")]
    merge: bool,
    /// Classifiers, comma-separated: gru, lstm, cnn.
    #[arg(long, value_delimiter = ',', default_value = "gru,lstm,cnn")]
    classifiers: Vec<String>,
    /// Synthetic windows per class (model and baseline alike).
    #[arg(long, default_value_t = 100)]
    synthetic_per_class: usize,
    /// Generator and classifier size preset.
    #[arg(long, value_enum, default_value = "default")]
    preset: Preset,
    /// Generator steps per stage (tokeniser and GPT; overrides the preset).
    #[arg(long)]
    generator_steps: Option<usize>,
    /// Generator frames per gait-token step: 4 (default) or 2 (the decoder keeps more of the
    /// real walks' spread, at twice the GPT tokens).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["2", "4"]))]
    downsample: Option<String>,
    /// Frames between the starts of the generator's training windows (default 16). Smaller
    /// hops give its GPT the same walks cut at more points of the stride, each with its own
    /// tokens, at no cost in training steps.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    generator_hop: Option<u32>,
    /// Dropout of the generator's GPT (default 0.1): more holds it back from learning the few
    /// fit subjects' walks by heart.
    #[arg(long, value_parser = parse_dropout)]
    generator_dropout: Option<f64>,
    /// Keep the generator's GPT weights from its best held-out check instead of its last step
    /// (a GPT that stops on a plateau has trained past its best by then).
    #[arg(long)]
    generator_keep_best: bool,
    /// At each of the generator GPT's held-out checks, sample this many windows prompted like
    /// its training windows and judge the GPT by their distance to those windows instead of by
    /// its held-out next-token loss (0 = the loss).
    #[arg(long, default_value_t = 0)]
    generator_sample_checks: usize,
    /// After training each fold's generator, sample this many walks per class like its
    /// training walks and fit --match-variance's filter to them instead of to the decoder's
    /// reconstructions alone (0 = off).
    #[arg(long, default_value_t = 0)]
    calibrate_variance: usize,
    /// Classifier epoch limit (overrides the preset).
    #[arg(long)]
    epochs: Option<usize>,
    /// Classifier hidden width (overrides the preset).
    #[arg(long)]
    hidden: Option<usize>,
    /// Classifier windows per batch (overrides the preset).
    #[arg(long)]
    classifier_batch: Option<usize>,
    /// Windows a classifier epoch draws at most; 0: the whole training set (overrides the preset).
    #[arg(long)]
    epoch_windows: Option<usize>,
    /// How a classifier's kept epoch is chosen: by its validation loss averaged over classes,
    /// or over windows (as builds before 2026-12-06 did; on an unbalanced set the largest class
    /// then chooses).
    #[arg(long, value_enum, default_value_t = ValidationArg::Classes)]
    validation: ValidationArg,
    /// Sampling temperature of the generator (lower: closer to the class, less diverse).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Sampling top-p.
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Classifier-free guidance scale of the generator (1 = off).
    #[arg(long, default_value_t = 1.0)]
    guidance: f32,
    /// Seed of splits, classifiers, sampling and baseline.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Data-scarcity curve: run the evaluation once per count, each fold's real training
    /// subjects cut to that many (a seeded choice per fold; the generator and the baseline see
    /// only the cut), e.g. `1,2,4,all`; each run goes to `--out`/real-subjects-N/, the curve to
    /// `--out`/scarcity.csv, .json and scarcity-<classifier>.svg/.png.
    #[arg(long, value_delimiter = ',')]
    real_subjects: Vec<String>,
    /// Learning rate of fine-tuning on real walks after synthetic pretraining, as a fraction
    /// of the classifier's.
    #[arg(long, default_value_t = 0.3)]
    finetune_lr_scale: f64,
    #[command(flatten)]
    synthetic: SyntheticArgs,
    /// Discard saved folds in --out instead of resuming.
    #[arg(long)]
    fresh: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
}

fn config_for(c: &EvaluateCmd) -> Result<EvalConfig> {
    let mut classifiers = Vec::new();
    for name in &c.classifiers {
        let k = ClassifierKind::parse(name)
            .with_context(|| format!("unknown classifier '{name}' (use gru, lstm, cnn)"))?;
        if !classifiers.contains(&k) {
            classifiers.push(k);
        }
    }
    if classifiers.is_empty() {
        bail!("--classifiers names none");
    }
    let (mut generator, mut classifier) = match c.preset {
        Preset::Default => (TrainPlan::default(), ClassifierConfig::default()),
        Preset::Tiny => (TrainPlan::tiny(), ClassifierConfig::tiny()),
    };
    if let Some(s) = c.generator_steps {
        generator.tokenizer_stage.steps = s;
        generator.gpt_stage.steps = s;
    }
    if let Some(r) = c.downsample.as_deref().and_then(|r| r.parse().ok()) {
        generator.tokenizer.downsample = r;
    }
    if let Some(h) = c.generator_hop {
        generator.window.hop = h as usize;
    }
    if let Some(p) = c.generator_dropout {
        generator.gpt_dropout = p;
    }
    if c.generator_keep_best {
        generator.gpt_stage.keep_best = true;
    }
    generator.calibrate_walks = c.calibrate_variance;
    generator.sample_checks = c.generator_sample_checks;
    if let Some(e) = c.epochs {
        classifier.max_epochs = e;
    }
    if let Some(h) = c.hidden {
        classifier.hidden = h;
    }
    if let Some(b) = c.classifier_batch {
        classifier.batch = b.max(1);
    }
    if let Some(w) = c.epoch_windows {
        classifier.epoch_windows = w;
    }
    classifier.balanced_validation = matches!(c.validation, ValidationArg::Classes);
    generator.seed = c.seed;
    Ok(EvalConfig {
        protocol: match c.protocol {
            ProtocolArg::Loso => Protocol::Loso,
            ProtocolArg::Kfold => Protocol::KFold(c.folds.max(2)),
        },
        classifiers,
        classifier,
        synthetic_per_class: c.synthetic_per_class,
        generator,
        max_folds: c.max_folds,
        seed: c.seed,
        finetune_lr_scale: c.finetune_lr_scale,
        prompt_spread: c.synthetic.prompt_spread,
        like_fit_walks: c.synthetic.like_fit_walks,
        sampling: pathogait::core::model::generate::Sampling {
            temperature: c.temperature,
            top_p: c.top_p,
            guidance: c.guidance,
            subject_bodies: c.synthetic.subject_bodies,
            random_start: c.synthetic.random_start,
            match_variance: c.synthetic.match_variance,
            ..EvalConfig::default().sampling
        },
        ..EvalConfig::default()
    })
}

/// A dropout probability in [0, 0.9].
fn parse_dropout(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .parse()
        .map_err(|e| format!("'{s}' is not a number: {e}"))?;
    if (0.0..=0.9).contains(&p) {
        Ok(p)
    } else {
        Err(format!("dropout {p} is outside 0-0.9"))
    }
}

fn fmt_duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The cuts of `--real-subjects`: counts, or `None` for all.
fn real_cuts(c: &EvaluateCmd) -> Result<Vec<Option<usize>>> {
    c.real_subjects
        .iter()
        .map(|t| match t.trim() {
            "all" => Ok(None),
            n => match n.parse::<usize>() {
                Ok(k) if k >= 1 => Ok(Some(k)),
                _ => bail!("--real-subjects {t}: give counts of 1 or more, or 'all'"),
            },
        })
        .collect()
}

pub fn evaluate_cmd(c: &EvaluateCmd) -> Result<ExitCode> {
    let cfg = config_for(c)?;
    let cuts = real_cuts(c)?;
    let (ds, _) = load_data(&c.data)?;
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    print!("{}", super::commands::describe(&ds, &c.data));
    let t0 = Instant::now();
    if cuts.is_empty() {
        run_one(c, &cfg, &ds, (&device, &backend), &c.out)?;
    } else {
        let mut reports = Vec::new();
        for cut in &cuts {
            let name = cut_name(*cut);
            println!("\n== real training subjects per fold: {name}");
            let run_cfg = EvalConfig {
                real_subjects: *cut,
                ..cfg.clone()
            };
            let out = cut_dir(&c.out, *cut);
            reports.push((*cut, run_one(c, &run_cfg, &ds, (&device, &backend), &out)?));
        }
        let refs: Vec<(Option<usize>, &EvalReport)> =
            reports.iter().map(|(k, r)| (*k, r)).collect();
        write_scarcity(&Scarcity::of(&refs), &cfg, &c.out)?;
    }
    println!("Total {}", fmt_duration(t0.elapsed().as_secs_f64()));
    Ok(ExitCode::SUCCESS)
}

/// The scarcity curve of `k` as a table: rows conditions, columns cuts, `cell` per point.
fn scarcity_table(
    s: &Scarcity,
    k: ClassifierKind,
    heading: &str,
    cell: impl Fn(&ScarcityRow) -> String,
) -> Table {
    let mut header = vec![format!("{} {heading} by real subjects", k.name())];
    header.extend(s.cuts.iter().cloned());
    let hr: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(&hr);
    for cond in Condition::ALL {
        let mut row = vec![cond.name().to_string()];
        row.extend(
            s.cuts
                .iter()
                .map(|cut| s.point(k, cond, cut).map_or_else(|| "-".into(), &cell)),
        );
        t.row(row);
    }
    t
}

/// Writes the scarcity curve (CSV, JSON, one SVG and PNG per classifier) and prints it.
fn write_scarcity(s: &Scarcity, cfg: &EvalConfig, out: &Path) -> Result<()> {
    let k = cfg.classifiers[0];
    let t = scarcity_table(s, k, "accuracy % (mean ± SD)", |p| {
        format!("{} ± {}", pct(p.accuracy_mean), pct(p.accuracy_sd))
    });
    println!("\nData-scarcity curve:\n{}", t.render());
    let b = scarcity_table(s, k, "balanced accuracy % (pooled; p)", |p| {
        format!("{} (p {})", pct(p.balanced_accuracy), p_label(p.p_balanced))
    });
    println!("\n{}", b.render());
    s.write(out, &cfg.classifiers)?;
    println!(
        "Wrote scarcity.csv, scarcity.json and scarcity-<classifier>.svg/.png to {}",
        out.display()
    );
    Ok(())
}

/// One evaluation into `out` (resuming from its saved folds), printed.
fn run_one(
    c: &EvaluateCmd,
    cfg: &EvalConfig,
    ds: &Dataset,
    (device, backend): (&burn::tensor::Device, &str),
    out: &Path,
) -> Result<EvalReport> {
    let cfg = cfg.clone();
    let folds_dir = out.join("folds");
    if c.fresh && folds_dir.exists() {
        std::fs::remove_dir_all(&folds_dir)
            .with_context(|| format!("cannot remove {}", folds_dir.display()))?;
    }
    let bars = Bars::default();
    let cancel = CancelToken::new();
    let t0 = Instant::now();
    let mut computed: Vec<f64> = Vec::new();
    let mut on_fold = |f: &FoldResult, done: usize, total: usize, resumed: bool| {
        if resumed {
            println!(
                "fold {done}/{total} (test: {}) reused from {}",
                f.test_subjects.join(", "),
                folds_dir.display()
            );
            return;
        }
        computed.push(f.seconds);
        let per = computed.iter().sum::<f64>() / computed.len() as f64;
        let gru = f
            .results
            .iter()
            .filter(|r| r.classifier == cfg.classifiers[0])
            .map(|r| format!("{} {}", r.condition.name(), pct(r.accuracy)))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "fold {done}/{total} (test: {}) {} · {}: {gru} · ETA {}",
            f.test_subjects.join(", "),
            fmt_duration(f.seconds),
            cfg.classifiers[0].name(),
            fmt_duration(per * (total - done) as f64)
        );
        for why in &f.generator_stops {
            println!("  generator {why}");
        }
    };
    let run = if c.merge {
        FoldRun::Merge
    } else if c.fold.is_empty() {
        FoldRun::All
    } else {
        if let Some(k) = c.fold.iter().find(|&&k| k == 0) {
            bail!("--fold {k}: folds are numbered from 1");
        }
        FoldRun::Only(c.fold.iter().map(|k| k - 1).collect())
    };
    let total = fold_count(ds, &cfg)?;
    if run != FoldRun::All {
        println!(
            "{total} folds in this protocol; saved folds are read from {}",
            folds_dir.display()
        );
    }
    let report = evaluate_folds(
        ds,
        &cfg,
        &run,
        device,
        backend,
        Some(out),
        &bars,
        &cancel,
        &mut on_fold,
    )?;
    report.write(out)?;
    if report.folds.len() < total {
        println!(
            "\nThe report covers {} of {total} folds (the ones saved so far); rerun with --merge once the rest are done.",
            report.folds.len()
        );
    }
    print_report(&report);
    println!(
        "\nWrote report.json, summary.csv, per_fold.csv, confusion.csv, generative.csv to {} ({}).",
        out.display(),
        fmt_duration(t0.elapsed().as_secs_f64())
    );
    Ok(report)
}
