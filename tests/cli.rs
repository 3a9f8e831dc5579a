//! End-to-end: the `pathogait` binary as users run it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

mod common;

use std::process::Command;

use common::pathogait;

#[test]
fn demo_data_then_priors_on_the_kinect_layout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, err) = pathogait(&[
        "demo-data",
        "--out",
        d,
        "--subjects",
        "2",
        "--trials",
        "1",
        "--artifacts",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Wrote 12 synthetic walks"), "{out}");
    assert!(
        std::fs::read_to_string(dir.path().join("README.txt"))
            .unwrap()
            .contains("SYNTHETIC")
    );
    let (ok, out, err) = pathogait(&["priors", d]);
    assert!(ok, "{err}");
    for class in [
        "normal",
        "antalgic",
        "lurch",
        "steppage",
        "stiff_legged",
        "trendelenburg",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(class)),
            "{class} row missing:\n{out}"
        );
    }
    assert!(out.contains("severity: RMS z-score"), "{out}");
    let (ok, out, _) = pathogait(&["import", d]);
    assert!(ok);
    assert!(out.contains("Files: 12 imported, 0 failed"), "{out}");
    assert!(out.contains("3 empty (all-NaN) frame(s)"), "{out}");
}

#[test]
fn embedded_demo_is_the_default_and_says_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let ron = dir.path().join("priors.ron");
    let (ok, out, err) = pathogait(&["priors", "--out", ron.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("SYNTHETIC"), "{out}");
    let text = std::fs::read_to_string(&ron).unwrap();
    assert!(
        text.contains("normal_class: Some(\"normal\")"),
        "{}",
        &text[..200.min(text.len())]
    );
    let csv = dir.path().join("stats.csv");
    let (ok, out, err) = pathogait(&["stats", "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("human1_normal1"));
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("walk,subject,class,cadence"), "{csv}");
    assert_eq!(csv.lines().count(), 73);
}

#[test]
fn bad_input_fails_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = pathogait(&["import", dir.path().join("absent").to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.starts_with("error: ") && err.contains("absent"),
        "{err}"
    );
    let bad = dir.path().join("x.bvh");
    std::fs::write(&bad, "HIERARCHY\nROOT\n").unwrap();
    let (ok, _, err) = pathogait(&["import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("x.bvh:2"), "{err}");
    let (ok, _, err) = pathogait(&["priors", "--normal-class", "nonesuch"]);
    assert!(!ok);
    assert!(err.contains("class 'nonesuch' not found"), "{err}");
    let (ok, _, err) = pathogait(&["demo-data", "--out", "/proc/forbidden/demo"]);
    assert!(!ok);
    assert!(err.contains("/proc/forbidden/demo"), "{err}");
}

#[test]
fn priors_on_the_shared_bvh_set() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let set = data.join("msk-neuro-bvh");
    let bands = data.join("normative-bands/Schwartz2008.json");
    let (ok, out, err) = pathogait(&[
        "priors",
        set.to_str().unwrap(),
        "--normative",
        bands.to_str().unwrap(),
        "--speed",
        "Free",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("80 walks, 45 subjects"), "{out}");
    for c in [
        "Healthy",
        "Joint Problem",
        "Muscle Weakness",
        "Neurological Defect",
    ] {
        assert!(out.lines().any(|l| l.starts_with(c)), "{c}:\n{out}");
    }
}

/// Writes a 3-subject, one-walk-per-class demo set in the Kinect layout: `dir/data`.
fn small_demo_data(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let (ok, _, err) = pathogait(&[
        "demo-data",
        "--out",
        data.to_str().unwrap(),
        "--subjects",
        "3",
        "--trials",
        "1",
    ]);
    assert!(ok, "{err}");
    data
}

/// Writes a 3-subject demo set and trains a tiny model on it: `(data dir, model dir)`.
fn demo_data_and_tiny_model(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = small_demo_data(dir);
    let model = dir.join("model");
    let (ok, text, err) = pathogait(&[
        "train",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--preset",
        "tiny",
        "--backend",
        "cpu",
    ]);
    assert!(ok, "{err}");
    // The CPU backend names its thread count: every core, not one.
    let threads = std::thread::available_parallelism().unwrap().get();
    assert!(
        text.contains(&format!("Backend: CPU (Flex, {threads} threads)")),
        "{text}"
    );
    assert!(text.contains("Tokeniser MPJPE"), "{text}");
    (data, model)
}

#[test]
fn train_then_generate_with_a_tiny_model() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = demo_data_and_tiny_model(dir.path());
    let out = dir.path().join("out");
    assert!(
        model.join("manifest.ron").is_file()
            && model.join("gpt.bpk").is_file()
            && model.join("tokenizer.bpk").is_file()
    );
    let args = [
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--class",
        "antalgic",
        "--severity",
        "0.7",
        "--side",
        "L",
        "--count",
        "4",
        "--frames",
        "100",
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
    ];
    let (ok, text, err) = pathogait(&args);
    assert!(ok, "{err}");
    assert!(
        text.contains("Prompt: Antalgic gait, severity 0.70, affected side left"),
        "{text}"
    );
    let trcs = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "trc")
        })
        .count();
    assert_eq!(trcs, 4);
    assert!(
        std::fs::read_to_string(out.join("generation.ron"))
            .unwrap()
            .contains("antalgic")
    );
    // The TRC files read back through the importer, on the common rig.
    let (ok, text, err) = pathogait(&["import", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(text.contains("Files: 4 imported, 0 failed"), "{text}");
    // Walks like the training walks, with their subjects' builds, starting anywhere in the
    // stride, with the decoder's variance matched to the training windows'.
    let like = dir.path().join("like");
    let (ok, _, err) = pathogait(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--class",
        "steppage",
        "--like-training-walks",
        "--subject-bodies",
        "--random-start",
        "--match-variance",
        "--count",
        "3",
        "--out",
        like.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(ok, "{err}");
    let manifest = std::fs::read_to_string(like.join("generation.ron")).unwrap();
    for on in [
        "subject_bodies: true",
        "random_start: true",
        "match_variance: true",
    ] {
        assert!(manifest.contains(on), "{on} in {manifest}");
    }
    let (ok, text, err) = pathogait(&["import", like.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(text.contains("Files: 3 imported, 0 failed"), "{text}");
    let (ok, _, err) = pathogait(&[
        "generate",
        "--model",
        dir.path().join("none").to_str().unwrap(),
        "--class",
        "x",
        "--backend",
        "cpu",
    ]);
    assert!(!ok);
    assert!(err.contains("manifest.ron"), "{err}");
}

/// A quick evaluation of `data` into `out`: one fold of three, tiny models, CPU.
fn evaluate_args(data: &std::path::Path, out: &std::path::Path, classifiers: &str) -> Vec<String> {
    [
        "evaluate",
        "--data",
        data.to_str().unwrap(),
        "--protocol",
        "kfold",
        "--folds",
        "3",
        "--max-folds",
        "1",
        "--classifiers",
        classifiers,
        "--synthetic-per-class",
        "3",
        "--preset",
        "tiny",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(str::to_string)
    .to_vec()
}

#[test]
fn evaluate_writes_the_table_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_demo_data(dir.path());
    let out = dir.path().join("eval");
    let mut args = evaluate_args(&data, &out, "gru,cnn");
    args.extend(
        ["--temperature", "0.7", "--generator-hop", "8"]
            .map(str::to_string)
            .to_vec(),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text, err) = pathogait(&args);
    assert!(ok, "{err}");
    for needle in [
        "Real+Synthetic",
        "Baseline only",
        "GRU",
        "CNN",
        "Fréchet distance",
        "fold 1/1",
        "p vs no-information rate (pooled accuracy, one-sided binomial)",
        "balanced accuracy % (pooled; p, label shuffles)",
        "No-information rate (always naming the largest class): ",
        "paired on the same walks (exact McNemar)",
        "p (balanced)",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert!(!text.contains("LSTM"), "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let t = report["settings"]["sampling"]["temperature"]
        .as_f64()
        .unwrap();
    assert!((t - 0.7).abs() < 1e-6, "{t}");
    assert_eq!(report["settings"]["generator"]["window"]["hop"], 8);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 2 * 6, "{summary}");
    for f in [
        "report.json",
        "per_fold.csv",
        "confusion.csv",
        "generative.csv",
        "folds/fold_001.ron",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Same command again: the fold is reused, the table is the same.
    let (ok, again, err) = pathogait(&args);
    assert!(ok, "{err}");
    assert!(again.contains("reused from"), "{again}");
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        summary
    );
    let mut bad = args.clone();
    bad[10] = "gru,transformer";
    let (ok, _, err) = pathogait(&bad);
    assert!(
        !ok && err.contains("unknown classifier 'transformer'"),
        "{err}"
    );
}

/// `--real-subjects 1,all`: one evaluation per cut in its own folder, and the curve as CSV,
/// JSON, SVG and PNG; a cut of 0 is refused.
#[test]
fn evaluate_draws_the_data_scarcity_curve() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_demo_data(dir.path());
    let out = dir.path().join("scarce");
    let mut args = evaluate_args(&data, &out, "cnn");
    args.extend(["--real-subjects".into(), "1,all".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text, err) = pathogait(&args);
    assert!(ok, "{err}");
    for needle in [
        "real training subjects per fold: 1",
        "real training subjects per fold: all",
        "Data-scarcity curve",
        "Synthetic->Real fine-tuned",
        "fine-tuning",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    for f in [
        "real-subjects-1/report.json",
        "real-subjects-all/report.json",
        "scarcity.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let csv = std::fs::read_to_string(out.join("scarcity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 6, "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("1,1.00,CNN,")), "{csv}");
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",balanced_accuracy,p_balanced"),
        "{csv}"
    );
    assert!(
        text.contains("balanced accuracy % (pooled; p) by real subjects"),
        "{text}"
    );
    let svg = std::fs::read_to_string(out.join("scarcity-cnn.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 6, "a line per condition");
    let png = std::fs::read(out.join("scarcity-cnn.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let mut bad = args.clone();
    bad[20] = "0,all";
    let (ok, _, err) = pathogait(&bad);
    assert!(!ok && err.contains("--real-subjects 0"), "{err}");
}

#[test]
fn export_recorded_and_generated_walks_with_curation() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = demo_data_and_tiny_model(dir.path());
    let out = dir.path().join("export");
    let curation = dir.path().join("curation.ron");
    std::fs::write(
        &curation,
        "{\"human1_normal1_SkeletonData1\": (decision: Rejected, tags: [\"too short\"], note: \"\")}",
    )
    .unwrap();
    let (ok, text, err) = pathogait(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--class",
        "antalgic,normal",
        "--count",
        "2",
        "--frames",
        "90",
        "--format",
        "npz,trc,bvh",
        "--curation",
        curation.to_str().unwrap(),
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    // Walks read back from files count as recorded: the files carry no provenance.
    assert!(
        text.contains("Exported 21 walks (4 synthetic, 17 recorded)"),
        "{text}"
    );
    assert!(text.contains("1 left out by curation"), "{text}");
    let manifest = std::fs::read_to_string(out.join("manifest.ron")).unwrap();
    assert!(
        manifest.contains("Generated(") && manifest.contains("seed:"),
        "provenance kept"
    );
    assert!(out.join("dataset.npz").is_file());
    assert!(out.join("bvh/gen_antalgic_0000.bvh").is_file());
    assert!(out.join("trc/human2_lurch1_SkeletonData1.trc").is_file());
    assert!(
        !out.join("trc/human1_normal1_SkeletonData1.trc").exists(),
        "rejected walk exported"
    );
    let (ok, _, err) = pathogait(&["export", "--format", "fbx", "--out", out.to_str().unwrap()]);
    assert!(!ok && err.contains("unknown format 'fbx'"), "{err}");
}

#[test]
fn report_writes_markdown_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let (ok, text, err) = pathogait(&[
        "report",
        "--class",
        "steppage",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("Wrote"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<h1>Gait report: class steppage</h1>") && page.contains("SYNTHETIC DATA")
    );
    let (ok, md, err) = pathogait(&["report", "--walk", "human3_lurch2"]);
    assert!(ok, "{err}");
    assert!(
        md.starts_with("# Gait report: walk human3_lurch2") && md.contains("## Findings"),
        "{md}"
    );
    let (ok, _, err) = pathogait(&["report", "--walk", "nobody"]);
    assert!(!ok && err.contains("walk nobody is not in"), "{err}");
}

#[test]
fn twin_reports_scores_and_writes_both_walks() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text, err) = pathogait(&[
        "twin",
        "--walk",
        "human1_stiff_legged1",
        "--steps",
        "30",
        "--backend",
        "cpu",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for needle in [
        "Pass 1",
        "KneeR",
        "threshold, mm",
        "Pass 2",
        "Knee flexion (+)",
        "held out for thresholds",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert!(dir.path().join("human1_stiff_legged1_twin.trc").is_file());
    let (ok, _, err) = pathogait(&["twin", "--walk", "x", "--normal-class", "nope"]);
    assert!(!ok && err.contains("class 'nope' not found"), "{err}");
}

#[test]
fn a_project_keeps_generated_sets_and_curation_for_export() {
    use pathogait::core::export::{CurationEntry, Decision};
    use pathogait::core::project::{DataSource, Project};
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = demo_data_and_tiny_model(dir.path());
    let pfile = dir.path().join("study.ron");
    let project = Project {
        name: "study".into(),
        sources: vec![DataSource::Demo(pathogait::core::demo::DemoConfig {
            subjects: 2,
            trials: 1,
            ..pathogait::core::demo::DemoConfig::default()
        })],
        ..Project::default()
    };
    project.save(&pfile).unwrap();
    let (ok, text, err) = pathogait(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--class",
        "antalgic",
        "--count",
        "3",
        "--frames",
        "80",
        "--seed",
        "40",
        "--backend",
        "cpu",
        "--project",
        pfile.to_str().unwrap(),
        "--save-set",
        "antalgic batch",
    ]);
    assert!(ok, "{err}");
    assert!(
        text.contains("Saved generated set 'antalgic batch' (3 walks)"),
        "{text}"
    );
    let mut p = Project::load(&pfile).unwrap();
    assert_eq!(p.generated.len(), 1);
    let set = &p.generated[0];
    assert_eq!(
        set.walks.iter().map(|w| w.1).collect::<Vec<_>>(),
        vec![40, 41, 42]
    );
    assert!(
        dir.path()
            .join("study.data/generated/antalgic_batch.npz")
            .is_file()
    );
    // Curate in the project: reject the first generated walk.
    let first = set.walks[0].0.clone();
    p.curation.insert(
        first.clone(),
        CurationEntry {
            decision: Decision::Rejected,
            ..CurationEntry::default()
        },
    );
    p.save(&pfile).unwrap();
    let round = Project::from_ron(&p.to_ron().unwrap(), &pfile).unwrap();
    assert_eq!(round, p);
    let out = dir.path().join("export");
    let (ok, text, err) = pathogait(&[
        "export",
        "--project",
        pfile.to_str().unwrap(),
        "--synthetic-only",
        "--format",
        "npz",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        text.contains("Exported 2 walks (2 synthetic, 0 recorded)"),
        "{text}"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.ron")).unwrap();
    assert!(
        manifest.contains("seed: 41") && manifest.contains("seed: 42"),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!("(\"{first}\", \"rejected\")")),
        "{manifest}"
    );
    // Same name again: refused, project unchanged.
    let save_one = |class: &str, name: &str| {
        pathogait(&[
            "generate",
            "--model",
            model.to_str().unwrap(),
            "--class",
            class,
            "--count",
            "1",
            "--backend",
            "cpu",
            "--project",
            pfile.to_str().unwrap(),
            "--save-set",
            name,
        ])
    };
    let (ok, _, err) = save_one("antalgic", "antalgic batch");
    assert!(!ok && err.contains("already exists"), "{err}");
    // A different name that sanitises to the same file gets its own file.
    let (ok, _, err) = save_one("normal", "antalgic/batch");
    assert!(ok, "{err}");
    let p = Project::load(&pfile).unwrap();
    assert_eq!(p.generated.len(), 2);
    assert_ne!(p.generated[0].file, p.generated[1].file);
    assert_eq!(p.generated[0].load_sequences(dir.path()).unwrap().len(), 3);
}

#[test]
fn a_headless_command_prints_no_graphics_noise() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_demo_data(dir.path());
    // No display and no runtime dir, as on a server or in a container.
    let out = Command::new(env!("CARGO_BIN_EXE_pathogait"))
        .args(["stats", data.to_str().unwrap()])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("XDG_RUNTIME_DIR"));
    let model = dir.path().join("m");
    let out = Command::new(env!("CARGO_BIN_EXE_pathogait"))
        .args(["train", data.to_str().unwrap(), "--preset", "tiny", "--out"])
        .arg(&model)
        .args(["--tokenizer-steps", "2", "--gpt-steps", "2"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{err}");
    // Where no GPU answers, choosing the backend must not start a graphics API at all (its
    // layers print `XDG_RUNTIME_DIR is invalid` without a session).
    if text.contains("Backend: CPU") {
        assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
    }
}

#[test]
fn angles_writes_the_panels_files_headless_and_uses_recorded_events() {
    use pathogait::core::biomech::{analyse, priors::compute_priors};
    use pathogait::core::demo::{DemoConfig, demo_dataset};
    use pathogait::core::export::angles::angle_files;
    use pathogait::core::jobs::{CancelToken, NoProgress};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("angles");
    let walk = "human1_antalgic1";
    let (ok, text, err) = pathogait(&["angles", "--walk", walk, "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        text.contains("Gait Profile Score") && text.contains("events detected"),
        "{text}"
    );
    // The same bytes as the core's export (which the angles panel writes too).
    let ds = demo_dataset(&DemoConfig::default(), &NoProgress, &CancelToken::new()).unwrap();
    let seq = ds.sequences.iter().find(|s| s.id == walk).unwrap();
    let bands = compute_priors(&ds, None, None, &NoProgress, &CancelToken::new())
        .unwrap()
        .normal_bands;
    let files = angle_files(&[(walk.to_string(), analyse(seq).unwrap())], bands.as_ref()).unwrap();
    assert_eq!(
        files.len(),
        pathogait::core::biomech::AngleVar::ALL.len() + 2
    );
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(out.join(name)).unwrap(), bytes, "{name}");
    }
    let mut rdr = csv::Reader::from_path(out.join("angles.csv")).unwrap();
    let knee: Vec<csv::StringRecord> = rdr
        .records()
        .map(Result::unwrap)
        .filter(|r| r.get(1) == Some("knee_flexion") && r.get(2) == Some("left"))
        .collect();
    assert_eq!(knee.len(), 101, "0-100 % of the cycle");
    assert!(
        knee.iter().all(|r| !r.get(7).unwrap().is_empty()),
        "band on every row"
    );
    // A C3D export carries its events; analysing the file uses them.
    let exp = dir.path().join("exp");
    let (ok, _, err) = pathogait(&["export", "--format", "c3d", "--out", exp.to_str().unwrap()]);
    assert!(ok, "{err}");
    let c3d = exp.join(format!("c3d/{walk}.c3d"));
    let (ok, text, err) = pathogait(&[
        "angles",
        c3d.to_str().unwrap(),
        "--walk",
        walk,
        "--out",
        dir.path().join("c3d-angles").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("events recorded with the file"), "{text}");
    let (ok, _, err) = pathogait(&["angles", "--walk", "nope", "--out", out.to_str().unwrap()]);
    assert!(!ok && err.contains("walk nope is not in"), "{err}");
}

/// An export killed at any moment (`kill -9`) leaves the previous export whole, or the new one
/// whole, never a mix: every file the manifest lists is there, and none of the other export's.
#[test]
fn a_killed_export_leaves_the_old_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let out_s = out.to_str().unwrap();
    let (ok, _, err) = pathogait(&["export", "--format", "npz,csv", "--out", out_s]);
    assert!(ok, "{err}");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let check = |what: &str| -> &'static str {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        for f in m["shared_files"].as_array().unwrap() {
            assert!(
                out.join(f.as_str().unwrap()).is_file(),
                "{what}: {f} missing"
            );
        }
        for it in m["items"].as_array().unwrap() {
            for f in it["files"].as_array().unwrap() {
                assert!(
                    out.join(f.as_str().unwrap()).is_file(),
                    "{what}: {f} missing"
                );
            }
        }
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "mine"
        );
        if out.join("c3d").exists() {
            assert!(
                !out.join("dataset.csv").exists(),
                "{what}: a mix of both exports"
            );
            "new"
        } else {
            assert!(!out.join("trc").exists(), "{what}: a mix of both exports");
            "old"
        }
    };
    assert_eq!(check("first export"), "old");
    let mut seen = std::collections::BTreeSet::new();
    for delay_ms in [300u64, 1500, 3000, 5000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pathogait"))
            .args(["export", "--format", "npz,c3d,trc", "--out", out_s])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        let finished = child.wait().unwrap().success();
        let state = check(&format!("killed after {delay_ms} ms"));
        if finished {
            assert_eq!(state, "new");
        }
        seen.insert(state);
        if state == "new" {
            break;
        }
    }
    assert!(
        seen.contains("old"),
        "no kill landed before the swap: {seen:?}"
    );
}

/// Built without the studio, the binary says how to get it instead of failing obscurely.
#[cfg(not(feature = "studio"))]
#[test]
fn a_headless_build_says_how_to_get_the_studio() {
    for args in [&[][..], &["studio"][..]] {
        let (ok, _, err) = pathogait(args);
        assert!(
            !ok && err.contains("without the studio") && err.contains("cargo install"),
            "{err}"
        );
    }
    let (ok, text, err) = pathogait(&["stats"]);
    assert!(ok && text.contains("walks"), "{err}");
}
