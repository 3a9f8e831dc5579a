//! Every exported format read by the field's own readers, not ours: C3D in `ezc3d` and the
//! `c3d` package, npz in `numpy`, BVH in the `bvh` package (`tests/readers/check_exports.py`).
//!
//! The Python comes from `PATHOGAIT_READERS_PYTHON` (`.ci/run` makes a virtual environment
//! with pinned ezc3d, c3d, numpy and bvh), else `python3`. With `PATHOGAIT_REQUIRE_READERS=1`
//! (CI) a missing reader fails the test; elsewhere the test prints why it skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use pathogait::core::data::GaitSequence;
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::export::{Curation, ExportFormat, ExportOptions, export};
use pathogait::core::io::c3d_write::{FOOT_OFF, FOOT_STRIKE, context_name};
use pathogait::core::jobs::{CancelToken, NoProgress};

/// Joint names in the order a BVH hierarchy visits them: depth first, children in rig order.
fn depth_first(s: &GaitSequence) -> Vec<String> {
    fn visit(s: &GaitSequence, j: usize, out: &mut Vec<String>) {
        out.push(s.skeleton.joints[j].name.replace(char::is_whitespace, "_"));
        for (k, c) in s.skeleton.joints.iter().enumerate() {
            if c.parent == Some(j) {
                visit(s, k, out);
            }
        }
    }
    let mut out = Vec::new();
    for (j, joint) in s.skeleton.joints.iter().enumerate() {
        if joint.parent.is_none() {
            visit(s, j, &mut out);
        }
    }
    out
}

fn python() -> Option<String> {
    let py = std::env::var("PATHOGAIT_READERS_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&py)
        .args(["-c", "import ezc3d, c3d, numpy, bvh"])
        .output();
    let why = match probe {
        Ok(o) if o.status.success() => return Some(py),
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("{py}: {e}"),
    };
    assert!(
        std::env::var("PATHOGAIT_REQUIRE_READERS").as_deref() != Ok("1"),
        "the field's readers are required here (PATHOGAIT_REQUIRE_READERS=1) but missing: {why}"
    );
    eprintln!("SKIPPED: ezc3d, c3d, numpy and bvh are not all importable ({why})");
    None
}

#[test]
fn every_format_opens_in_the_fields_readers() {
    let Some(py) = python() else { return };
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
    let mut walks: Vec<GaitSequence> = ds.sequences.into_iter().take(3).collect();
    // Missing samples must reach the readers as invalid points (negative residual).
    for k in [30, 31, 57] {
        walks[1].positions[k] = [f32::NAN; 3];
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = ExportOptions {
        formats: ExportFormat::ALL.to_vec(),
        include_pending: true,
    };
    let m = export(
        &walks,
        &Curation::new(),
        &opts,
        dir.path(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let expected: Vec<serde_json::Value> = walks
        .iter()
        .zip(&m.items)
        .map(|(s, it)| {
            let events: Vec<(&str, &str, usize)> = it
                .events
                .timeline()
                .into_iter()
                .map(|(side, f, strike)| {
                    (
                        context_name(side),
                        if strike { FOOT_STRIKE } else { FOOT_OFF },
                        f,
                    )
                })
                .collect();
            serde_json::json!({
                "id": s.id,
                "frames": s.frames(),
                "fps": s.fps,
                "joints": s.skeleton.joints.iter().map(|j| j.name.clone()).collect::<Vec<_>>(),
                "bvh_joints": depth_first(s),
                "files": it.files,
                "events": events,
            })
        })
        .collect();
    let json = dir.path().join("expected.json");
    std::fs::write(&json, serde_json::json!({ "walks": expected }).to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/check_exports.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(dir.path())
        .arg(&json)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all readers agree on 3 walks"), "{text}");
}
