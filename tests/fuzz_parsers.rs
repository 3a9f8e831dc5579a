//! Every parser of user files over mutated inputs, inside `cargo test`: truncations, byte
//! flips, insertions, deletions, repeats and extreme numbers applied to valid seed files (BVH,
//! Kinect CSV, TRC, C3D, label table, project RON, model manifest, safetensors). Each must
//! return (an error is fine) and never panic. Seeded, so a failure repeats; the input that
//! panicked is written next to the test's temporary folder and named in the failure.
//!
//! The long, coverage-guided version of the same targets is `tests/fuzz` (cargo-fuzz; README);
//! `PATHOGAIT_FUZZ_SEEDS_OUT=DIR` writes its seed corpus (`DIR/<target>/seed`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use burn::tensor::Device;
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::export::bvh_write::to_bvh_text;
use pathogait::core::io::{LabelTable, bvh, c3d, c3d_points, c3d_write, kinect_csv, trc};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::model::bundle::GaitGenerator;
use pathogait::core::model::gpt::GptConfig;
use pathogait::core::project::Project;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutated inputs per parser (`PATHOGAIT_FUZZ_CASES` raises it for a longer local run).
fn cases() -> usize {
    std::env::var("PATHOGAIT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// One random mutation of `seed` (one to three edits).
fn mutate(seed: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let n = v.len().max(1);
        let at = rng.random_range(0..n);
        match rng.random_range(0..7) {
            0 => v.truncate(at),
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..n);
                    if let Some(b) = v.get_mut(i) {
                        *b ^= 1 << rng.random_range(0..8);
                    }
                }
            }
            2 => {
                let junk: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
                v.splice(at.min(v.len())..at.min(v.len()), junk);
            }
            3 => {
                let end = (at + rng.random_range(1..256)).min(v.len());
                v.drain(at.min(end)..end);
            }
            4 => {
                let end = (at + rng.random_range(1..512)).min(v.len());
                let piece = v[at.min(end)..end].to_vec();
                v.splice(end..end, piece);
            }
            5 => {
                // An extreme number where a digit was.
                if let Some(i) = (at..v.len()).find(|&i| v[i].is_ascii_digit()) {
                    let big: &[u8] = [
                        &b"99999999999999999999"[..],
                        b"-1",
                        b"nan",
                        b"1e39",
                        b"0",
                        b"4294967296",
                    ][rng.random_range(0..6)];
                    v.splice(i..=i, big.iter().copied());
                }
            }
            _ => {
                // A 16-bit word set to an extreme (binary formats: counts, offsets).
                if v.len() >= 2 {
                    let i = rng.random_range(0..v.len() - 1);
                    let w: u16 = [0, 1, 0x7fff, 0x8000, 0xffff][rng.random_range(0..5)];
                    v[i..i + 2].copy_from_slice(&w.to_le_bytes());
                }
            }
        }
    }
    v
}

/// Runs `parse` over mutations of `seed`; on a panic, keeps the input in the system's temporary
/// folder and fails naming it.
fn fuzz(name: &str, seed: &[u8], parse: impl Fn(&[u8])) {
    let mut rng = ChaCha8Rng::seed_from_u64(
        name.bytes()
            .fold(7u64, |a, b| a.wrapping_mul(31) ^ u64::from(b)),
    );
    parse(seed);
    // The seed corpus of the coverage-guided fuzzer (tests/fuzz): one file per target.
    if let Some(out) = std::env::var_os("PATHOGAIT_FUZZ_SEEDS_OUT") {
        let d = Path::new(&out).join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("seed"), seed).unwrap();
    }
    for case in 0..cases() {
        let input = mutate(seed, &mut rng);
        if catch_unwind(AssertUnwindSafe(|| parse(&input))).is_err() {
            let keep = std::env::temp_dir().join(format!("pathogait-fuzz-{name}-case{case}.bin"));
            std::fs::write(&keep, &input).unwrap();
            panic!(
                "{name}: case {case} panicked; input kept at {}",
                keep.display()
            );
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn parsers_survive_mutated_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ds = demo_dataset(
        &DemoConfig {
            subjects: 1,
            trials: 1,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let walk = &ds.sequences[0];
    let names: Vec<String> = walk
        .skeleton
        .joints
        .iter()
        .map(|j| j.name.clone())
        .collect();
    let short = walk.slice_frames(0, 40);
    let p = Path::new("fuzz");

    let bvh_seed = to_bvh_text(&short).unwrap();
    fuzz("bvh", bvh_seed.as_bytes(), |b| {
        let _ = bvh::parse(&text(b), p, None);
    });
    let kinect_seed = kinect_csv::to_text(&short.positions, short.fps, 0.0);
    fuzz("kinect_csv", kinect_seed.as_bytes(), |b| {
        let _ = kinect_csv::parse(&text(b), p);
    });
    let trc_seed = trc::to_text("w.trc", &names, &short.positions, short.fps);
    fuzz("trc", trc_seed.as_bytes(), |b| {
        let _ = trc::parse(&text(b), p);
    });

    let (events, _) = pathogait::core::biomech::walk_events(walk);
    let c3d_seed = c3d_write::to_bytes(&c3d_write::C3dTrial {
        names: &names,
        positions: &short.positions,
        fps: short.fps,
        events: &events,
        subject: "s",
        extra: Vec::new(),
    })
    .unwrap();
    let c3d_file = dir.join("case.c3d");
    fuzz("c3d", &c3d_seed, |b| {
        let _ = c3d_points::read_points(b);
        std::fs::write(&c3d_file, b).unwrap();
        let _ = c3d::read(&c3d_file);
    });

    let labels_file = dir.join("labels.csv");
    let labels_seed = "file,subject,label,severity,side\na.bvh,S1,antalgic,0.5,L\n\"b, c.bvh\",S2,\"normal \"\"x\"\"\",,R\n";
    fuzz("labels", labels_seed.as_bytes(), |b| {
        std::fs::write(&labels_file, b).unwrap();
        let _ = LabelTable::load(&labels_file);
    });

    let project_seed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo.ron")).unwrap();
    let project_file = dir.join("project.ron");
    fuzz("project", &project_seed, |b| {
        std::fs::write(&project_file, b).unwrap();
        let _ = Project::load(&project_file);
    });

    fuzz_model_files(&ds, dir);
}

/// The model manifest (from a two-step tiny training) and the GPT-2 safetensors reader.
fn fuzz_model_files(ds: &pathogait::core::data::Dataset, dir: &Path) {
    let mut plan = pathogait::core::model::bundle::TrainPlan::tiny();
    plan.tokenizer_stage.steps = 2;
    plan.gpt_stage.steps = 2;
    let device = Device::flex();
    let trained = pathogait::core::model::fit::train(
        ds,
        &plan,
        "fuzz",
        &device,
        "cpu",
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let model_dir = dir.join("model");
    trained.save(&model_dir).unwrap();
    let manifest_seed = std::fs::read(model_dir.join("manifest.ron")).unwrap();
    fuzz("manifest", &manifest_seed, |b| {
        std::fs::write(model_dir.join("manifest.ron"), b).unwrap();
        let _ = GaitGenerator::load(&model_dir, &device);
    });

    let mut header = serde_json::Map::new();
    header.insert(
        "wpe.weight".into(),
        serde_json::json!({"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}),
    );
    let h = serde_json::to_vec(&header).unwrap();
    let mut st_seed = (h.len() as u64).to_le_bytes().to_vec();
    st_seed.extend(h);
    st_seed.extend([0u8; 32]);
    let st_file = dir.join("w.safetensors");
    let gpt = GptConfig {
        vocab: 10,
        context: 8,
        width: 4,
        layers: 1,
        heads: 2,
        dropout: 0.0,
    }
    .init(&device);
    fuzz("safetensors", &st_seed, |b| {
        std::fs::write(&st_file, b).unwrap();
        let _ = gpt.clone().load_gpt2(&st_file);
    });
}
