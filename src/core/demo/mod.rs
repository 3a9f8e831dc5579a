//! The embedded default data: a synthetic demo dataset made by a parametric biomechanical gait
//! model (joint-angle curves -> forward kinematics on a body model). Six classes of the Jun et
//! al. 2020 dataset over several virtual subjects with per-subject variation. Always labelled
//! synthetic: every sequence carries [`Provenance::SyntheticDemo`].

pub mod body;
pub mod curves;
pub mod gaitgen;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use gaitgen::{GaitParams, Pathology, generate};

use crate::core::data::{Dataset, GaitSequence, Provenance, Side};
use crate::core::io::kinect_csv;
use crate::core::jobs::{CancelToken, Cancelled, Progress, run_parallel};
use crate::core::math::Vec3;

/// Name shown wherever the embedded dataset appears.
pub const DEMO_NAME: &str = "demo (synthetic)";

/// Demo dataset settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemoConfig {
    /// Virtual subjects; each walks every class.
    pub subjects: usize,
    /// Walks per subject and class.
    pub trials: usize,
    /// Seconds per walk.
    pub duration_s: f32,
    /// Frame rate (the Kinect v2 runs at 30 Hz).
    pub fps: f32,
    /// Sensor noise SD, m.
    pub noise_m: f32,
    /// Master seed: same seed, same dataset.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            subjects: 6,
            trials: 2,
            duration_s: 5.0,
            fps: 30.0,
            noise_m: 0.002,
            seed: 7,
        }
    }
}

/// Parameters of one demo walk: per-subject height, cadence, affected side and severity, with
/// per-trial jitter. Deterministic in `(cfg.seed, subject, class, trial)`.
#[must_use]
pub fn demo_params(
    cfg: &DemoConfig,
    subject: usize,
    pathology: Pathology,
    trial: usize,
) -> (GaitParams, u64) {
    let mut srng = ChaCha8Rng::seed_from_u64(
        cfg.seed ^ (subject as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let height: f32 = srng.random_range(1.55..1.90);
    let cadence: f32 = srng.random_range(102.0..122.0);
    let side = if srng.random_bool(0.5) {
        Side::Left
    } else {
        Side::Right
    };
    let base_severity: f32 = srng.random_range(0.55..0.95);
    let seed = cfg.seed
        ^ ((subject as u64) << 32)
        ^ ((pathology as u64) << 16)
        ^ (trial as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut trng = ChaCha8Rng::seed_from_u64(seed);
    let severity = (base_severity + trng.random_range(-0.05..0.05)).clamp(0.0, 1.0);
    let mut p = GaitParams::normal(height, cadence * trng.random_range(0.97..1.03));
    p.fps = cfg.fps;
    p.duration_s = cfg.duration_s;
    p.noise_m = cfg.noise_m;
    // Individual style: small per-subject scaling of the sagittal ranges.
    let knee_scale: f32 = srng.random_range(0.92..1.08);
    let hip_scale: f32 = srng.random_range(0.92..1.08);
    for c in &mut p.curves {
        c.knee_flexion.scale_about(4.0, knee_scale);
        c.hip_flexion.scale_about(0.0, hip_scale);
    }
    (p.with_pathology(pathology, severity, side), seed)
}

/// Generates the demo dataset; ids and subjects follow the Kinect layout (`humanN_<gait>K`).
///
/// # Errors
/// Only cancellation.
pub fn demo_dataset(
    cfg: &DemoConfig,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Dataset, Cancelled> {
    let total = cfg.subjects * Pathology::ALL.len() * cfg.trials;
    progress.start("generating demo data", total as u64);
    // Every walk is seeded by its own (subject, class, trial), so generating them on every
    // core gives the same walks in the same order.
    let jobs: Vec<(usize, Pathology, usize)> = (0..cfg.subjects)
        .flat_map(|s| {
            Pathology::ALL
                .into_iter()
                .flat_map(move |p| (0..cfg.trials).map(move |t| (s, p, t)))
        })
        .collect();
    let chunks: Vec<&[(usize, Pathology, usize)]> = jobs.chunks(32).collect();
    let done = run_parallel(
        &chunks,
        "pathogait-demo",
        |_, chunk| {
            cancel.check()?;
            let walks: Vec<GaitSequence> = chunk
                .iter()
                .map(|&(subject, p, trial)| {
                    let (params, seed) = demo_params(cfg, subject, p, trial);
                    let id = format!("human{}_{}{}", subject + 1, p.label(), trial + 1);
                    generate(&params, &id, &format!("human{}", subject + 1), seed)
                })
                .collect();
            if let Some(last) = walks.last() {
                progress.advance(walks.len() as u64, &last.id);
            }
            Ok(walks)
        },
        || Cancelled,
    );
    let mut seqs = Vec::with_capacity(total);
    for walks in done {
        match walks {
            Ok(w) => seqs.extend(w),
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        }
    }
    progress.finish();
    Ok(Dataset::new(DEMO_NAME, seqs))
}

/// Writes sequences in the Kinect dataset's layout, `humanN_<gait>K/humanN_<gait>K_SkeletonData1.csv`,
/// rotated to walk along +Y and centred so coordinates stay within the sensor's 4 m range.
/// With `artifacts`, a few NaN frames and far-off glitches are injected the way real Kinect
/// files have them (for exercising the importer's repair). Returns the files written.
///
/// # Errors
/// Sequences not on the Kinect rig, and I/O failures (with the path).
pub fn write_kinect_layout(
    dir: &Path,
    seqs: &[GaitSequence],
    artifacts: bool,
) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut written = Vec::new();
    for s in seqs {
        if s.skeleton.joint_count() != 25 {
            return Err(std::io::Error::other(format!(
                "sequence '{}' is not on the Kinect v2 rig",
                s.id
            )));
        }
        let n = s.frames();
        let mut pos: Vec<Vec3> = kinect_csv::from_canonical(&s.positions, 25);
        if artifacts {
            let mut rng = ChaCha8Rng::seed_from_u64(
                s.content_hash()
                    .bytes()
                    .fold(0u64, |a, b| a.wrapping_mul(31) ^ u64::from(b)),
            );
            // Three separate NaN frames and one glitch, each in its own quarter of the walk.
            let quarter = (n / 4).max(3);
            for q in 0..4 {
                let f = (q * quarter + rng.random_range(1..quarter - 1)).min(n - 1);
                if q < 3 {
                    for p in &mut pos[f * 25..(f + 1) * 25] {
                        *p = [f32::NAN; 3];
                    }
                } else {
                    pos[f * 25 + rng.random_range(0..25)] = [9.5, -7.25, 4.6];
                }
            }
        }
        let sub = dir.join(&s.id);
        std::fs::create_dir_all(&sub)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", sub.display())))?;
        let file = sub.join(format!("{}_SkeletonData1.csv", s.id));
        let text = kinect_csv::to_text(&pos, s.fps, 12.0);
        crate::core::fsutil::write_atomic(&file, text.as_bytes())?;
        written.push(file);
    }
    Ok(written)
}

/// True when every sequence of the dataset is demo data (shown as "synthetic" in every view).
#[must_use]
pub fn is_demo(ds: &Dataset) -> bool {
    !ds.sequences.is_empty()
        && ds
            .sequences
            .iter()
            .all(|s| matches!(s.provenance, Provenance::SyntheticDemo { .. }))
}
