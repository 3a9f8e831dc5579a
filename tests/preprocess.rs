//! Preprocessing and dataset splits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

use pathogait::core::data::preprocess::{
    CleanConfig, clean, filtfilt_butter2, normalize_frame, resample_frames, root_centred,
};
use pathogait::core::data::{Axis, CommonJoint, Dataset, GaitSequence};
use pathogait::core::demo::{GaitParams, generate};

fn demo(id: &str, subject: &str) -> GaitSequence {
    let mut p = GaitParams::normal(1.7, 110.0);
    p.duration_s = 3.0;
    generate(&p, id, subject, 3)
}

#[test]
fn nan_gaps_and_outliers_are_repaired_and_reported() {
    let mut s = demo("a", "s1");
    let truth = s.clone();
    let n = s.skeleton.joint_count();
    for j in 0..n {
        s.positions[10 * n + j] = [f32::NAN; 3];
        s.positions[11 * n + j] = [f32::NAN; 3];
    }
    s.positions[30 * n + 14] = [50.0, 50.0, 50.0];
    s.positions[40 * n + 3][2] = f32::INFINITY;
    for j in 0..n {
        s.positions[j] = [f32::NAN; 3];
    }
    let r = clean(&mut s, &CleanConfig::default()).unwrap();
    assert_eq!(r.empty_frames, 3);
    assert_eq!(r.outlier_samples, 1);
    assert_eq!(r.trimmed_start, 1);
    assert_eq!(s.frames(), truth.frames() - 1);
    assert!(s.positions.iter().all(|p| p.iter().all(|v| v.is_finite())));
    // Interpolated samples land near the truth (30 Hz walking, 2-frame gap).
    let err = |f: usize, j: usize| {
        let (a, b) = (s.pos(f - 1, j), truth.pos(f, j));
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    };
    assert!(err(10, 14) < 0.05, "{}", err(10, 14));
    assert!(err(30, 14) < 0.05, "{}", err(30, 14));
    assert!(r.lines().iter().any(|l| l.contains("outlier")));
}

#[test]
fn a_file_of_nan_is_an_error_not_a_panic() {
    let mut s = demo("a", "s1");
    for p in &mut s.positions {
        *p = [f32::NAN; 3];
    }
    let e = clean(&mut s, &CleanConfig::default()).unwrap_err();
    assert!(e.to_string().contains("usable frame"), "{e}");
}

#[test]
fn y_up_data_walking_backwards_in_x_is_normalised() {
    let truth = demo("a", "s1");
    let mut s = truth.clone();
    // Canonical (x fwd, y left, z up) -> Y-up, walking along -X: (x, y, z) -> (-x, z, y).
    for p in &mut s.positions {
        *p = [-p[0] + 3.0, p[2] + 0.5, p[1] - 1.0];
    }
    s.skeleton.up = Axis::PosY;
    s.canonical = false;
    let r = normalize_frame(&mut s);
    assert!(
        !r.mirrored,
        "a proper rotation must not be flagged as mirrored"
    );
    let (p0, p1) = (
        s.common(0, CommonJoint::Pelvis).unwrap(),
        s.common(s.frames() - 1, CommonJoint::Pelvis).unwrap(),
    );
    assert!(p1[0] - p0[0] > 2.0, "walks along +X");
    assert!(p0[0].abs() < 1e-4 && p0[1].abs() < 1e-4);
    let hl = s.common(5, CommonJoint::HipL).unwrap();
    let hr = s.common(5, CommonJoint::HipR).unwrap();
    assert!(hl[1] > hr[1], "left at +Y");
    let ground = (0..s.frames())
        .map(|f| s.common(f, CommonJoint::AnkleL).unwrap()[2])
        .fold(f32::INFINITY, f32::min);
    assert!(ground.abs() < 0.1, "ground near z = 0: {ground}");
}

#[test]
fn mirrored_data_is_flipped_and_flagged() {
    let mut s = demo("a", "s1");
    for p in &mut s.positions {
        p[1] = -p[1];
    }
    s.canonical = false;
    assert!(normalize_frame(&mut s).mirrored);
    assert!(s.common(0, CommonJoint::HipL).unwrap()[1] > 0.0);
}

#[test]
fn butterworth_passes_slow_and_removes_fast_motion() {
    let fs = 60.0;
    let slow: Vec<f64> = (0..600)
        .map(|i| (2.0 * std::f64::consts::PI * 1.0 * f64::from(i) / fs).sin())
        .collect();
    let fast: Vec<f64> = (0..600)
        .map(|i| (2.0 * std::f64::consts::PI * 20.0 * f64::from(i) / fs).sin())
        .collect();
    let ys = filtfilt_butter2(&slow, 6.0, fs);
    let yf = filtfilt_butter2(&fast, 6.0, fs);
    let rms = |v: &[f64]| (v[100..500].iter().map(|x| x * x).sum::<f64>() / 400.0).sqrt();
    assert!((rms(&ys) / rms(&slow) - 1.0).abs() < 0.01);
    assert!(rms(&yf) / rms(&fast) < 0.02);
    // Zero phase: the peak stays where it was.
    let peak = |v: &[f64]| (100..160).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    assert_eq!(peak(&ys), peak(&slow));
}

#[test]
fn resampling_and_root_centring() {
    let s = demo("a", "s1");
    let r = resample_frames(&s, 120);
    assert_eq!(r.frames(), 120);
    assert!((r.duration_s() - s.duration_s()).abs() < 0.05);
    assert_eq!(r.pos(0, 3), s.pos(0, 3));
    let c = root_centred(&s);
    let p = c.common(40, CommonJoint::Pelvis).unwrap();
    assert!(p[0].abs() < 1e-5 && p[1].abs() < 1e-5 && p[2] > 0.5);
}

#[test]
fn loso_and_kfold_never_split_a_subject() {
    let seqs: Vec<GaitSequence> = (0..5)
        .flat_map(|s| (0..3).map(move |t| demo(&format!("s{s}_t{t}"), &format!("s{s}"))))
        .collect();
    let ds = Dataset::new("t", seqs);
    let loso = ds.loso_folds();
    assert_eq!(loso.len(), 5);
    for f in loso.iter().chain(ds.kfold_by_subject(2, 1).iter()) {
        for &i in &f.test {
            assert!(f.test_subjects.contains(&ds.sequences[i].subject));
        }
        for &i in &f.train {
            assert!(
                !f.test_subjects.contains(&ds.sequences[i].subject),
                "leak in fold {:?}",
                f.test_subjects
            );
        }
        assert_eq!(f.train.len() + f.test.len(), 15);
    }
    let k = ds.kfold_by_subject(2, 1);
    let mut held: Vec<String> = k.iter().flat_map(|f| f.test_subjects.clone()).collect();
    held.sort();
    assert_eq!(held, ds.subjects());
    assert_eq!(ds.kfold_by_subject(2, 1), k, "same seed, same folds");
}

#[test]
fn duplicates_are_found_by_content_not_name() {
    let a = demo("a", "s1");
    let mut b = a.clone();
    b.id = "copy".into();
    let mut c = a.clone();
    c.id = "different".into();
    c.positions[0][0] += 0.001;
    let mut ds = Dataset::new("t", vec![a, b, c]);
    assert_eq!(ds.remove_duplicates(), 1);
    assert_eq!(ds.duplicates[0].kept, "a");
    assert_eq!(ds.duplicates[0].copies, vec!["copy".to_string()]);
    assert_eq!(ds.sequences.len(), 2);
}
