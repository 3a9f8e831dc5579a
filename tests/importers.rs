//! Importers on files the tests write themselves, including broken ones.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

use std::fmt::Write as _;
use std::path::Path;

use pathogait::core::data::CommonJoint;
use pathogait::core::demo::{
    DemoConfig, GaitParams, Pathology, demo_dataset, generate, write_kinect_layout,
};
use pathogait::core::io::import::Format;
use pathogait::core::io::{ImportOptions, c3d, import_file, import_path, trc};
use pathogait::core::jobs::{CancelToken, NoProgress};

fn max_err(a: &[[f32; 3]], b: &[[f32; 3]]) -> f32 {
    a.iter()
        .zip(b)
        .flat_map(|(p, q)| (0..3).map(move |k| (p[k] - q[k]).abs()))
        .fold(0.0, f32::max)
}

#[test]
fn kinect_directory_layout_gives_subjects_classes_and_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let ds = demo_dataset(
        &DemoConfig {
            subjects: 2,
            trials: 1,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let files = write_kinect_layout(dir.path(), &ds.sequences, true).unwrap();
    assert_eq!(files.len(), 12);
    assert!(
        files[0]
            .to_string_lossy()
            .contains("human1_normal1/human1_normal1_SkeletonData1.csv")
            || files
                .iter()
                .any(|f| f.ends_with("human1_normal1/human1_normal1_SkeletonData1.csv"))
    );
    let (imported, report) = import_path(
        dir.path(),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(report.failed(), 0);
    assert_eq!(imported.sequences.len(), 12);
    assert_eq!(
        imported.subjects(),
        vec!["human1".to_string(), "human2".to_string()]
    );
    assert_eq!(imported.labels().len(), 6);
    assert!(imported.labels().contains(&"stiff_legged".to_string()));
    // Every file had 3 NaN frames and one far-off glitch injected: all reported and repaired.
    for f in &report.files {
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains("3 empty (all-NaN) frame(s)")),
            "{:?}",
            f.warnings
        );
        assert!(
            f.warnings.iter().any(|w| w.contains("outlier")),
            "{:?}",
            f.warnings
        );
    }
    for s in &imported.sequences {
        assert!(s.positions.iter().all(|p| p.iter().all(|v| v.is_finite())));
        assert!((s.fps - 30.0).abs() < 0.1);
        let (a, b) = (
            s.common(0, CommonJoint::Pelvis).unwrap(),
            s.common(s.frames() - 1, CommonJoint::Pelvis).unwrap(),
        );
        assert!(b[0] - a[0] > 2.0, "{}: normalised to walk along +X", s.id);
    }
    // The demo README in the folder is not motion data and is skipped, not failed.
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (_, r2) = import_path(
        dir.path(),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(r2.failed(), 0);
    assert!(r2.skipped.iter().any(|p| p.ends_with("notes.txt")));
}

#[test]
fn broken_files_fail_with_file_and_line_and_others_still_import() {
    let dir = tempfile::tempdir().unwrap();
    let p = GaitParams::normal(1.7, 110.0).with_pathology(
        Pathology::Normal,
        0.0,
        pathogait::core::data::Side::Left,
    );
    let seq = generate(&p, "human1_normal1", "human1", 1);
    let good = dir.path().join("human1_normal1");
    write_kinect_layout(dir.path(), &[seq], false).unwrap();
    let bad_dir = dir.path().join("human2_antalgic1");
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::write(
        bad_dir.join("human2_antalgic1_SkeletonData1.csv"),
        "0.0\t0.0\t1.0\t2.0\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.bvh"), "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Wrotation\n").unwrap();
    let (ds, report) = import_path(
        dir.path(),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(ds.sequences.len(), 1);
    assert!(good.exists());
    let errors: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.error.clone())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("human2_antalgic1_SkeletonData1.csv:1: expected 101 columns")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("broken.bvh:5: unknown channel 'Wrotation'")),
        "{errors:?}"
    );
}

#[test]
fn missing_paths_unsupported_files_and_empty_dirs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = import_path(
        &missing,
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nope") && e.contains("cannot read"), "{e}");
    let e = import_path(
        dir.path(),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nothing imported"), "{e}");
    let f = dir.path().join("walk.xyz");
    std::fs::write(&f, "1 2 3").unwrap();
    let e = import_file(&f, &ImportOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("walk.xyz: unsupported file type"), "{e}");
    let cancel = CancelToken::new();
    cancel.cancel();
    std::fs::write(dir.path().join("a.trc"), "x").unwrap();
    assert!(import_path(dir.path(), &ImportOptions::default(), &NoProgress, &cancel).is_err());
}

fn demo_markers() -> (
    Vec<String>,
    Vec<[f32; 3]>,
    pathogait::core::data::GaitSequence,
) {
    let mut p = GaitParams::normal(1.75, 110.0);
    p.duration_s = 4.0;
    p.fps = 50.0;
    let s = generate(&p, "w", "s", 5);
    // A clinical-style marker subset with C3D/TRC names.
    let pick = [
        (0, "SACR"),
        (12, "LHJC"),
        (13, "LKNE"),
        (14, "LANK"),
        (15, "LTOE"),
        (16, "RHJC"),
        (17, "RKNE"),
        (18, "RANK"),
        (19, "RTOE"),
        (3, "LFHD"),
    ];
    let names = pick.iter().map(|(_, n)| (*n).to_string()).collect();
    let pos = (0..s.frames())
        .flat_map(|f| pick.iter().map(move |(j, _)| (f, *j)))
        .map(|(f, j)| s.pos(f, j))
        .collect();
    (names, pos, s)
}

#[test]
fn trc_round_trip_and_metrics_run_on_markers() {
    let dir = tempfile::tempdir().unwrap();
    let (names, pos, truth) = demo_markers();
    let path = dir.path().join("walk.trc");
    std::fs::write(&path, trc::to_text("walk.trc", &names, &pos, 50.0)).unwrap();
    let m = trc::read(&path).unwrap();
    assert_eq!(m.skeleton.joint_count(), 10);
    assert!(
        max_err(&m.positions, &pos) < 1e-6 + 1e-4,
        "{}",
        max_err(&m.positions, &pos)
    );
    // OpenSim's Y up is rotated to Z up on import; gait metrics then work on the marker set.
    let (seqs, warnings) = import_file(
        &path,
        &ImportOptions {
            format: Some(Format::Trc),
            ..ImportOptions::default()
        },
        None,
    )
    .unwrap();
    assert!(
        warnings.iter().all(|w| !w.contains("rig lacks")),
        "{warnings:?}"
    );
    let a = pathogait::core::biomech::analyse(&seqs[0]).unwrap();
    let b = pathogait::core::biomech::analyse(&truth).unwrap();
    assert!((a.spatiotemporal.cadence_steps_min - b.spatiotemporal.cadence_steps_min).abs() < 1.0);
}

#[test]
fn c3d_round_trip_through_c3dio_with_events() {
    use pathogait::core::data::GaitEvents;
    use pathogait::core::io::{c3d_params, c3d_write};
    let dir = tempfile::tempdir().unwrap();
    let (names, mut pos, _) = demo_markers();
    pos[7] = [f32::NAN; 3];
    let path = dir.path().join("walk.c3d");
    let truth = {
        let (seqs, _) = import_file(
            &write_trc(dir.path(), &names, &pos),
            &ImportOptions::default(),
            None,
        )
        .unwrap();
        pathogait::core::biomech::walk_events(&seqs[0]).0
    };
    // Shift every event one frame so the test can tell recorded from detected events.
    let shift = |v: &[usize]| v.iter().map(|f| f + 1).collect::<Vec<_>>();
    let mut events = GaitEvents::default();
    events.left.heel_strikes = shift(&truth.left.heel_strikes);
    events.left.toe_offs = shift(&truth.left.toe_offs);
    events.right.heel_strikes = shift(&truth.right.heel_strikes);
    events.right.toe_offs = shift(&truth.right.toe_offs);
    let trial = c3d_write::C3dTrial {
        names: &names,
        positions: &pos,
        fps: 50.0,
        events: &events,
        subject: "S, \"1\"",
        extra: Vec::new(),
    };
    std::fs::write(&path, c3d_write::to_bytes(&trial).unwrap()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let word = |w: usize| u16::from_le_bytes([bytes[2 * w - 2], bytes[2 * w - 1]]);
    let frames = pos.len() / names.len();
    assert_eq!(
        (bytes[0], bytes[1], word(2), word(4), word(5)),
        (2, 0x50, names.len() as u16, 1, frames as u16)
    );
    let params = c3d::read_parameters(&path).unwrap();
    let get = |g, n| c3d_params::find(&params, g, n).unwrap();
    assert_eq!(get("POINT", "SCALE").as_f32(), vec![-1.0]);
    assert_eq!(get("POINT", "RATE").as_f32(), vec![50.0]);
    assert_eq!(get("POINT", "UNITS").as_strings(), vec!["mm"]);
    assert_eq!(get("POINT", "FRAMES").as_f32(), vec![frames as f32]);
    assert_eq!(
        get("POINT", "DATA_START").as_f32(),
        vec![f32::from(word(9))]
    );
    assert_eq!(get("POINT", "LABELS").as_strings(), names);
    let m = c3d::read(&path).unwrap();
    assert_eq!(
        m.skeleton
            .joints
            .iter()
            .map(|j| j.name.clone())
            .collect::<Vec<_>>(),
        names
    );
    assert!((m.fps - 50.0).abs() < 1e-3);
    assert_eq!(
        m.events.as_ref(),
        Some(&events),
        "events read back frame for frame"
    );
    assert!(m.positions[7][0].is_nan(), "missing sample stays missing");
    pos[7] = m.positions[7];
    let err = m
        .positions
        .iter()
        .zip(&pos)
        .filter(|(a, _)| a[0].is_finite())
        .flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs()))
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "max error {err} m");
    let (seqs, _) = import_file(&path, &ImportOptions::default(), None).unwrap();
    let (used, source) = pathogait::core::biomech::walk_events(&seqs[0]);
    assert_eq!(source, pathogait::core::data::events::EventSource::Recorded);
    // Import trims frame 0 (its joint 7 is missing): the recorded events follow the trim.
    assert_eq!(seqs[0].frames(), frames - 1);
    assert_eq!(
        used,
        events.slice(1, frames),
        "analysis uses the recorded events"
    );
    assert!(pathogait::core::biomech::analyse(&seqs[0]).is_ok());
    std::fs::write(dir.path().join("junk.c3d"), b"not a c3d file at all").unwrap();
    let e = c3d::read(&dir.path().join("junk.c3d"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("junk.c3d") && e.contains("not a readable C3D"),
        "{e}"
    );
}

fn write_trc(dir: &std::path::Path, names: &[String], pos: &[[f32; 3]]) -> std::path::PathBuf {
    let p = dir.join("truth.trc");
    std::fs::write(&p, trc::to_text("truth.trc", names, pos, 50.0)).unwrap();
    p
}

#[test]
fn label_table_attaches_subject_class_severity_side() {
    let dir = tempfile::tempdir().unwrap();
    let (names, pos, _) = demo_markers();
    for f in ["a.trc", "b.trc"] {
        std::fs::write(dir.path().join(f), trc::to_text(f, &names, &pos, 50.0)).unwrap();
    }
    let labels = dir.path().join("my_labels.csv");
    std::fs::write(
        &labels,
        "file,subject,class,severity,side\na.trc,P01,hemiplegic,0.8,R\n",
    )
    .unwrap();
    let opts = ImportOptions {
        labels: Some(labels),
        keep_duplicates: true,
        ..ImportOptions::default()
    };
    let (ds, rep) = import_path(dir.path(), &opts, &NoProgress, &CancelToken::new()).unwrap();
    let a = ds.sequences.iter().find(|s| s.id == "a").unwrap();
    assert_eq!(
        (a.subject.as_str(), a.label.as_deref(), a.severity),
        ("P01", Some("hemiplegic"), Some(0.8))
    );
    assert_eq!(a.side, Some(pathogait::core::data::Side::Right));
    let b = rep
        .files
        .iter()
        .find(|f| f.path.ends_with("b.trc"))
        .unwrap();
    assert!(
        b.warnings.iter().any(|w| w.contains("no class label")),
        "{:?}",
        b.warnings
    );
    // a and b are the same recording: found as duplicates unless kept on purpose.
    assert_eq!(ds.find_duplicates().len(), 1);
    let (ds2, rep2) = import_path(
        dir.path(),
        &ImportOptions {
            keep_duplicates: false,
            ..opts
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(ds2.sequences.len(), 1);
    assert_eq!(rep2.duplicates_removed.len(), 1);
}

#[test]
fn bvh_reader_handles_rotation_orders_and_units() {
    // Same motion written with two channel orders must give the same positions when the
    // rotation is about one axis only.
    let mk = |order: &str, units_scale: f32| {
        format!(
            "HIERARCHY\nROOT Hips\n{{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition {order}\n JOINT Knee\n {{\n  OFFSET 0 {} 0\n  CHANNELS 3 {order}\n  End Site\n  {{\n   OFFSET 0 {} 0\n  }}\n }}\n}}\nMOTION\nFrames: 1\nFrame Time: 0.01\n0 {} 0 0 0 0 0 0 0\n",
            -45.0 * units_scale,
            -45.0 * units_scale,
            90.0 * units_scale
        )
    };
    let a = pathogait::core::io::bvh::parse(
        &mk("Zrotation Xrotation Yrotation", 1.0),
        Path::new("a.bvh"),
        None,
    )
    .unwrap();
    let b = pathogait::core::io::bvh::parse(
        &mk("Xrotation Yrotation Zrotation", 10.0),
        Path::new("b.bvh"),
        None,
    )
    .unwrap();
    assert_eq!(
        a.skeleton.source_units,
        pathogait::core::data::Units::Centimetres
    );
    assert_eq!(
        b.skeleton.source_units,
        pathogait::core::data::Units::Millimetres
    );
    assert!(max_err(&a.positions, &b.positions) < 1e-5);
    assert!(
        (a.positions[2][1]).abs() < 1e-5,
        "end site at the floor: {:?}",
        a.positions[2]
    );
}

#[test]
fn a_forced_format_skips_the_documents_a_dataset_folder_ships_with() {
    let dir = tempfile::tempdir().unwrap();
    let mut bvh = String::from(
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n JOINT Knee\n {\n  OFFSET 0 -40 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 -40 0\n  }\n }\n}\nMOTION\nFrames: 12\nFrame Time: 0.01\n",
    );
    for f in 0..12 {
        writeln!(bvh, "{f} 90 0 0 0 0 0 0 0").unwrap();
    }
    let bvh = bvh.as_str();
    std::fs::write(dir.path().join("walk.bvh"), bvh).unwrap();
    // An unusual extension still counts when the format is forced.
    std::fs::write(
        dir.path().join("walk2.mocap"),
        bvh.replace("\n0 90 0", "\n20 90 0"),
    )
    .unwrap();
    for (name, text) in [
        ("README.md", "# data"),
        ("LICENSE", "GNU GPL"),
        ("Annotations.xlsx", "PK"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let opts = ImportOptions {
        format: Some(Format::Bvh),
        ..ImportOptions::default()
    };
    let (ds, rep) = import_path(dir.path(), &opts, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(ds.sequences.len(), 2);
    assert_eq!(rep.failed(), 0, "{:?}", rep.files);
    assert_eq!(rep.skipped.len(), 3, "{:?}", rep.skipped);
    // A single file given explicitly is read as the forced format whatever its name.
    let one = dir.path().join("LICENSE");
    assert!(import_path(&one, &opts, &NoProgress, &CancelToken::new()).is_err());
}

/// c3dio fails on files with 52 or more events (a long walk); the importer's own point reader
/// takes over, and agrees with c3dio where both read.
#[test]
fn c3d_with_many_events_reads() {
    use pathogait::core::data::GaitEvents;
    use pathogait::core::io::c3d_write;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..3).map(|i| format!("P{i}")).collect();
    let frames = 2000;
    let pos: Vec<[f32; 3]> = (0..frames * 3)
        .map(|i| [i as f32 * 1e-3, 0.1, 0.2])
        .collect();
    let mut events = GaitEvents::default();
    events.left.heel_strikes = (0..40).map(|k| 10 + 45 * k).collect();
    events.right.heel_strikes = (0..40).map(|k| 30 + 45 * k).collect();
    let trial = c3d_write::C3dTrial {
        names: &names,
        positions: &pos,
        fps: 100.0,
        events: &events,
        subject: "s",
        extra: Vec::new(),
    };
    let path = dir.path().join("long.c3d");
    std::fs::write(&path, c3d_write::to_bytes(&trial).unwrap()).unwrap();
    let m = c3d::read(&path).unwrap();
    assert_eq!(m.events.unwrap(), events);
    assert_eq!(m.skeleton.joint_count(), 3);
    let err = m
        .positions
        .iter()
        .zip(&pos)
        .flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs()))
        .fold(0.0f32, f32::max);
    assert!(err < 1e-6, "max error {err} m");
    // On a file c3dio reads, both readers give the same points.
    let (names, walk, _) = demo_markers();
    let short = c3d_write::C3dTrial {
        names: &names,
        positions: &walk,
        events: &GaitEvents::default(),
        ..trial
    };
    std::fs::write(&path, c3d_write::to_bytes(&short).unwrap()).unwrap();
    let ours =
        pathogait::core::io::c3d_points::read_points(&std::fs::read(&path).unwrap()).unwrap();
    let theirs = c3d::read(&path).unwrap();
    assert_eq!(ours.labels, names);
    assert_eq!(ours.frames, walk.len() / names.len());
    for (a, b) in ours.positions.iter().zip(&theirs.positions) {
        assert!(
            (0..3).all(|k| (a[k] / 1000.0 - b[k]).abs() < 1e-6),
            "{a:?} vs {b:?}"
        );
    }
}
