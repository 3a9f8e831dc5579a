//! Clinical report on the demo data, where the answer is known: the stiff-legged walk's knee
//! range is flagged with its per-side values, a normal walk is not flagged there, an antalgic
//! group shows stance asymmetry, and the text is deterministic and cites its reference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

use pathogait::core::biomech::priors::compute_priors;
use pathogait::core::data::{Dataset, GaitSequence};
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::report::{ClinicalReport, Flag, clinical_report};

fn report_on(ds: &Dataset, pick: impl Fn(&GaitSequence) -> bool) -> ClinicalReport {
    let (chosen, rest): (Vec<GaitSequence>, Vec<GaitSequence>) =
        ds.sequences.iter().cloned().partition(|s| pick(s));
    let priors = compute_priors(
        &Dataset::new("demo", rest),
        Some("normal"),
        None,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let reference = priors.classes.iter().find(|g| g.name == "normal").unwrap();
    let walks: Vec<&GaitSequence> = chosen.iter().collect();
    clinical_report(
        "test",
        &walks,
        Some(reference),
        "class 'normal' of demo",
        None,
    )
}

#[test]
fn findings_follow_the_known_pathology() {
    let ds = demo_dataset(&DemoConfig::default(), &NoProgress, &CancelToken::new()).unwrap();
    let stiff = report_on(&ds, |s| s.id == "human1_stiff_legged1");
    let knee = stiff
        .findings
        .iter()
        .find(|f| f.starts_with("Knee flexion range of motion is reduced"))
        .expect("knee finding");
    assert!(
        knee.contains("against") && knee.contains("class 'normal' of demo"),
        "{knee}"
    );
    let e = stiff
        .evidence
        .iter()
        .find(|e| e.key == "knee_rom_deg")
        .unwrap();
    assert_eq!(e.flag, Flag::Low);
    assert!(e.value < e.reference.unwrap().0);
    assert!(stiff.synthetic);
    let md = stiff.to_markdown();
    assert!(
        md.contains("SYNTHETIC DATA") && md.contains("| knee flexion ROM, deg (mean of sides) |"),
        "{md}"
    );
    // Deterministic.
    assert_eq!(
        md,
        report_on(&ds, |s| s.id == "human1_stiff_legged1").to_markdown()
    );

    let normal = report_on(&ds, |s| s.id == "human2_normal1");
    assert!(
        !normal
            .findings
            .iter()
            .any(|f| f.starts_with("Knee flexion")),
        "{:?}",
        normal.findings
    );

    let antalgic = report_on(&ds, |s| s.label.as_deref() == Some("antalgic"));
    assert_eq!(antalgic.walks.len(), 12);
    assert!(
        antalgic
            .findings
            .iter()
            .any(|f| f.starts_with("Stance is asymmetric")),
        "{:?}",
        antalgic.findings
    );

    let html = stiff.to_html();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<tr class=\"Low\">"));
    assert!(!html.contains("<script"));
}

#[test]
fn arm_swing_and_variability_findings_name_the_side() {
    use pathogait::core::demo::ClassSet;
    let ds = demo_dataset(
        &DemoConfig {
            subjects: 4,
            classes: ClassSet::Extended,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let walk = ds
        .sequences
        .iter()
        .find(|s| s.label.as_deref() == Some("hemiplegic"))
        .unwrap();
    let side = if walk.side == Some(pathogait::core::data::Side::Left) {
        "left"
    } else {
        "right"
    };
    let r = report_on(&ds, |s| s.id == walk.id);
    let arm = r
        .findings
        .iter()
        .find(|f| f.starts_with("Arm swing is asymmetric"))
        .unwrap_or_else(|| panic!("{:?}", r.findings));
    assert!(
        arm.contains(&format!("the {side} arm swings less")),
        "{arm}"
    );
    let slow = report_on(&ds, |s| s.label.as_deref() == Some("slow_variable"));
    assert!(
        slow.findings
            .iter()
            .any(|f| f.starts_with("Step width is wide")),
        "{:?}",
        slow.findings
    );
}
