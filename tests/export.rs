//! Curated export: every format reads back equal within tolerance (through the project's own
//! importers, which use c3dio for C3D), the npz opens with Python's standard zip reader, the
//! manifest round-trips, curation decides what is written, and bad paths are named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

use std::path::Path;
use std::process::Command;

use pathogait::core::data::{CommonJoint, GaitSequence, Provenance, Side};
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::export::numpy::read_npz;
use pathogait::core::export::{
    Curation, CurationEntry, Decision, ExportError, ExportFormat, ExportManifest, ExportOptions,
    export,
};
use pathogait::core::io::{ImportOptions, import_file};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::model::features::{features_to_sequence, sequence_features};

fn demo_walks(n: usize) -> Vec<GaitSequence> {
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
    ds.sequences.into_iter().take(n).collect()
}

/// A walk on the 12-joint common rig, as the generator produces them.
fn common_rig_walk(src: &GaitSequence) -> GaitSequence {
    let f = sequence_features(src, 30.0).unwrap();
    features_to_sequence(
        &f,
        30.0,
        "gen_antalgic_0001",
        src.label.clone(),
        Provenance::Generated {
            model: "tiny (abc123)".into(),
            prompt: "Antalgic gait, severity 0.50".into(),
            seed: 7,
            sampling: "temperature 1 top-k 0 top-p 0.95".into(),
        },
    )
}

fn run(
    seqs: &[GaitSequence],
    cur: &Curation,
    formats: &[ExportFormat],
    out: &Path,
) -> Result<ExportManifest, ExportError> {
    let opts = ExportOptions {
        formats: formats.to_vec(),
        include_pending: true,
    };
    export(seqs, cur, &opts, out, &NoProgress, &CancelToken::new())
}

/// Distances between joint pairs per frame: independent of the axis conventions and the
/// placement that each importer normalises.
fn geometry(s: &GaitSequence) -> Vec<f32> {
    use CommonJoint as C;
    let pairs = [
        (C::KneeL, C::AnkleR),
        (C::Head, C::ToeL),
        (C::HipL, C::HipR),
        (C::Pelvis, C::ToeR),
        (C::Neck, C::KneeR),
    ];
    (0..s.frames())
        .flat_map(|f| {
            pairs.iter().map(move |(a, b)| {
                let (p, q) = (s.common(f, *a).unwrap(), s.common(f, *b).unwrap());
                ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
            })
        })
        .collect()
}

fn assert_same_geometry(a: &GaitSequence, b: &GaitSequence, tol_m: f32, what: &str) {
    assert_eq!(a.frames(), b.frames(), "{what}: frames");
    assert!(
        (a.fps - b.fps).abs() < 0.01,
        "{what}: fps {} vs {}",
        a.fps,
        b.fps
    );
    let worst = geometry(a)
        .iter()
        .zip(geometry(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < tol_m, "{what}: worst distance error {worst} m");
}

fn import(path: &Path) -> GaitSequence {
    let (mut seqs, _) = import_file(path, &ImportOptions::default(), None).unwrap();
    seqs.remove(0)
}

#[test]
fn every_format_reads_back_equal() {
    let walks = demo_walks(2);
    let synth = common_rig_walk(&walks[0]);
    let all = vec![walks[0].clone(), walks[1].clone(), synth.clone()];
    let dir = tempfile::tempdir().unwrap();
    let m = run(&all, &Curation::new(), &ExportFormat::ALL, dir.path()).unwrap();
    assert_eq!(m.items.len(), 3);
    assert_eq!(
        m.shared_files,
        vec![
            "dataset.npz".to_string(),
            "dataset.csv".into(),
            "walks.csv".into(),
            "events.csv".into(),
            "kinect/index.csv".into()
        ]
    );
    // Mixed rigs: the shared files hold the common joints, and the manifest says so.
    assert!(
        m.notes.iter().any(|n| n.contains("12 common joints")),
        "{:?}",
        m.notes
    );
    let set = read_npz(&dir.path().join("dataset.npz")).unwrap();
    assert_eq!(
        set.ids,
        vec![walks[0].id.clone(), walks[1].id.clone(), synth.id.clone()]
    );
    assert_eq!(set.joints, 12);
    assert_eq!(set.lengths[2] as usize, synth.frames());
    assert_eq!(
        set.synthetic,
        vec![1, 1, 1],
        "demo and generated walks are synthetic"
    );
    for (k, c) in CommonJoint::ALL.iter().enumerate() {
        assert_eq!(set.positions[2][10 * 12 + k], synth.common(10, *c).unwrap());
        assert_eq!(
            set.positions[0][5 * 12 + k],
            walks[0].common(5, *c).unwrap()
        );
    }
    let last = set.max_frames - 1;
    if synth.frames() < set.max_frames {
        assert!(set.positions[2][last * 12][0].is_nan(), "padding is NaN");
    }
    assert_eq!(
        set.label_names[set.labels[0] as usize],
        walks[0].label.clone().unwrap()
    );
    let csv = std::fs::read_to_string(dir.path().join("dataset.csv")).unwrap();
    let rows: usize = all.iter().map(|s| s.frames() * 12).sum();
    assert_eq!(csv.lines().count(), rows + 1);
    // Per-walk formats through the importers (c3dio reads the C3D).
    for (s, item) in all.iter().zip(&m.items) {
        for file in &item.files {
            let back = import(&dir.path().join(file));
            // BVH holds one length per bone: the demo rig's 1-2 cm bone noise shows up there
            // (see the rigid check below); the marker formats are exact to rounding.
            let tol = if file.starts_with("bvh/") {
                0.035
            } else {
                0.0015
            };
            assert_same_geometry(s, &back, tol, file);
            if file.starts_with("c3d/") {
                assert_eq!(back.events.as_ref(), Some(&item.events), "{file}: events");
                // Subject, class and provenance come back: a synthetic walk stays synthetic.
                assert_eq!(
                    (&back.subject, &back.label),
                    (&s.subject, &s.label),
                    "{file}"
                );
                assert_eq!(back.provenance, s.provenance, "{file}");
            }
        }
        assert!(!item.events.is_empty() && item.events.cycles(Side::Left).len() >= 2);
        assert_eq!(item.files.len(), 4, "{:?}", item.files);
    }
    // Provenance of the generated walk is in the manifest, which round-trips.
    let text = std::fs::read_to_string(dir.path().join("manifest.ron")).unwrap();
    let back: ExportManifest = ron::from_str(&text).unwrap();
    assert_eq!(back, m);
    assert!(matches!(
        &back.items[2].provenance,
        Provenance::Generated { seed: 7, .. }
    ));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 3);
    assert!(m.notes.iter().any(|n| n.contains("Kinect layout")));
}

#[test]
fn npz_opens_with_pythons_standard_reader() {
    let walks = demo_walks(2);
    let dir = tempfile::tempdir().unwrap();
    run(&walks, &Curation::new(), &[ExportFormat::Npz], dir.path()).unwrap();
    let script = r#"
import ast, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = []
for name in sorted(z.namelist()):
    data = z.read(name)
    assert data[:6] == b"\x93NUMPY", name
    hlen = int.from_bytes(data[8:10], "little")
    header = ast.literal_eval(data[10:10 + hlen].decode("latin1"))
    out.append("%s %s %s" % (name, header["descr"], header["shape"]))
print("\n".join(out))
"#;
    let py = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path().join("dataset.npz"))
        .output();
    let Ok(py) = py else {
        eprintln!("skipped: python3 is not installed");
        return;
    };
    let text = String::from_utf8_lossy(&py.stdout);
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let frames = walks.iter().map(GaitSequence::frames).max().unwrap();
    assert!(
        text.contains(&format!("positions.npy <f4 (2, {frames}, 25, 3)")),
        "{text}"
    );
    assert!(text.contains("labels.npy <i4 (2,)"), "{text}");
    assert!(text.contains("joint_names.npy <U"), "{text}");
}

#[test]
fn curation_decides_what_is_written() {
    let walks = demo_walks(3);
    let dir = tempfile::tempdir().unwrap();
    let mut cur = Curation::new();
    cur.insert(
        walks[0].id.clone(),
        CurationEntry {
            decision: Decision::Rejected,
            tags: vec!["foot sliding".into()],
            note: String::new(),
        },
    );
    cur.insert(
        walks[1].id.clone(),
        CurationEntry {
            decision: Decision::Accepted,
            tags: vec!["clean".into()],
            note: "typical".into(),
        },
    );
    let m = run(&walks, &cur, &[ExportFormat::Trc], dir.path()).unwrap();
    assert_eq!(
        m.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![walks[1].id.clone(), walks[2].id.clone()]
    );
    assert_eq!(
        m.left_out,
        vec![(walks[0].id.clone(), "rejected".to_string())]
    );
    assert_eq!(m.items[0].curation.tags, vec!["clean".to_string()]);
    assert!(!dir.path().join(format!("trc/{}.trc", walks[0].id)).exists());
    // Accepted only.
    let opts = ExportOptions {
        formats: vec![ExportFormat::Npz],
        include_pending: false,
    };
    let m = export(
        &walks,
        &cur,
        &opts,
        dir.path(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(m.items.len(), 1);
    assert!(
        m.left_out
            .contains(&(walks[2].id.clone(), "not reviewed".to_string()))
    );
    // Everything rejected: a clear error, nothing written.
    let all_rejected: Curation = walks
        .iter()
        .map(|w| {
            (
                w.id.clone(),
                CurationEntry {
                    decision: Decision::Rejected,
                    ..CurationEntry::default()
                },
            )
        })
        .collect();
    let empty = tempfile::tempdir().unwrap();
    let err = run(
        &walks,
        &all_rejected,
        &[ExportFormat::Npz],
        &empty.path().join("x"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing to export"), "{err}");
    assert!(!empty.path().join("x").exists());
}

#[test]
fn ids_that_map_to_one_file_name_get_distinct_files() {
    let mut walks = demo_walks(2);
    walks[0].id = "walk a".into();
    walks[1].id = "walk/a".into();
    let dir = tempfile::tempdir().unwrap();
    let m = run(&walks, &Curation::new(), &[ExportFormat::Trc], dir.path()).unwrap();
    assert_eq!(m.items[0].files, vec!["trc/walk_a.trc".to_string()]);
    assert_eq!(m.items[1].files, vec!["trc/walk_a_2.trc".to_string()]);
    assert!(dir.path().join("trc/walk_a_2.trc").is_file());
}

#[test]
fn an_unwritable_destination_is_named() {
    let walks = demo_walks(1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not_a_folder");
    std::fs::write(&file, "x").unwrap();
    let err = run(&walks, &Curation::new(), &[ExportFormat::Npz], &file).unwrap_err();
    assert!(err.to_string().contains("not_a_folder"), "{err}");
    assert_eq!(ExportFormat::parse("C3D"), Some(ExportFormat::C3d));
    assert_eq!(ExportFormat::parse("fbx"), None);
}

#[test]
fn bvh_rotations_reproduce_a_rigid_walk() {
    // The demo rig's bones vary by 1-2 cm (sensor-like noise) and a BVH has one length per
    // bone, so the first export differs by that much; its re-import is rigid, and exporting
    // that again must reproduce it almost exactly: the rotations are right.
    let walks = demo_walks(1);
    let synth = common_rig_walk(&walks[0]);
    let dir = tempfile::tempdir().unwrap();
    for s in [&walks[0], &synth] {
        let m = run(
            std::slice::from_ref(s),
            &Curation::new(),
            &[ExportFormat::Bvh],
            &dir.path().join("a"),
        )
        .unwrap();
        let once = import(&dir.path().join("a").join(&m.items[0].files[0]));
        let (a, b) = (geometry(s), geometry(&once));
        let mean = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
        assert!(mean < 0.008, "{}: mean distance error {mean} m", s.id);
        let m = run(
            std::slice::from_ref(&once),
            &Curation::new(),
            &[ExportFormat::Bvh],
            &dir.path().join("b"),
        )
        .unwrap();
        let twice = import(&dir.path().join("b").join(&m.items[0].files[0]));
        assert_same_geometry(&once, &twice, 0.002, &s.id);
    }
}

/// Ids, subjects, labels, tags and notes holding commas, quotes and newlines come back
/// unchanged from every CSV of an export, and the Kinect folder re-imports with the same
/// subjects and classes.
#[test]
fn csv_and_kinect_exports_round_trip_awkward_names() {
    let mut walks = demo_walks(3);
    walks[0].id = "walk, \"one\"\nsecond line".into();
    walks[0].subject = "Doe, \"J\"".into();
    walks[1].label = Some("stiff, \"legged\"".into());
    let mut cur = Curation::new();
    let tags = vec![
        "heel, strike".to_string(),
        "says \"ok\"\nnext".into(),
        "a;b".into(),
    ];
    cur.insert(
        walks[0].id.clone(),
        CurationEntry {
            decision: Decision::Accepted,
            tags: tags.clone(),
            note: "line 1\nline, 2".into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let m = run(
        &walks,
        &cur,
        &[ExportFormat::Csv, ExportFormat::Kinect],
        dir.path(),
    )
    .unwrap();
    let read = |name: &str| -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(dir.path().join(name)).unwrap();
        r.records().map(Result::unwrap).collect()
    };
    let data = read("dataset.csv");
    assert_eq!(data[0].get(0), Some(walks[0].id.as_str()));
    assert_eq!(data[0].get(1), Some(walks[0].subject.as_str()));
    let frames: usize = walks.iter().map(|w| w.frames() * 25).sum();
    assert_eq!(data.len(), frames);
    let walk_rows = read("walks.csv");
    assert_eq!(walk_rows.len(), 3);
    assert_eq!(walk_rows[0].get(0), Some(walks[0].id.as_str()));
    assert_eq!(walk_rows[1].get(2), walks[1].label.as_deref());
    let back_tags: Vec<String> = serde_json::from_str(walk_rows[0].get(8).unwrap()).unwrap();
    assert_eq!(back_tags, tags);
    assert_eq!(walk_rows[0].get(9), Some("line 1\nline, 2"));
    let events = read("events.csv");
    let first: Vec<&csv::StringRecord> = events
        .iter()
        .filter(|r| r.get(0) == Some(walks[0].id.as_str()))
        .collect();
    let n0 = m.items[0].events.timeline().len();
    assert!(
        n0 >= 4 && first.len() == n0,
        "{n0} events, {} rows",
        first.len()
    );
    assert_eq!(first[0].get(1), Some(walks[0].subject.as_str()));
    assert!(
        first
            .iter()
            .all(|r| matches!(r.get(2), Some("Left" | "Right")))
    );
    assert!(
        first
            .iter()
            .all(|r| matches!(r.get(3), Some("Foot Strike" | "Foot Off")))
    );
    // Kinect: reference-style names, and the folder re-imports to the same subject and class.
    for it in &m.items {
        let f = &it.files[0];
        assert!(!f.contains("SkeletonData1_SkeletonData"), "{f}");
    }
    let (ds, report) = pathogait::core::io::import_path(
        &dir.path().join("kinect"),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(report.labels.is_some(), "kinect/index.csv is found");
    assert_eq!(ds.sequences.len(), 3);
    for w in &walks {
        let file = &m.items.iter().find(|i| i.id == w.id).unwrap().files[0];
        let stem = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let back = ds.sequences.iter().find(|s| s.id == stem).unwrap();
        assert_eq!(
            (&back.subject, &back.label),
            (&w.subject, &w.label),
            "{file}"
        );
    }
}

#[test]
fn kinect_export_of_an_imported_reference_layout_keeps_its_names() {
    // Demo data on disk is laid out like the reference dataset; importing it gives ids such as
    // human1_normal1_SkeletonData1, which the export must not suffix again.
    let dir = tempfile::tempdir().unwrap();
    let walks = demo_walks(2);
    pathogait::core::demo::write_kinect_layout(&dir.path().join("src"), &walks, false).unwrap();
    let (ds, _) = pathogait::core::io::import_path(
        &dir.path().join("src"),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let m = run(
        &ds.sequences,
        &Curation::new(),
        &[ExportFormat::Kinect],
        &dir.path().join("out"),
    )
    .unwrap();
    for (s, it) in ds.sequences.iter().zip(&m.items) {
        let base = s.id.trim_end_matches("_SkeletonData1");
        assert_eq!(it.files[0], format!("kinect/{base}/{}.csv", s.id));
    }
    let (back, _) = pathogait::core::io::import_path(
        &dir.path().join("out/kinect"),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let key = |d: &[GaitSequence]| {
        let mut v: Vec<_> = d
            .iter()
            .map(|s| (s.id.clone(), s.subject.clone(), s.label.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&back.sequences), key(&ds.sequences));
}
