//! The embedded default data: a synthetic demo dataset made by a parametric biomechanical gait
//! model (joint-angle curves -> forward kinematics on a body model with swinging arms). The six
//! classes of the Jun et al. 2020 dataset, or those plus Parkinsonian, crouch, hemiplegic and
//! slow variable gait, over virtual subjects of given ages with per-subject variation. Always
//! labelled synthetic: every sequence carries [`Provenance::SyntheticDemo`].

pub mod age;
pub mod body;
pub mod curves;
pub mod gaitgen;
pub mod pathology;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use gaitgen::{GaitParams, generate};
pub use pathology::{ClassSet, Pathology};

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
    /// Which classes every subject walks.
    pub classes: ClassSet,
    /// Ages of the virtual subjects, years `[youngest, oldest]`, spread evenly over the
    /// subjects; body size, proportions, cadence, speed and stance then follow age norms
    /// ([`age`]). `None`: adults of 1.55-1.90 m at 102-122 steps/min, as the reference six
    /// were always made.
    pub ages: Option<[f32; 2]>,
    /// Parkinsonian walks of severity 0.7 or more festinate (quicker, shorter steps as the
    /// walk goes on).
    pub festination: bool,
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
            classes: ClassSet::ReferenceSix,
            ages: None,
            festination: false,
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
    // Draws below come after the reference six's, so their walks stay as they always were.
    if let Some(ages) = cfg.ages {
        with_age(&mut p, ages, subject, cfg.subjects, &mut srng, &mut trng);
    }
    let arm_scale: f32 = srng.random_range(0.8..1.2);
    for c in &mut p.curves {
        c.shoulder_flexion.scale_about(0.0, arm_scale);
    }
    p.calcaneus = srng.random_bool(0.3);
    let p = p.with_pathology(pathology, severity, side);
    let festinates = cfg.festination && pathology == Pathology::Parkinsonian && severity >= 0.7;
    let festination = if festinates { 0.3 * severity } else { 0.0 };
    (GaitParams { festination, ..p }, seed)
}

/// The age of subject `subject` of `subjects`, spread evenly over `ages` (with a little
/// per-subject jitter so two datasets of other sizes do not share ages).
#[must_use]
pub fn subject_age(ages: [f32; 2], subject: usize, subjects: usize, jitter: f32) -> f32 {
    let (lo, hi) = (ages[0].min(ages[1]), ages[0].max(ages[1]));
    let step = (hi - lo) / subjects.max(1) as f32;
    (lo + step * (subject as f32 + 0.5 + 0.4 * jitter)).clamp(lo, hi)
}

/// Sets body size, proportions, cadence, stride and stance of a subject of an age drawn from
/// `ages`, around the age norms: height SD 4 %, cadence SD 4 %, speed SD 6 % per subject
/// (roughly the between-subject spread of the norm sources), cadence 3 % per trial.
fn with_age(
    p: &mut GaitParams,
    ages: [f32; 2],
    subject: usize,
    subjects: usize,
    srng: &mut ChaCha8Rng,
    trng: &mut ChaCha8Rng,
) {
    let mut z = || -> f32 { (0..3).map(|_| srng.random_range(-1.0f32..1.0)).sum::<f32>() };
    let age = subject_age(ages, subject, subjects, z() / 3.0);
    let n = age::norms(age);
    let height = n.height_m * (1.0 + 0.04 * z().clamp(-2.5, 2.5));
    let cadence = n.cadence_steps_min * (1.0 + 0.04 * z().clamp(-2.5, 2.5));
    let speed = n.speed_m_s * (1.0 + 0.06 * z().clamp(-2.5, 2.5));
    let cadence = cadence * trng.random_range(0.97..1.03);
    p.height_m = height;
    p.cadence_steps_min = cadence;
    p.stride_length_m = speed * 120.0 / cadence;
    p.stance_pct = [n.stance_pct; 2];
    p.leg_scale = n.leg_scale();
    p.age_years = Some(age);
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
    let classes = cfg.classes.classes();
    let total = cfg.subjects * classes.len() * cfg.trials;
    progress.start("generating demo data", total as u64);
    // Every walk is seeded by its own (subject, class, trial), so generating them on every
    // core gives the same walks in the same order.
    let jobs: Vec<(usize, Pathology, usize)> = (0..cfg.subjects)
        .flat_map(|s| {
            classes
                .iter()
                .flat_map(move |&p| (0..cfg.trials).map(move |t| (s, p, t)))
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
