//! Job launchers: each takes what it needs from the workspace (cloned, so the UI keeps
//! working on its copy) and starts the core function on a named background thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::core::biomech::priors::{PriorSet, compute_priors_of};
use crate::core::data::{Dataset, GaitSequence};
use crate::core::eval::scarcity::{EvalRun, cut_dir, cut_name};
use crate::core::eval::{EvalConfig, FoldResult, FoldRun, Protocol, evaluate_folds};
use crate::core::export::{Curation, ExportOptions, export};
use crate::core::fsutil::write_atomic;
use crate::core::model::bundle::{GaitGenerator, TrainPlan};
use crate::core::model::calibrate::train;
use crate::core::model::generate::{Sampling, generate};
use crate::core::model::prompt::Prompt;
use crate::core::model::vocab::Vocab;
use crate::core::model::{BackendChoice, select_device};
use crate::core::project::{EvaluationRef, GeneratedSet, ModelRef, Project};
use crate::core::report::gait::{ReportRequest, gait_report};
use crate::core::report::pages;
use crate::core::report::pdf::page_image;
use crate::core::report::{ReportFormat, pdf_of, render};
use crate::core::twin::{TwinConfig, TwinModel, train_twin};

use super::catalog::{GeneratedWalks, LoadedWalks};
use super::commands::{EvalSpec, Output, PageImage, ReportSpec};
use super::jobs::Job;
use super::state::Workspace;

/// A job of the studio.
pub type StudioJob = Job<Output>;

/// Loads a project's data sources and generated sets.
///
/// # Errors
/// The thread could not start.
pub fn load_project(project: Project, path: Option<PathBuf>) -> std::io::Result<StudioJob> {
    let title = format!("Loading {}", project.name);
    Job::spawn("load", title, move |progress, cancel| {
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let parts = project
            .load_data(&base, progress, cancel)
            .map_err(|e| e.to_string())?;
        let mut recorded = Dataset::new(project.name.clone(), Vec::new());
        let mut reports = Vec::new();
        for (d, r) in parts {
            recorded.sequences.extend(d.sequences);
            recorded.duplicates.extend(d.duplicates);
            reports.extend(r);
        }
        let mut generated = Vec::new();
        let mut problems = Vec::new();
        for set in &project.generated {
            match set.load_sequences(&base) {
                Ok(w) => generated.extend(w),
                Err(e) => problems.push(format!("generated set '{}': {e}", set.name)),
            }
        }
        // Indexed here, so the frame that takes the walks in only moves them.
        let walks = LoadedWalks::new(recorded.sequences, reports, generated, problems);
        Ok(Output::Loaded {
            project: Box::new(project),
            path,
            walks: Box::new(walks),
        })
    })
}

/// Computes priors of the recorded walks.
///
/// # Errors
/// The thread could not start.
pub fn priors(ws: &Workspace) -> std::io::Result<StudioJob> {
    // Shared, not copied: the frame that starts the job must stay short at any size.
    let walks = ws.recorded.clone();
    let name = ws.project.name.clone();
    let normal = ws.project.normal_class.clone();
    let bands = ws.external_bands.clone();
    Job::spawn("priors", "Computing priors", move |p, c| {
        compute_priors_of(&name, &walks, normal.as_deref(), bands.as_ref(), p, c)
            .map(|s| {
                let v = priors_vocab(&s, &walks);
                Output::Priors(Box::new(s), Box::new(v))
            })
            .map_err(|e| e.to_string())
    })
}

/// The prompt vocabulary of a dataset's priors (what the prompt composer previews with
/// before a model exists): its classes, descriptor bins and each class's affected sides.
#[must_use]
pub fn priors_vocab(p: &PriorSet, walks: &[GaitSequence]) -> Vocab {
    let classes = p
        .classes
        .iter()
        .map(|c| c.name.clone())
        .filter(|c| c != super::catalog::UNLABELLED)
        .collect();
    let mut v = Vocab::from_priors(p, classes, [0, 0, 0]);
    v.count_sides(walks);
    v
}

/// Trains a generator on the recorded walks into `<data dir>/models/<name>`.
///
/// # Errors
/// The thread could not start.
pub fn train_model(ws: &Workspace, plan: TrainPlan, name: String) -> std::io::Result<StudioJob> {
    let ds = ws.recorded_dataset();
    let dir = ws.data_dir().join("models").join(&name);
    let base = ws.base_dir();
    Job::spawn("train", format!("Training '{name}'"), move |p, c| {
        let (device, backend) = select_device(BackendChoice::Auto).map_err(|e| e.to_string())?;
        let g = train(
            &ds,
            &plan,
            &name,
            &device,
            &backend,
            Some(&dir.join("checkpoint")),
            p,
            c,
        )
        .map_err(|e| e.to_string())?;
        g.save(&dir).map_err(|e| e.to_string())?;
        let r = &g.manifest.report;
        let summary = format!(
            "Trained '{name}' on {backend} in {:.0} s: tokeniser MPJPE {:.1} mm (held-out {:.1} mm)",
            r.seconds, r.mpjpe_train_mm, r.mpjpe_heldout_mm
        );
        let path = dir
            .strip_prefix(&base)
            .map_or_else(|_| dir.clone(), Path::to_path_buf);
        Ok(Output::Trained(
            ModelRef {
                name: name.clone(),
                path,
                trained_on: ds.name.clone(),
                weights_hash: g.weights_hash.clone(),
            },
            summary,
        ))
    })
}

/// Generates a batch from a model of the project and saves it as a generated set.
///
/// # Errors
/// An unknown model index, or the thread could not start.
pub fn generate_set(
    ws: &Workspace,
    model: usize,
    prompt: Prompt,
    sampling: Sampling,
    set_name: String,
) -> Result<StudioJob, String> {
    let m = ws
        .project
        .models
        .get(model)
        .ok_or_else(|| "no such model in the project".to_string())?;
    let base = ws.base_dir();
    let dir = ws.resolve(&m.path);
    let data_dir = ws.data_dir();
    Job::spawn(
        "generate",
        format!("Generating '{set_name}'"),
        move |p, c| {
            let (device, _) = select_device(BackendChoice::Auto).map_err(|e| e.to_string())?;
            let g = GaitGenerator::load(&dir, &device).map_err(|e| e.to_string())?;
            let out = generate(&g, &prompt, &sampling, p, c).map_err(|e| e.to_string())?;
            let model = format!("{} ({})", g.manifest.name, g.weights_hash);
            let set = GeneratedSet::save(
                &set_name, &model, &prompt, &sampling, &out, &data_dir, &base,
            )
            .map_err(|e| e.to_string())?;
            let walks = set.load_sequences(&base).map_err(|e| e.to_string())?;
            Ok(Output::Generated(set, Box::new(GeneratedWalks::new(walks))))
        },
    )
    .map_err(|e| e.to_string())
}

/// Runs an evaluation of the recorded walks into `<data dir>/evaluations/<name>`: one run,
/// or one per real-subject cut and the scarcity curve. Each finished fold reports its
/// accuracies as metrics (`fold accuracy · <cut> · <classifier> <condition>`), so the panel
/// shows folds as they finish.
///
/// # Errors
/// A run of that name exists, or the thread could not start.
pub fn evaluate(ws: &Workspace, spec: EvalSpec) -> Result<StudioJob, String> {
    let dir = ws.data_dir().join("evaluations").join(&spec.name);
    if dir.exists() {
        return Err(format!(
            "An evaluation named '{}' exists ({}): choose another name",
            spec.name,
            dir.display()
        ));
    }
    let ds = ws.recorded_dataset();
    let base = ws.base_dir();
    Job::spawn(
        "evaluate",
        format!("Evaluating '{}'", spec.name),
        move |p, c| {
            let (device, backend) =
                select_device(BackendChoice::Auto).map_err(|e| e.to_string())?;
            let cuts = if spec.cuts.is_empty() {
                vec![spec.config.real_subjects]
            } else {
                spec.cuts.clone()
            };
            let mut finished = 0_u64;
            for &cut in &cuts {
                let cfg = EvalConfig {
                    real_subjects: cut,
                    ..spec.config.clone()
                };
                let out = if spec.cuts.is_empty() {
                    dir.clone()
                } else {
                    cut_dir(&dir, cut)
                };
                let mut on_fold = |f: &FoldResult, _: usize, _: usize, _: bool| {
                    finished += 1;
                    let named: Vec<(String, f64)> = f
                        .results
                        .iter()
                        .map(|r| {
                            (
                                format!(
                                    "fold accuracy · {} · {} {}",
                                    cut_name(cut),
                                    r.classifier.name(),
                                    r.condition.name()
                                ),
                                r.accuracy,
                            )
                        })
                        .collect();
                    let values: Vec<(&str, f64)> =
                        named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                    p.metrics(finished, &values);
                };
                let r = evaluate_folds(
                    &ds,
                    &cfg,
                    &FoldRun::All,
                    &device,
                    &backend,
                    Some(&out),
                    p,
                    c,
                    &mut on_fold,
                )
                .map_err(|e| e.to_string())?;
                r.write(&out).map_err(|e| e.to_string())?;
            }
            let run = EvalRun::load(&dir).map_err(|e| e.to_string())?;
            if let Some(s) = &run.scarcity {
                s.write(&dir, &spec.config.classifiers)
                    .map_err(|e| e.to_string())?;
            }
            let summary = format!(
                "{}, {}, real subjects {}, {} folds",
                match spec.config.protocol {
                    Protocol::Loso => "LOSO".to_string(),
                    Protocol::KFold(k) => format!("{k}-fold"),
                },
                spec.config
                    .classifiers
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join("+"),
                cuts.iter()
                    .map(|c| cut_name(*c))
                    .collect::<Vec<_>>()
                    .join(","),
                run.runs.first().map_or(0, |r| r.1.folds.len())
            );
            let path = dir
                .strip_prefix(&base)
                .map_or_else(|_| dir.clone(), Path::to_path_buf);
            let record = EvaluationRef {
                name: spec.name.clone(),
                path,
                summary,
            };
            Ok(Output::Evaluation(Box::new(run), Some(record)))
        },
    )
    .map_err(|e| e.to_string())
}

/// Reads a finished evaluation's folder.
///
/// # Errors
/// The thread could not start.
pub fn open_evaluation(dir: PathBuf) -> Result<StudioJob, String> {
    Job::spawn("open-evaluation", "Reading an evaluation", move |_, _| {
        EvalRun::load(&dir)
            .map(|r| Output::Evaluation(Box::new(r), None))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())
}

/// Trains the normative twin on the normal class of the recorded walks.
///
/// # Errors
/// No normal class, or the thread could not start.
pub fn train_twin_job(ws: &Workspace, cfg: TwinConfig) -> Result<StudioJob, String> {
    let normal = ws
        .normal_class()
        .ok_or("no normal class: set one in the Priors panel (e.g. 'normal' or 'Healthy')")?;
    let ds = ws.recorded_dataset();
    Job::spawn(
        "twin",
        format!("Training normative twin on '{normal}'"),
        move |p, c| {
            let (device, _) = select_device(BackendChoice::Auto).map_err(|e| e.to_string())?;
            train_twin(&ds, &normal, &cfg, &device, p, c)
                .map(|m| Output::Twin(Box::new(m)))
                .map_err(|e| e.to_string())
        },
    )
    .map_err(|e| e.to_string())
}

/// Runs pass 1 and 2 of the twin on one walk.
///
/// # Errors
/// Unknown walk, no twin yet, or the thread could not start.
pub fn analyse_twin(ws: &Workspace, id: &str) -> Result<StudioJob, String> {
    let twin: Arc<TwinModel> = ws.twin.clone().ok_or("train the normative twin first")?;
    let seq = ws
        .walk(id)
        .cloned()
        .ok_or_else(|| format!("no walk '{id}'"))?;
    let id = id.to_string();
    Job::spawn(
        "twin-walk",
        format!("Normative twin of '{id}'"),
        move |p, _c| {
            p.start("occluding joints", 1);
            let r = twin.analyse_walk(&seq).map_err(|e| e.to_string())?;
            p.advance(1, &id);
            Ok(Output::TwinResult(id, Box::new(r)))
        },
    )
    .map_err(|e| e.to_string())
}

/// Exports walks with their curation into `out`.
///
/// # Errors
/// The thread could not start.
pub fn export_walks(
    walks: Vec<GaitSequence>,
    curation: Curation,
    options: ExportOptions,
    out: PathBuf,
) -> std::io::Result<StudioJob> {
    Job::spawn(
        "export",
        format!("Exporting to {}", out.display()),
        move |p, c| {
            let m = export(&walks, &curation, &options, &out, p, c).map_err(|e| e.to_string())?;
            Ok(Output::Message(format!(
                "Exported {} walks ({}) to {}; {} left out",
                m.items.len(),
                m.formats
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                out.display(),
                m.left_out.len()
            )))
        },
    )
}

/// Makes the gait report of `walks` (compared with `compare` when given) against the
/// project's other recorded walks: writes it per `spec` and renders its pages for the preview.
///
/// # Errors
/// The thread could not start.
pub fn report(
    ws: &Workspace,
    walks: Vec<GaitSequence>,
    compare: Option<GaitSequence>,
    spec: ReportSpec,
) -> Result<StudioJob, String> {
    let ids: Vec<String> = walks
        .iter()
        .chain(compare.iter())
        .map(|w| w.id.clone())
        .collect();
    let rest = Dataset::new(
        ws.project.name.clone(),
        ws.recorded
            .iter()
            .filter(|s| !ids.contains(&s.id))
            .cloned()
            .collect(),
    );
    let normal = ws.project.normal_class.clone();
    let bands = ws.external_bands.clone();
    let twin = if spec.twin {
        Some(
            ws.twin
                .clone()
                .ok_or("train the normative twin first, or untick it")?,
        )
    } else {
        None
    };
    let title_of = |w: &[GaitSequence]| {
        if w.len() == 1 {
            format!("walk {}", w[0].id)
        } else {
            format!("{} walks", w.len())
        }
    };
    let title = title_of(&walks);
    let job_title = if spec.dir.is_some() {
        "Writing gait report"
    } else {
        "Previewing gait report"
    };
    Job::spawn("report", job_title, move |p, c| {
        let req = ReportRequest {
            title: title.clone(),
            walks: walks.iter().collect(),
            compare: compare
                .as_ref()
                .map(|b| (format!("walk {}", b.id), vec![b])),
            rest: &rest,
            normal_class: normal.as_deref(),
            bands: bands.as_ref(),
            twin: twin.as_deref(),
        };
        let r = gait_report(&req, p, c).map_err(|e| e.to_string())?;
        // The pages are laid out once: for the preview and, as a PDF, for the file.
        let laid_out = pages::pages(&r, spec.paper);
        let images = laid_out
            .iter()
            .map(|svg| page_image(svg, 1.5).map_err(|e| e.to_string()))
            .collect::<Result<Vec<PageImage>, String>>()?;
        let message = match &spec.dir {
            Some(dir) => {
                let bytes = if spec.format == ReportFormat::Pdf {
                    pdf_of(&r, &laid_out)
                } else {
                    render(&r, spec.format, spec.paper)
                }
                .map_err(|e| e.to_string())?;
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let f = dir.join(format!("report.{}", spec.format.extension()));
                write_atomic(&f, &bytes).map_err(|e| e.to_string())?;
                format!(
                    "Report with {} findings written to {}",
                    r.a.clinical.findings.len(),
                    f.display()
                )
            }
            None => format!("Preview of {} pages", images.len()),
        };
        Ok(Output::Report {
            message,
            title: r.title(),
            pages: images,
        })
    })
    .map_err(|e| e.to_string())
}
