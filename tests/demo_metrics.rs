//! Metric checks on the demo generator, where the true values are known.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; exact values are intended

use pathogait::core::biomech::priors::compute_priors;
use pathogait::core::biomech::{AngleVar, analyse};
use pathogait::core::data::Side;
use pathogait::core::demo::{DemoConfig, GaitParams, Pathology, demo_dataset, generate, is_demo};
use pathogait::core::jobs::{CancelToken, NoProgress};

fn walk(p: &GaitParams) -> pathogait::core::biomech::GaitAnalysis {
    let mut p = p.clone();
    p.duration_s = 8.0;
    p.fps = 60.0;
    analyse(&generate(&p, "t", "s", 1)).expect("demo walk analyses")
}

#[test]
fn cadence_and_rom_given_to_the_generator_are_recovered() {
    for (height, cadence) in [(1.62, 98.0), (1.75, 112.0), (1.88, 124.0)] {
        let p = GaitParams::normal(height, cadence);
        let a = walk(&p);
        let st = &a.spatiotemporal;
        assert!(
            (st.cadence_steps_min - f64::from(cadence)).abs() < 0.03 * f64::from(cadence),
            "cadence {} vs {cadence}",
            st.cadence_steps_min
        );
        let stride = f64::from(p.stride_length_m);
        assert!(
            (st.both(|s| s.stride_length_m) - stride).abs() < 0.05 * stride,
            "stride {} vs {stride}",
            st.both(|s| s.stride_length_m)
        );
        let speed = stride / f64::from(p.stride_time_s());
        assert!(
            (st.speed_m_s - speed).abs() < 0.05 * speed,
            "speed {} vs {speed}",
            st.speed_m_s
        );
        for side in Side::BOTH {
            let k = usize::from(side == Side::Right);
            let knee_true = f64::from(p.curves[k].knee_flexion.range());
            let hip_true = f64::from(p.curves[k].hip_flexion.range());
            let knee = a.rom_deg(AngleVar::KneeFlexion, side);
            let hip = a.rom_deg(AngleVar::HipFlexion, side);
            assert!(
                (knee - knee_true).abs() < 3.0,
                "{side:?} knee ROM {knee} vs {knee_true}"
            );
            assert!(
                (hip - hip_true).abs() < 3.0,
                "{side:?} hip ROM {hip} vs {hip_true}"
            );
            let stance = st.side(side).stance_pct;
            assert!((stance - 60.0).abs() < 2.0, "{side:?} stance {stance}");
        }
    }
}

#[test]
fn pathologies_show_on_the_affected_side() {
    let base = GaitParams::normal(1.75, 110.0);
    let normal = walk(&base);
    for side in Side::BOTH {
        let other = side.other();
        let stiff = walk(
            &base
                .clone()
                .with_pathology(Pathology::StiffLegged, 0.9, side),
        );
        let (ka, ko) = (
            stiff.rom_deg(AngleVar::KneeFlexion, side),
            stiff.rom_deg(AngleVar::KneeFlexion, other),
        );
        assert!(
            ka + 25.0 < ko,
            "stiff {side:?}: affected knee ROM {ka} vs other {ko}"
        );

        let antalgic = walk(&base.clone().with_pathology(Pathology::Antalgic, 0.9, side));
        let st = &antalgic.spatiotemporal;
        assert!(
            st.side(side).stance_pct + 5.0 < st.side(other).stance_pct,
            "antalgic {side:?}: stance {:?}",
            (st.left.stance_pct, st.right.stance_pct)
        );

        let steppage = walk(&base.clone().with_pathology(Pathology::Steppage, 0.9, side));
        let min_ankle = |s| {
            steppage
                .curve(AngleVar::AnkleDorsiflexion, s)
                .map(|c| c.mean[60..].iter().copied().fold(f64::INFINITY, f64::min))
                .unwrap()
        };
        assert!(
            min_ankle(side) < min_ankle(other) - 8.0,
            "steppage {side:?}: swing ankle {} vs {}",
            min_ankle(side),
            min_ankle(other)
        );

        let trend = walk(
            &base
                .clone()
                .with_pathology(Pathology::Trendelenburg, 0.9, side),
        );
        let obl = trend.rom_deg(AngleVar::PelvicObliquity, side);
        let obl_normal = normal.rom_deg(AngleVar::PelvicObliquity, side);
        assert!(
            obl > obl_normal + 3.0,
            "trendelenburg {side:?}: obliquity ROM {obl} vs normal {obl_normal}"
        );
        let lean = trend
            .curve(AngleVar::TrunkLeanLateral, side)
            .map(|c| c.mean[10..40].iter().sum::<f64>() / 30.0)
            .unwrap();
        assert!(
            lean > 2.0,
            "trendelenburg {side:?}: trunk lean toward stance side {lean}"
        );
    }
}

#[test]
fn demo_dataset_is_deterministic_labelled_and_synthetic() {
    let cfg = DemoConfig {
        subjects: 2,
        trials: 1,
        ..DemoConfig::default()
    };
    let a = demo_dataset(&cfg, &NoProgress, &CancelToken::new()).unwrap();
    let b = demo_dataset(&cfg, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(a.sequences.len(), 12);
    assert!(is_demo(&a));
    let ha: Vec<String> = a
        .sequences
        .iter()
        .map(pathogait::core::data::GaitSequence::content_hash)
        .collect();
    let hb: Vec<String> = b
        .sequences
        .iter()
        .map(pathogait::core::data::GaitSequence::content_hash)
        .collect();
    assert_eq!(ha, hb);
    let other = demo_dataset(
        &DemoConfig { seed: 99, ..cfg },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_ne!(other.sequences[0].content_hash(), ha[0]);
    assert_eq!(a.labels().len(), 6);
    assert!(
        a.sequences
            .iter()
            .filter(|s| s.label.as_deref() != Some("normal"))
            .all(|s| s.severity.is_some() && s.side.is_some())
    );
}

#[test]
fn priors_rank_pathologies_away_from_normal() {
    let ds = demo_dataset(
        &DemoConfig {
            subjects: 4,
            trials: 1,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let set = compute_priors(&ds, None, None, &NoProgress, &CancelToken::new()).unwrap();
    assert!(set.failed.is_empty(), "{:?}", set.failed);
    assert_eq!(set.normal_class.as_deref(), Some("normal"));
    let sev = |c: &str| set.class(c).unwrap().severity.mean;
    for c in [
        "antalgic",
        "lurch",
        "steppage",
        "stiff_legged",
        "trendelenburg",
    ] {
        assert!(
            sev(c) > 2.0 * sev("normal"),
            "{c}: severity {} vs normal {}",
            sev(c),
            sev("normal")
        );
    }
    let knee = |c: &str| set.class(c).unwrap().features["knee_rom_deg"].mean;
    assert!(knee("stiff_legged") < knee("normal") - 8.0);
    let asym = |c: &str| set.class(c).unwrap().features["asymmetry_pct"].mean;
    assert!(asym("antalgic") > asym("normal") + 5.0);
    assert_eq!(set.subjects.len(), 4);
    let text = ron::ser::to_string(&set).unwrap();
    assert!(text.contains("stiff_legged"));
}

#[test]
fn stance_given_per_side_is_recovered() {
    let mut p = GaitParams::normal(1.7, 108.0);
    p.stance_pct = [56.0, 65.0];
    let a = walk(&p);
    let st = &a.spatiotemporal;
    assert!(
        (st.left.stance_pct - 56.0).abs() < 2.5,
        "left {}",
        st.left.stance_pct
    );
    assert!(
        (st.right.stance_pct - 65.0).abs() < 2.5,
        "right {}",
        st.right.stance_pct
    );
    assert!((st.left.swing_pct + st.left.stance_pct - 100.0).abs() < 1e-9);
}

#[test]
fn walks_segment_into_gait_cycles() {
    use pathogait::core::biomech::events::segment_cycles;
    let mut p = GaitParams::normal(1.75, 110.0);
    p.duration_s = 8.0;
    p.fps = 60.0;
    let s = generate(&p, "w", "s", 1);
    let a = analyse(&s).unwrap();
    let cycles = segment_cycles(&s, &a.events, Side::Left);
    // 8 s at 110 steps/min = 7.3 strides: at least 5 complete cycles fit.
    assert!(cycles.len() >= 5, "{}", cycles.len());
    let stride_frames = f64::from(p.stride_time_s()) * 60.0;
    for c in &cycles {
        assert!(
            (c.frames() as f64 - 1.0 - stride_frames).abs() <= 2.0,
            "{} frames",
            c.frames()
        );
        assert!(c.id.starts_with("w#L"));
    }
}

#[test]
fn prior_adherence_puts_unseen_real_walks_in_their_own_class() {
    use pathogait::core::model::metrics::prior_adherence;
    let make = |seed, subjects| {
        demo_dataset(
            &DemoConfig {
                subjects,
                trials: 1,
                seed,
                ..DemoConfig::default()
            },
            &NoProgress,
            &CancelToken::new(),
        )
        .unwrap()
    };
    let priors = compute_priors(&make(7, 4), None, None, &NoProgress, &CancelToken::new()).unwrap();
    // Other people (another seed): the nearest-class rule must recognise every pathology, lurch
    // and Trendelenburg included, which differ from normal gait only in trunk and pelvis.
    let unseen = make(99, 3);
    for class in [
        "antalgic",
        "lurch",
        "normal",
        "steppage",
        "stiff_legged",
        "trendelenburg",
    ] {
        let walks: Vec<_> = unseen
            .sequences
            .iter()
            .filter(|s| s.label.as_deref() == Some(class))
            .cloned()
            .collect();
        let a = prior_adherence(&walks, class, &priors.classes);
        assert_eq!(a.analysed, walks.len(), "{class}");
        assert!(a.hit_rate >= 2.0 / 3.0, "{class}: {:?}", a.nearest);
    }
}
