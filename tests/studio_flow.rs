//! The studio's generation-to-export path, driven through its commands with tiny models: train
//! a generator, generate a set from a prompt, curate it, export the curated walks, train the
//! normative twin and show a walk's twin in the viewport and joint-angle panel, write the
//! clinical report. Everything runs on the studio's background jobs, as in the app.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod studio_common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pathogait::app::Studio;
use pathogait::app::commands::{Command, ReportSpec, WalkSet};
use pathogait::app::panels::{Tab, viewport};
use pathogait::app::recent::Recent;
use pathogait::core::export::{CurationEntry, Decision, ExportFormat, ExportOptions};
use pathogait::core::model::bundle::TrainPlan;
use pathogait::core::model::generate::Sampling;
use pathogait::core::model::prompt::Prompt;
use pathogait::core::project::Project;
use pathogait::core::report::ReportFormat;
use pathogait::core::report::pages::Paper;

/// Waits for a job and checks that nothing went wrong.
fn wait(h: &mut Harness<'_, Studio>, what: &str, cond: impl Fn(&Studio) -> bool) {
    studio_common::wait(h, Duration::from_mins(5), what, cond);
    assert!(
        h.state().notes.errors().is_empty(),
        "{:?}",
        h.state().notes.errors()
    );
}

fn open(dir: &Path) -> (Harness<'static, Studio>, PathBuf) {
    let path = dir.join("flow.ron");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo.ron"),
        &path,
    )
    .unwrap();
    let (p, recent) = (path.clone(), Recent::at(Some(dir.to_path_buf())));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 860.0))
        .build_eframe(move |cc| Studio::new_in(cc, Some(p), recent));
    wait(&mut h, "the demo data", |s| {
        s.ws.loaded && s.ws.priors.is_some() && s.jobs.is_empty()
    });
    (h, path)
}

#[test]
fn train_generate_curate_export_twin_report() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut h, path) = open(tmp.path());

    // Train a tiny generator: it lands in the project's data folder and model list.
    let mut plan = TrainPlan::tiny();
    plan.tokenizer_stage.steps = 20;
    plan.gpt_stage.steps = 20;
    h.state_mut().pending.push(Command::Train {
        plan: Box::new(plan),
        name: "tiny".into(),
    });
    h.step();
    wait(&mut h, "training", |s| s.jobs.is_empty());
    let m = h
        .state()
        .ws
        .project
        .models
        .first()
        .cloned()
        .expect("model added to the project");
    assert_eq!(m.name, "tiny");
    assert!(
        tmp.path().join(&m.path).join("manifest.ron").exists(),
        "{}",
        m.path.display()
    );
    // The loss curves of the finished job stay for the Generation panel.
    let (_, curves) = h
        .state()
        .panels
        .generation
        .last_metrics
        .clone()
        .expect("loss curves");
    assert!(
        curves
            .keys()
            .any(|k| k.contains("training GPT") && k.contains("cross-entropy")),
        "{:?}",
        curves.keys()
    );

    // Generate a set from a prompt.
    let prompt = Prompt {
        class: "stiff_legged".into(),
        severity: 0.7,
        ..Prompt::default()
    };
    let sampling = Sampling {
        count: 4,
        frames: 90,
        seed: 3,
        ..Sampling::default()
    };
    h.state_mut().pending.push(Command::Generate {
        model: 0,
        prompt,
        sampling,
        set_name: "stiff".into(),
    });
    h.step();
    wait(&mut h, "generation", |s| s.jobs.is_empty());
    let st = h.state();
    assert_eq!(st.ws.project.generated.len(), 1);
    assert_eq!(st.ws.generated.len(), 4);
    assert!(
        st.ws
            .generated
            .iter()
            .all(|w| w.label.as_deref() == Some("stiff_legged") && w.is_synthetic())
    );
    assert_eq!(st.panels.generation.gallery().len(), 4);
    // The gallery draws with its adherence badges.
    h.state_mut().tab = Tab::Generation;
    for _ in 0..4 {
        h.step();
    }
    h.get_by_label_contains("walks are nearest to the class they were asked for");
    // The Models table says which weights and variance filters the model carries, read from
    // its manifest (the tiny plan has no held-out checks and no calibration walks).
    h.get_by_label("step 20, its last (no held-out checks)");
    h.get_by_label_contains("reconstructions: pooled + ");

    // Curate: accept two, reject one, leave one pending; export accepted only.
    let ids: Vec<String> = h
        .state()
        .ws
        .generated
        .iter()
        .map(|w| w.id.clone())
        .collect();
    for (id, d) in ids
        .iter()
        .zip([Decision::Accepted, Decision::Accepted, Decision::Rejected])
    {
        h.state_mut().pending.push(Command::Curate(
            id.clone(),
            CurationEntry {
                decision: d,
                ..CurationEntry::default()
            },
        ));
    }
    let out = tmp.path().join("export");
    h.state_mut().pending.push(Command::Export {
        which: WalkSet::Generated,
        options: ExportOptions {
            formats: vec![ExportFormat::Npz, ExportFormat::Csv],
            include_pending: false,
        },
        out: out.clone(),
    });
    h.step();
    wait(&mut h, "export", |s| s.jobs.is_empty());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json");
    let json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "accepted walks only");
    assert!(
        items
            .iter()
            .all(|i| ids[..2].contains(&i["id"].as_str().unwrap().to_string()))
    );
    assert!(
        h.state()
            .notes
            .log
            .iter()
            .any(|n| n.text.starts_with("Exported 2 walks"))
    );

    // The normative twin: train briefly, analyse a stiff-legged walk, show it.
    h.state_mut().panels.twin.config.steps = 40;
    h.state_mut().pending.push(Command::TrainTwin);
    h.step();
    wait(&mut h, "the twin", |s| s.jobs.is_empty());
    assert!(h.state().ws.twin.is_some());
    let walk = h
        .state()
        .ws
        .recorded
        .iter()
        .find(|w| w.id.contains("stiff_legged"))
        .unwrap()
        .id
        .clone();
    h.state_mut()
        .pending
        .push(Command::Select(vec![walk.clone()]));
    h.state_mut()
        .pending
        .push(Command::AnalyseTwin(walk.clone()));
    h.step();
    wait(&mut h, "the twin analysis", |s| s.jobs.is_empty());
    assert_eq!(h.state().ws.twin_results[&walk].scores.len(), 11);
    let shown = viewport::shown(&mut h.state_mut().view());
    assert_eq!(
        shown.len(),
        2,
        "the walk (joints coloured by score) and its twin"
    );
    assert_eq!(shown[0].values.as_ref().map(Vec::len), Some(12));
    assert!(shown[1].label.ends_with("normative twin"));
    h.state_mut().tab = Tab::Angles;
    for _ in 0..3 {
        h.step();
    }
    assert!(
        h.query_all_by_label_contains("normative twin").count() > 0,
        "twin curves in the joint-angle legends"
    );
    h.state_mut().tab = Tab::Twin;
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Error hidden (mm)");

    // The gait report of the selection: Markdown with the twin, then a PDF comparing the
    // stiff-legged walk with a normal one, shown in the preview.
    let report = tmp.path().join("report");
    let spec = |format, compare, twin| ReportSpec {
        dir: Some(report.clone()),
        format,
        paper: Paper::A4,
        compare,
        twin,
    };
    h.state_mut()
        .pending
        .push(Command::Report(spec(ReportFormat::Markdown, false, true)));
    h.step();
    wait(&mut h, "the report", |s| s.jobs.is_empty());
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains(&walk) && md.contains("Cadence") || md.contains("cadence"),
        "{md}"
    );
    assert!(md.contains("## Normative twin"), "{md}");
    let normal = h
        .state()
        .ws
        .recorded
        .iter()
        .find(|w| w.label.as_deref() == Some("normal"))
        .unwrap()
        .id
        .clone();
    h.state_mut()
        .pending
        .push(Command::Select(vec![walk.clone(), normal.clone()]));
    h.state_mut()
        .pending
        .push(Command::Report(spec(ReportFormat::Pdf, true, false)));
    for _ in 0..2 {
        h.step();
    }
    wait(&mut h, "the PDF report", |s| s.jobs.is_empty());
    let pdf = std::fs::read(report.join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let pages = h.state().panels.twin.preview_pages();
    assert!(pages >= 3, "{pages} preview pages");
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label_contains(&format!("walk {walk} compared with walk {normal}"));
    // Everything the user made is in the project file after a save.
    h.state_mut().pending.push(Command::SaveProject);
    h.step();
    let p = Project::load(&path).unwrap();
    assert_eq!(p.models.len(), 1);
    assert_eq!(p.generated.len(), 1);
    assert_eq!(p.curation.len(), 3);
}

/// Closes the window the way the window manager does.
/// The Evaluation panel runs a two-cut scarcity evaluation with tiny models in the background,
/// records it in the project, shows its tables, and opens it again from the record.
#[test]
fn evaluation_panel_runs_records_and_reopens_a_scarcity_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut h, path) = open(tmp.path());
    h.get_by_label("Evaluation").click();
    h.run_steps(2);
    {
        let e = &mut h.state_mut().panels.evaluation;
        e.name = "scarce".into();
        e.kfold = 3;
        e.max_folds = 1;
        e.classifiers = vec![pathogait::core::eval::classifier::ClassifierKind::Cnn];
        e.synthetic_per_class = 3;
        e.cuts = "1,all".into();
    }
    h.run_steps(2);
    // Synthetic windows walk like the fold's real walks, each with its subject's build,
    // starting anywhere in the stride, with the decoder's variance matched.
    h.get_by_label("like the real walks").click();
    h.get_by_label("subjects' builds").click();
    h.get_by_label("random start").click();
    h.get_by_label("match variance").click();
    h.get_by_label("dense generator windows").click();
    h.run_steps(2);
    // Enabled once "match variance" is ticked.
    h.get_by_label("calibrated").click();
    h.run_steps(2);
    h.get_by_label("Run evaluation").click();
    h.run_steps(2);
    assert!(
        h.state().busy("Evaluating"),
        "{:?}",
        h.state().notes.errors()
    );
    wait(&mut h, "the evaluation", |s| !s.busy("Evaluating"));
    h.run_steps(2);
    let s = h.state();
    let run = &s.ws.evaluations[0];
    assert_eq!(run.runs.len(), 2, "one report per cut");
    assert_eq!(run.runs[0].1.folds[0].fit_subjects.len(), 1);
    let settings = &run.runs[0].1.settings;
    assert!(settings.like_fit_walks && settings.sampling.subject_bodies);
    assert!(settings.sampling.random_start && settings.sampling.match_variance);
    let tiny = TrainPlan::tiny();
    assert_eq!(settings.generator.window.hop, tiny.tokenizer.downsample);
    assert_eq!(
        settings.generator.calibrate_walks,
        pathogait::core::model::calibrate::DEFAULT_WALKS
    );
    assert!(run.scarcity.is_some());
    let dir = tmp.path().join("flow.data/evaluations/scarce");
    for f in [
        "scarcity.csv",
        "scarcity-cnn.png",
        "real-subjects-1/report.json",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert_eq!(s.ws.project.evaluations.len(), 1);
    assert!(
        s.ws.project.evaluations[0]
            .summary
            .contains("real subjects 1,all")
    );
    assert!(
        h.query_all_by_label("Synthetic->Real fine-tuned").count() >= 2,
        "the tables show the fine-tuned condition"
    );
    // Whether the differences carry weight: the paired tests of the last cut's report.
    h.get_by_label("Paired on the same held-out walks (exact McNemar test)");
    assert!(
        h.query_all_by_label("balanced accuracy % (pooled)").count() >= 1,
        "the balanced accuracy grid is shown"
    );
    assert_eq!(
        s.ws.evaluations[0].runs[1].1.comparisons.len(),
        pathogait::core::eval::significance::PAIRS.len()
    );
    // Saved, reopened: the record opens the run again.
    h.state_mut().pending.push(Command::SaveProject);
    h.run_steps(2);
    let saved = Project::load(&path).unwrap();
    assert_eq!(saved.evaluations.len(), 1);
    h.state_mut().ws.evaluations.clear();
    // The first Open is the recorded run's (the folder field's is below it).
    h.query_all_by_label("Open").next().unwrap().click();
    wait(&mut h, "reading the run", |s| !s.ws.evaluations.is_empty());
    assert_eq!(h.state().ws.evaluations[0].runs.len(), 2);
    // A folder that holds no evaluation is refused, naming it.
    h.state_mut()
        .pending
        .push(Command::OpenEvaluation(tmp.path().to_path_buf()));
    studio_common::wait(&mut h, Duration::from_mins(1), "the refusal", |s| {
        !s.notes.errors().is_empty()
    });
    assert!(
        h.state().notes.errors()[0].contains("not an evaluation folder"),
        "{:?}",
        h.state().notes.errors()
    );
}

fn request_close(h: &mut Harness<'_, Studio>) -> bool {
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|v| v.commands.contains(&egui::ViewportCommand::CancelClose))
}

#[test]
fn a_failed_save_keeps_the_window_open_and_the_work_in_the_autosave() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    let cfg = tmp.path().join("config");
    let path = dir.join("session.ron");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo.ron"),
        &path,
    )
    .unwrap();
    let (p, recent) = (path.clone(), Recent::at(Some(cfg.clone())));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| Studio::new_in(cc, Some(p), recent));
    studio_common::wait(&mut h, Duration::from_mins(2), "the demo data", |s| {
        s.ws.loaded && s.jobs.is_empty()
    });
    h.state_mut().ws.project.notes = "an afternoon of curation".into();
    h.state_mut().ws.dirty = true;
    // The project's folder becomes unwritable (a file in its place: root ignores permissions).
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, "not a folder").unwrap();
    assert!(request_close(&mut h), "the first close is refused");
    let errors = h.state().notes.errors().join("\n");
    assert!(
        errors.contains("Project not saved to") && errors.contains("window stays open"),
        "{errors}"
    );
    let rescue = cfg.join("session-autosave.ron");
    assert!(errors.contains(&rescue.display().to_string()), "{errors}");
    assert_eq!(
        Project::load(&rescue).unwrap().notes,
        "an afternoon of curation"
    );
    // Save as somewhere writable works, and then closing goes through.
    let elsewhere = tmp.path().join("saved.ron");
    h.state_mut()
        .pending
        .push(Command::SaveProjectAs(elsewhere.clone()));
    h.step();
    assert_eq!(
        Project::load(&elsewhere).unwrap().notes,
        "an afternoon of curation"
    );
    assert!(
        !request_close(&mut h),
        "nothing left to save: the window closes"
    );
}
