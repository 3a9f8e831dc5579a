//! Project files: shipped examples load and round-trip; bad files are clear errors; saves are
//! atomic and keep the previous version.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

mod common;

use std::path::{Path, PathBuf};

use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::project::{DataSource, PROJECT_VERSION, Project, ProjectError};

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    v.sort();
    v
}

#[test]
fn shipped_projects_load_and_round_trip() {
    let files = shipped();
    assert!(files.len() >= 2);
    for f in files {
        let p = Project::load(&f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.version, PROJECT_VERSION);
        let text = p.to_ron().unwrap();
        let back = Project::from_ron(&text, &f).unwrap();
        assert_eq!(back, p, "{}", f.display());
    }
}

#[test]
fn demo_project_loads_its_data() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo.ron");
    let p = Project::load(&f).unwrap();
    let data = p
        .load_data(f.parent().unwrap(), &NoProgress, &CancelToken::new())
        .unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].0.sequences.len(), 72);
    assert!(matches!(p.sources[0], DataSource::Demo(_)));
}

#[test]
fn extended_demo_project_has_ten_classes_aged_6_to_85() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo-extended.ron");
    let p = Project::load(&f).unwrap();
    let DataSource::Demo(cfg) = &p.sources[0] else {
        panic!("demo source expected");
    };
    assert_eq!(cfg.classes, pathogait::core::demo::ClassSet::Extended);
    assert_eq!(cfg.ages, Some([6.0, 85.0]));
    let data = p
        .load_data(f.parent().unwrap(), &NoProgress, &CancelToken::new())
        .unwrap();
    let ds = &data[0].0;
    assert_eq!(ds.sequences.len(), 8 * 10 * 2);
    assert_eq!(ds.labels().len(), 10);
    // Round trip keeps the new settings.
    let back = Project::from_ron(&p.to_ron().unwrap(), &f).unwrap();
    assert_eq!(back, p);
}

#[test]
fn bvh_project_resolves_paths_relative_to_the_file() {
    if common::shared_data().is_none() {
        return;
    }
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/msk-neuro-bvh.ron");
    let p = Project::load(&f).unwrap();
    let data = p
        .load_data(f.parent().unwrap(), &NoProgress, &CancelToken::new())
        .unwrap();
    assert_eq!(data[0].0.sequences.len(), 80);
}

#[test]
fn corrupt_and_future_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.ron");
    std::fs::write(
        &f,
        "Project(version: 1, name: \"x\", sources: [Demo(DemoConfig(seed: 1))], notes: 5)",
    )
    .unwrap();
    let e = Project::load(&f).unwrap_err();
    assert!(matches!(e, ProjectError::Format { .. }));
    assert!(
        e.to_string().contains("p.ron: not a valid project file"),
        "{e}"
    );
    std::fs::write(&f, "Project(version: 99)").unwrap();
    assert!(
        Project::load(&f)
            .unwrap_err()
            .to_string()
            .contains("version 99 is newer")
    );
    assert!(
        Project::load(&dir.path().join("none.ron"))
            .unwrap_err()
            .to_string()
            .contains("none.ron")
    );
}

#[test]
fn save_is_atomic_and_keeps_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.ron");
    let mut p = Project {
        name: "first".into(),
        ..Project::default()
    };
    p.save(&f).unwrap();
    p.name = "second".into();
    p.save(&f).unwrap();
    assert_eq!(Project::load(&f).unwrap().name, "second");
    assert_eq!(
        Project::load(&f.with_extension("ron.bak")).unwrap().name,
        "first"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty());
    let e = p
        .save(&dir.path().join("missing/dir/p.ron"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing/dir"), "{e}");
}

#[test]
fn version_1_files_load_with_empty_generation_state() {
    let text = "Project(version: 1, name: \"old\", sources: [Demo(DemoConfig(seed: 1))])";
    let p = Project::from_ron(text, Path::new("old.ron")).unwrap();
    assert_eq!(p.version, PROJECT_VERSION);
    assert!(p.generated.is_empty() && p.prompts.is_empty() && p.models.is_empty());
    assert!(p.curation.is_empty());
    assert_eq!(
        Project::data_dir(Path::new("projects/demo.ron")),
        Path::new("projects/demo.data")
    );
}
