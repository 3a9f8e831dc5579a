//! `export`: a curated dataset (real walks, generated walks, or both) with a manifest, in the
//! formats users load (npz, csv, c3d, trc, bvh, kinect).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use pathogait::core::data::GaitSequence;
use pathogait::core::export::{Curation, ExportFormat, ExportOptions, export};
use pathogait::core::jobs::CancelToken;
use pathogait::core::model::bundle::GaitGenerator;
use pathogait::core::model::generate::{Sampling, generate};
use pathogait::core::model::prompt::Prompt;
use pathogait::core::model::select_device;

use super::model_cmds::BackendArg;
use super::progress::Bars;
use super::{DataArgs, load_data};

#[derive(Debug, Args)]
pub struct ExportCmd {
    #[command(flatten)]
    data: DataArgs,
    /// Output folder (created; existing files of the same names are replaced atomically).
    #[arg(long)]
    out: PathBuf,
    /// Formats, comma-separated: npz, csv, c3d, trc, bvh, kinect.
    #[arg(long = "format", value_delimiter = ',', default_value = "npz")]
    formats: Vec<String>,
    /// Curation file (RON map: walk id -> (decision: Accepted|Rejected|Pending, tags, note)).
    #[arg(long)]
    curation: Option<PathBuf>,
    /// Export accepted walks only (default: everything not rejected).
    #[arg(long)]
    accepted_only: bool,
    /// Also generate walks with this model bundle and export them with the data.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Classes to generate, comma-separated (default: every class the model knows).
    #[arg(long = "class", value_delimiter = ',')]
    classes: Vec<String>,
    /// Generated walks per class.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Frames per generated walk.
    #[arg(long, default_value_t = 120)]
    frames: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Export only generated walks (from --model, or the project's generated sets).
    #[arg(long)]
    synthetic_only: bool,
    /// Compute backend for generation.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
}

fn generated(c: &ExportCmd, model: &std::path::Path, bars: &Bars) -> Result<Vec<GaitSequence>> {
    let (device, backend) = select_device(c.backend.into())?;
    println!("Backend: {backend}");
    let g = GaitGenerator::load(model, &device)?;
    let classes = if c.classes.is_empty() {
        g.manifest.vocab.classes.clone()
    } else {
        c.classes.clone()
    };
    let mut out = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        let prompt = Prompt {
            class: class.clone(),
            ..Prompt::default()
        };
        let s = Sampling {
            count: c.count,
            frames: c.frames,
            seed: c.seed.wrapping_add((i * c.count.max(1)) as u64),
            ..Sampling::default()
        };
        let r = generate(&g, &prompt, &s, bars, &CancelToken::new())?;
        println!(
            "Generated {} x {class}: {}",
            r.sequences.len(),
            r.prompt.text.lines().next().unwrap_or("")
        );
        out.extend(r.sequences);
    }
    Ok(out)
}

pub fn export_cmd(c: &ExportCmd) -> Result<ExitCode> {
    let mut formats = Vec::new();
    for f in &c.formats {
        let f = ExportFormat::parse(f).with_context(|| {
            format!("unknown format '{f}' (use npz, csv, c3d, trc, bvh, kinect)")
        })?;
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    if c.synthetic_only && c.model.is_none() && c.data.project.is_none() {
        bail!("--synthetic-only needs --model or --project (its generated sets)");
    }
    let mut curation: Curation = match &c.curation {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read curation file {}", p.display()))?;
            ron::from_str(&text).with_context(|| format!("{}: not a curation map", p.display()))?
        }
        None => Curation::new(),
    };
    let bars = Bars::default();
    let mut seqs = Vec::new();
    if !c.synthetic_only {
        let (ds, _) = load_data(&c.data)?;
        print!("{}", super::commands::describe(&ds, &c.data));
        seqs.extend(ds.sequences);
    }
    // A project also brings its generated sets and curation (a --curation file wins).
    if let Some(pfile) = &c.data.project {
        let project = pathogait::core::project::Project::load(pfile)?;
        let base = pfile.parent().unwrap_or(std::path::Path::new("."));
        for set in &project.generated {
            let walks = set.load_sequences(base)?;
            println!(
                "Generated set '{}': {} walks ({})",
                set.name,
                walks.len(),
                set.model
            );
            seqs.extend(walks);
        }
        for (id, entry) in project.curation {
            curation.entry(id).or_insert(entry);
        }
    }
    if let Some(m) = &c.model {
        seqs.extend(generated(c, m, &bars)?);
    }
    let opts = ExportOptions {
        formats,
        include_pending: !c.accepted_only,
    };
    let m = export(&seqs, &curation, &opts, &c.out, &bars, &CancelToken::new())?;
    let synthetic = m.items.iter().filter(|i| i.synthetic).count();
    println!(
        "Exported {} walks ({} synthetic, {} recorded) as {} to {}; {} left out by curation.",
        m.items.len(),
        synthetic,
        m.items.len() - synthetic,
        m.formats
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", "),
        c.out.display(),
        m.left_out.len()
    );
    for n in &m.notes {
        println!("Note: {n}");
    }
    println!("Manifest: {}", c.out.join("manifest.ron").display());
    Ok(ExitCode::SUCCESS)
}
