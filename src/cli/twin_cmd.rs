//! `twin`: anomaly localisation and the normative twin of one walk (model trained on the
//! data's normal class first; seconds to a minute on a CPU).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use pathogait::core::biomech::priors::normal_label;
use pathogait::core::biomech::{NormativeBands, analyse};
use pathogait::core::fsutil::write_atomic;
use pathogait::core::io::trc;
use pathogait::core::jobs::CancelToken;
use pathogait::core::model::select_device;
use pathogait::core::twin::{TwinConfig, angle_deviation, train_twin};

use super::model_cmds::BackendArg;
use super::progress::Bars;
use super::table::{Table, num};
use super::{DataArgs, load_data};

#[derive(Debug, Args)]
pub struct TwinCmd {
    #[command(flatten)]
    data: DataArgs,
    /// The walk to examine (id as listed by `stats`).
    #[arg(long)]
    walk: String,
    /// Class treated as normal gait (default: normal/healthy/control).
    #[arg(long)]
    normal_class: Option<String>,
    /// Training steps of the masked autoencoder.
    #[arg(long, default_value_t = TwinConfig::default().steps)]
    steps: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the walk and its twin as TRC files (OpenSim axes) into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Save the trained twin into this folder (for `report --twin DIR`).
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
}

pub fn twin_cmd(c: &TwinCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    print!("{}", super::commands::describe(&ds, &c.data));
    let labels = ds.labels();
    let normal = match &c.normal_class {
        Some(n) if labels.contains(n) => n.clone(),
        Some(n) => bail!("class '{n}' not found (classes: {})", labels.join(", ")),
        None => normal_label(&labels).with_context(|| {
            format!(
                "no normal class found; name one with --normal-class ({})",
                labels.join(", ")
            )
        })?,
    };
    let seq = ds
        .sequences
        .iter()
        .find(|s| s.id == c.walk)
        .with_context(|| format!("walk {} is not in {}", c.walk, ds.name))?;
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    let cfg = TwinConfig {
        steps: c.steps,
        seed: c.seed,
        ..TwinConfig::default()
    };
    let model = train_twin(
        &ds,
        &normal,
        &cfg,
        &device,
        &Bars::default(),
        &CancelToken::new(),
    )?;
    println!(
        "Normal gait learnt from class '{normal}': {} walks for training, {} held out for thresholds.",
        model.walks.0, model.walks.1
    );
    if let Some(dir) = &c.save_model {
        model.save(dir)?;
        println!("Saved the twin to {}", dir.display());
    }
    let r = model.analyse_walk(seq)?;
    let mut t = Table::new(&[
        "joint",
        "error hidden, mm",
        "threshold, mm",
        "score",
        "flagged",
    ]);
    for (s, th) in r.scores.iter().zip(&model.thresholds_mm[1..]) {
        t.row(vec![
            format!("{:?}", s.joint),
            num(s.error_mm, 1),
            num(*th, 1),
            num(s.score, 2),
            if s.flagged {
                "yes".into()
            } else {
                String::new()
            },
        ]);
    }
    println!(
        "\nPass 1, per-joint inconsistency with normal gait ({}):\n{}",
        seq.id,
        t.render()
    );
    let curves: Vec<_> = ds
        .sequences
        .iter()
        .filter(|s| s.label.as_deref() == Some(normal.as_str()) && s.id != seq.id)
        .filter_map(|s| analyse(s).ok().map(|a| a.curves))
        .collect();
    let refs: Vec<&[_]> = curves.iter().map(Vec::as_slice).collect();
    let bands = NormativeBands::from_curves(format!("class '{normal}' of {}", ds.name), &refs);
    let mut d = Table::new(&[
        "angle",
        "side",
        "deviation before, deg",
        "after (twin), deg",
    ]);
    for (v, s, before, after) in angle_deviation(&r, &bands) {
        d.row(vec![
            v.label().into(),
            format!("{s:?}"),
            num(before, 1),
            num(after, 1),
        ]);
    }
    println!(
        "Pass 2, angle curves against {} (RMS difference from its mean):\n{}",
        bands.source,
        d.render()
    );
    if let Some(dir) = &c.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for s in [&r.original, &r.twin] {
            let p = dir.join(format!("{}.trc", s.id));
            write_atomic(
                &p,
                trc::opensim_text(&format!("{}.trc", s.id), s).as_bytes(),
            )
            .with_context(|| format!("writing {}", p.display()))?;
            println!("Wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
