//! The studio driven through `egui_kittest`, as a user would: open the demo project, select a
//! walk, play it, compose and save a prompt, start a training job and cancel it, save the
//! project and reopen it. Assertions are on the studio's state, plus snapshot images rendered
//! with wgpu (Mesa lavapipe in CI; `UPDATE_SNAPSHOTS=1` rewrites them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod studio_common;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest wait for a job in these tests.
const LIMIT: Duration = Duration::from_mins(2);

use egui_kittest::kittest::Queryable as _;
use egui_kittest::{Harness, SnapshotOptions};
use pathogait::app::Studio;
use pathogait::app::commands::Command;
use pathogait::app::panels::Tab;
use pathogait::app::recent::Recent;
use pathogait::core::demo::ClassSet;
use pathogait::core::export::{CurationEntry, Decision};
use pathogait::core::project::{DataSource, Project};
use studio_common::{demo_copy, wait};

fn harness(project: PathBuf, config: &Path, wgpu: bool) -> Harness<'static, Studio> {
    let recent = Recent::at(Some(config.to_path_buf()));
    let b = Harness::builder()
        .with_size(egui::vec2(1400.0, 860.0))
        .with_step_dt(1.0 / 30.0);
    let b = if wgpu { b.wgpu() } else { b };
    let mut h = b.build_eframe(move |cc| {
        let mut s = Studio::new_in(cc, Some(project), recent);
        s.panels.hide_frame_time = true;
        s
    });
    wait(&mut h, LIMIT, "the demo data and priors to load", |s| {
        s.ws.loaded && s.ws.priors.is_some() && s.jobs.is_empty()
    });
    h
}

/// The wgpu adapter's name, or `None` (printed as a skip) where there is none.
fn wgpu_adapter() -> Option<String> {
    match pathogait::app::render::headless_device() {
        Ok((_, _, name)) => Some(name),
        Err(e) => {
            assert!(
                std::env::var_os("PATHOGAIT_REQUIRE_WGPU").is_none(),
                "no wgpu adapter but PATHOGAIT_REQUIRE_WGPU is set: {e}"
            );
            println!("SKIPPED wgpu snapshots: {e}");
            None
        }
    }
}

#[test]
fn open_select_play_prompt_job_save_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let path = demo_copy(tmp.path(), "demo.ron");
    let mut h = harness(path.clone(), tmp.path(), false);
    let s = h.state();
    assert_eq!(s.ws.project.name, "Demo (synthetic)");
    assert_eq!(s.ws.recorded.len(), 72, "6 classes x 6 subjects x 2 trials");
    assert!(
        s.ws.recorded
            .iter()
            .all(pathogait::core::data::GaitSequence::is_synthetic)
    );
    assert!(s.notes.errors().is_empty(), "{:?}", s.notes.errors());
    // The demo data is labelled synthetic where it shows.
    assert!(
        h.query_all_by_label_contains("SYNTHETIC").count() >= 2,
        "browser banner and status bar"
    );

    // Select a walk by clicking its row.
    let id = h.state().ws.recorded[7].id.clone();
    h.get_by_label(&format!("{id} •")).click();
    h.step();
    h.step();
    assert_eq!(h.state().ws.selection, vec![id.clone()]);

    // Play: time advances and the walk is on show.
    h.get_by_label("Play").click();
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    let vp = &h.state().panels.viewport;
    assert!(
        vp.playing && vp.time > 0.05,
        "playing {} at {}",
        vp.playing,
        vp.time
    );
    h.get_by_label("Pause").click();
    h.step();
    assert!(!h.state().panels.viewport.playing);

    // Compose a prompt: the expansion shows live; save it to the project.
    h.get_by_label("Prompt composer").click();
    h.step();
    h.get_by_label("stiff knee").click();
    h.step();
    h.step();
    assert_eq!(
        h.state().panels.prompt.current().descriptors,
        vec!["stiff knee".to_string()]
    );
    h.get_by_label_contains("Antalgic gait, severity 0.60, affected side left");
    h.get_by_label_contains("'stiff knee' -> knee ROM 1/5");
    h.get_by_label("Save prompt").click();
    h.step();
    h.step();
    assert_eq!(h.state().ws.project.prompts.len(), 1);
    assert!(h.state().ws.dirty);

    // Start a training job, see it run in the jobs bar, cancel it.
    h.get_by_label("Generation").click();
    h.step();
    // Long enough that it is still running when cancelled, however fast the machine.
    h.state_mut().panels.generation.tokenizer_steps = 100_000;
    h.get_by_label("Train").click();
    h.step();
    wait(&mut h, LIMIT, "the training job to start", |s| {
        s.jobs.iter().any(|j| j.title.starts_with("Training"))
    });
    wait(&mut h, LIMIT, "training progress", |s| {
        s.jobs.iter().any(|j| j.done > 0)
    });
    // Let it train for a while as the UI keeps stepping, then report the frame times.
    h.state_mut().frame_ms.clear();
    for _ in 0..60 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let ms: Vec<f32> = h.state().frame_ms.iter().copied().collect();
    let max = ms.iter().copied().fold(0.0_f32, f32::max);
    println!(
        "UI frame time while training: mean {:.2} ms, max {max:.2} ms over {} frames",
        ms.iter().sum::<f32>() / ms.len().max(1) as f32,
        ms.len()
    );
    assert!(
        h.state()
            .jobs
            .iter()
            .any(|j| j.title.starts_with("Training")),
        "still training"
    );
    h.get_by_label("Cancel").click();
    wait(&mut h, LIMIT, "the job to stop", |s| s.jobs.is_empty());
    let st = h.state();
    assert!(
        st.ws.project.models.is_empty(),
        "a cancelled training must not add a model"
    );
    assert!(
        st.notes.log.iter().any(|n| n.text.contains("cancelled")),
        "no cancellation notice"
    );
    // The UI kept drawing while the job ran on its own thread.
    assert!(st.frame_ms.len() > 3);

    // Curate a walk, save, reopen: everything the user made is there.
    h.state_mut().pending.push(Command::Curate(
        id.clone(),
        CurationEntry {
            decision: Decision::Accepted,
            tags: vec!["clean".into()],
            note: "good".into(),
        },
    ));
    let saved = tmp.path().join("saved.ron");
    h.state_mut()
        .pending
        .push(Command::SaveProjectAs(saved.clone()));
    h.step();
    h.step();
    assert!(!h.state().ws.dirty);
    let reopened = Project::load(&saved).unwrap();
    assert_eq!(reopened.prompts.len(), 1);
    assert_eq!(
        reopened.prompts[0].prompt.descriptors,
        vec!["stiff knee".to_string()]
    );
    assert_eq!(reopened.curation[&id].decision, Decision::Accepted);
    drop(h);
    let h2 = harness(saved.clone(), tmp.path(), false);
    assert_eq!(h2.state().ws.project, reopened);
    assert_eq!(h2.state().ws.path.as_deref(), Some(saved.as_path()));
    assert_eq!(
        h2.state().recent.paths.first(),
        Some(&std::fs::canonicalize(&saved).unwrap())
    );
}

#[test]
fn the_demo_settings_switch_to_the_extended_set_and_every_panel_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let path = demo_copy(tmp.path(), "demo.ron");
    let mut h = harness(path, tmp.path(), false);
    h.get_by_label_contains("Demo data: 6 subjects x 6 classes (reference six)")
        .click();
    h.step();
    h.step();
    // Nothing to regenerate until a setting changes.
    assert!(h.state().panels.demo.draft().is_some());
    h.get_by_value("reference six").click();
    h.step();
    h.step();
    h.step();
    h.get_by_label("extended (ten classes)").click();
    h.step();
    h.get_by_label("from age norms").click();
    h.step();
    h.get_by_label("Regenerate demo data").click();
    h.step();
    wait(
        &mut h,
        LIMIT,
        "the extended demo data and its priors",
        |s| s.ws.loaded && s.ws.priors.is_some() && s.jobs.is_empty() && s.ws.recorded.len() == 120,
    );
    let s = h.state();
    assert!(s.ws.dirty, "the project changed");
    let DataSource::Demo(cfg) = &s.ws.project.sources[0] else {
        panic!("demo source");
    };
    assert_eq!(cfg.classes, ClassSet::Extended);
    assert_eq!(cfg.ages, Some([6.0, 85.0]));
    assert_eq!(s.ws.catalog().classes.len(), 10);
    let priors = s.ws.priors.as_ref().unwrap();
    assert_eq!(priors.classes.len(), 10);
    assert_eq!(priors.normal_class.as_deref(), Some("normal"));
    // The prompt composer knows the new classes and their signature words.
    h.get_by_label("Prompt composer").click();
    h.step();
    h.state_mut().panels.prompt.prompt.class = "parkinsonian".into();
    h.step();
    h.get_by_label("reduced arm swing").click();
    h.step();
    h.step();
    h.get_by_label_contains("Parkinsonian gait, severity");
    h.get_by_label_contains("'reduced arm swing' -> arm swing 1/5");
    // A new extended project comes from the Project menu's command.
    h.state_mut().pending.push(Command::NewProject(
        pathogait::app::panels::demo_settings::extended(),
    ));
    h.step();
    wait(&mut h, LIMIT, "the new extended project", |s| {
        s.ws.loaded && s.jobs.is_empty() && s.ws.recorded.len() == 160
    });
    assert_eq!(h.state().ws.project.name, "Demo (synthetic, extended)");
}

#[test]
fn a_corrupt_project_is_refused_with_the_file_named_and_nothing_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let good = demo_copy(tmp.path(), "demo.ron");
    let bad = tmp.path().join("broken.ron");
    std::fs::write(&bad, "Project(version: 2, name: \"x\", sources: [Demo(").unwrap();
    let mut h = harness(good.clone(), tmp.path(), false);
    h.state_mut()
        .pending
        .push(Command::OpenProject(bad.clone()));
    h.step();
    h.step();
    let s = h.state();
    let errors = s.notes.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("broken.ron") && e.contains("not a valid project file")),
        "{errors:?}"
    );
    // The open project is untouched and the bad file is not overwritten.
    assert_eq!(s.ws.path.as_deref(), Some(good.as_path()));
    assert_eq!(s.ws.recorded.len(), 72);
    assert!(std::fs::read_to_string(&bad).unwrap().ends_with("Demo("));
}

#[test]
fn snapshots_of_the_main_panels() {
    let Some(adapter) = wgpu_adapter() else {
        return;
    };
    // The reference images come from Mesa lavapipe (what CI runs); other drivers anti-alias
    // differently, so there the panels are rendered (the paint path runs) but not compared.
    let reference = adapter.contains("llvmpipe");
    if !reference {
        println!(
            "snapshots rendered but not compared: reference images are from lavapipe, this is {adapter}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = demo_copy(tmp.path(), "demo.ron");
    let mut h = harness(path, tmp.path(), true);
    assert!(
        h.state().wgpu,
        "the skeleton renderer is registered with egui-wgpu"
    );
    // Toasts fade with wall time: dismiss them so frames are identical run to run.
    for n in &mut h.state_mut().notes.log {
        n.dismissed = true;
    }
    let ids: Vec<String> = h
        .state()
        .ws
        .recorded
        .iter()
        .filter(|s| s.id.contains("stiff") || s.id.contains("normal"))
        .take(2)
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    h.state_mut().pending.push(Command::Select(ids));
    h.state_mut().panels.viewport.time = 1.2;
    h.state_mut().panels.viewport.follow = true;
    h.step();
    h.step();
    let opts = SnapshotOptions::new().threshold(2.0).max_failed_pixels(400);
    snap(&mut h, "studio_viewport", &opts, reference);
    h.state_mut().tab = Tab::Angles;
    for _ in 0..4 {
        h.step();
    }
    snap(&mut h, "studio_joint_angles", &opts, reference);
    h.state_mut().tab = Tab::Priors;
    for _ in 0..4 {
        h.step();
    }
    snap(&mut h, "studio_priors", &opts, reference);
}

fn snap(h: &mut Harness<'_, Studio>, name: &str, opts: &SnapshotOptions, compare: bool) {
    if compare {
        h.snapshot_options(name, opts);
    } else {
        let img = h.render().expect("render the panel");
        assert!(img.width() > 0 && img.height() > 0);
    }
}
