//! `evaluate`: does synthetic data help? Subject-wise cross-validation with classifiers trained
//! on real, synthetic and mixed data, a jitter/time-warp baseline, and generative metrics.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use pathogait::core::eval::classifier::{ClassifierConfig, ClassifierKind};
use pathogait::core::eval::generative::SetQuality;
use pathogait::core::eval::{
    Condition, EvalConfig, EvalReport, FoldResult, FoldRun, Protocol, evaluate_folds, fold_count,
};
use pathogait::core::jobs::CancelToken;
use pathogait::core::model::bundle::TrainPlan;
use pathogait::core::model::select_device;

use super::model_cmds::{BackendArg, Preset};
use super::progress::Bars;
use super::table::{Table, num};
use super::{DataArgs, load_data};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProtocolArg {
    /// Leave one subject out.
    Loso,
    /// k folds of whole subjects (--folds).
    Kfold,
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
        sampling: pathogait::core::model::generate::Sampling {
            temperature: c.temperature,
            top_p: c.top_p,
            guidance: c.guidance,
            ..EvalConfig::default().sampling
        },
        ..EvalConfig::default()
    })
}

/// Picks one set's quality figures out of a fold.
type PickSet = fn(&FoldResult) -> &SetQuality;

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

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}", 100.0 * v)
    } else {
        "-".into()
    }
}

/// The paper-style table: rows classifiers, columns conditions, accuracy mean ± SD over folds.
pub fn print_report(r: &EvalReport) {
    let mut header = vec!["accuracy % (mean ± SD over folds)"];
    header.extend(Condition::ALL.iter().map(|c| c.name()));
    let mut t = Table::new(&header);
    let mut fheader = vec!["pooled macro-F1 % (accuracy %)"];
    fheader.extend(Condition::ALL.iter().map(|c| c.name()));
    let mut f = Table::new(&fheader);
    for &k in &r.settings.classifiers {
        let mut row = vec![k.name().to_string()];
        let mut frow = vec![k.name().to_string()];
        for cond in Condition::ALL {
            if let Some(s) = r.row(k, cond) {
                row.push(format!("{} ± {}", pct(s.accuracy_mean), pct(s.accuracy_sd)));
                frow.push(format!(
                    "{} ({})",
                    pct(s.pooled_macro_f1),
                    pct(s.pooled_accuracy)
                ));
            } else {
                row.push("-".into());
                frow.push("-".into());
            }
        }
        t.row(row);
        f.row(frow);
    }
    println!("\n{}", t.render());
    println!("\nAll held-out walks pooled:\n{}", f.render());
    let mut d = Table::new(&[
        "Fréchet distance (GRU features)",
        "model",
        "baseline",
        "real vs real",
        "recognised % model",
        "baseline",
        "real (validation)",
    ]);
    for row in &r.distances {
        d.row(vec![
            row.class.clone(),
            num(row.model, 2),
            num(row.baseline, 2),
            num(row.real_reference, 2),
            num(100.0 * row.recognised.model, 1),
            num(100.0 * row.recognised.baseline, 1),
            num(100.0 * row.recognised.real, 1),
        ]);
    }
    println!("\n{}", d.render());
    println!(
        "recognised: windows the real-trained classifier assigns to their own class (for model and baseline windows, the class they were made for)"
    );
    let mut q = Table::new(&[
        "set (mean over folds)",
        "walks",
        "diversity m",
        "foot skating",
        "bone CV %",
        "prior hit %",
    ]);
    let avg = |g: &dyn Fn(&FoldResult) -> f64| {
        let v: Vec<f64> = r.folds.iter().map(g).filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let sets: [(&str, PickSet); 3] = [
        ("real (fit subjects)", |f| &f.generative.real),
        ("model", |f| &f.generative.model),
        ("baseline", |f| &f.generative.baseline_quality),
    ];
    for (name, get) in sets {
        q.row(vec![
            name.into(),
            num(avg(&|f| get(f).walks as f64), 0),
            num(avg(&|f| get(f).diversity_m), 3),
            num(avg(&|f| get(f).foot_skating), 2),
            num(avg(&|f| get(f).bone_violation_pct), 2),
            pct(avg(&|f| get(f).prior_hit_rate)),
        ]);
    }
    println!("\n{}", q.render());
}

pub fn evaluate_cmd(c: &EvaluateCmd) -> Result<ExitCode> {
    let cfg = config_for(c)?;
    let (ds, _) = load_data(&c.data)?;
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    print!("{}", super::commands::describe(&ds, &c.data));
    let folds_dir = c.out.join("folds");
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
    let total = fold_count(&ds, &cfg)?;
    if run != FoldRun::All {
        println!(
            "{total} folds in this protocol; saved folds are read from {}",
            folds_dir.display()
        );
    }
    let report = evaluate_folds(
        &ds,
        &cfg,
        &run,
        &device,
        &backend,
        Some(&c.out),
        &bars,
        &cancel,
        &mut on_fold,
    )?;
    report.write(&c.out)?;
    if report.folds.len() < total {
        println!(
            "\nThe report covers {} of {total} folds (the ones saved so far); rerun with --merge once the rest are done.",
            report.folds.len()
        );
    }
    print_report(&report);
    println!(
        "\nWrote report.json, summary.csv, per_fold.csv, confusion.csv, generative.csv to {} ({} total).",
        c.out.display(),
        fmt_duration(t0.elapsed().as_secs_f64())
    );
    Ok(ExitCode::SUCCESS)
}
