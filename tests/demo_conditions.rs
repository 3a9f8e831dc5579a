//! The extended demo set: ages from 6 to 85, four more conditions and arm swing, each checked
//! by analysing generated walks where the true values are known.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use pathogait::core::biomech::priors::{compute_priors, features};
use pathogait::core::biomech::{AngleVar, GaitAnalysis, analyse};
use pathogait::core::data::Side;
use pathogait::core::demo::age::norms;
use pathogait::core::demo::body::Body;
use pathogait::core::demo::{
    ClassSet, DemoConfig, GaitParams, Pathology, demo_dataset, demo_params, generate,
};
use pathogait::core::jobs::{CancelToken, NoProgress};

fn walk(p: &GaitParams) -> GaitAnalysis {
    let mut p = p.clone();
    p.duration_s = 10.0;
    p.fps = 60.0;
    analyse(&generate(&p, "t", "s", 3)).expect("demo walk analyses")
}

fn mean_over(a: &GaitAnalysis, var: AngleVar, side: Side, from: usize, to: usize) -> f64 {
    let c = a.curve(var, side).expect("curve");
    c.mean[from..to].iter().sum::<f64>() / (to - from) as f64
}

fn adult() -> GaitParams {
    GaitParams::normal(1.72, 110.0)
}

#[test]
fn age_norms_are_recovered_from_6_to_85() {
    for age in [6.0f32, 10.0, 30.0, 70.0, 85.0] {
        let n = norms(age);
        let mut p = GaitParams::normal(n.height_m, n.cadence_steps_min);
        p.stride_length_m = n.stride_length_m();
        p.stance_pct = [n.stance_pct; 2];
        p.leg_scale = n.leg_scale();
        p.age_years = Some(age);
        let s = generate(
            &GaitParams {
                duration_s: 10.0,
                fps: 60.0,
                ..p.clone()
            },
            "a",
            "s",
            1,
        );
        let a = analyse(&s).unwrap();
        let st = &a.spatiotemporal;
        let rel = |x: f64, y: f32| (x - f64::from(y)).abs() / f64::from(y);
        assert!(
            rel(st.cadence_steps_min, n.cadence_steps_min) < 0.03,
            "{age} y cadence {} vs {}",
            st.cadence_steps_min,
            n.cadence_steps_min
        );
        assert!(
            rel(st.speed_m_s, n.speed_m_s) < 0.05,
            "{age} y speed {} vs {}",
            st.speed_m_s,
            n.speed_m_s
        );
        assert!(
            rel(st.both(|s| s.stride_length_m), n.stride_length_m()) < 0.05,
            "{age} y stride {}",
            st.both(|s| s.stride_length_m)
        );
        let stance = st.both(|s| s.stance_pct);
        assert!(
            (stance - f64::from(n.stance_pct)).abs() < 2.5,
            "{age} y stance {stance} vs {}",
            n.stance_pct
        );
        // Body size: leg length (hip to knee to ankle) as built for that age and height.
        let b = Body::for_legs(n.height_m, n.leg_scale());
        let j = |k: usize| s.positions[k];
        let d = |a: [f32; 3], b: [f32; 3]| {
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
        };
        let leg = d(j(12), j(13)) + d(j(13), j(14));
        assert!(
            (leg - (b.thigh_m + b.shank_m)).abs() < 0.02 * leg,
            "{age} y leg {leg}"
        );
    }
    // Children's legs are shorter for their height than adults'.
    let child = Body::for_legs(1.2, norms(6.0).leg_scale());
    let grown = Body::for_legs(1.2, norms(30.0).leg_scale());
    assert!(child.thigh_m + child.shank_m < 0.95 * (grown.thigh_m + grown.shank_m));
}

#[test]
fn parkinsonian_signature_shows_on_the_affected_side() {
    let normal = walk(&adult());
    for side in Side::BOTH {
        let pd = walk(
            &adult()
                .clone()
                .with_pathology(Pathology::Parkinsonian, 0.9, side),
        );
        let st = &pd.spatiotemporal;
        let stride = st.both(|s| s.stride_length_m);
        let normal_stride = normal.spatiotemporal.both(|s| s.stride_length_m);
        assert!(stride < 0.75 * normal_stride, "shuffling: {stride}");
        let trunk = mean_over(&pd, AngleVar::TrunkLeanForward, side, 0, 100);
        let trunk_n = mean_over(&normal, AngleVar::TrunkLeanForward, side, 0, 100);
        assert!(trunk > trunk_n + 10.0, "flexed trunk {trunk} vs {trunk_n}");
        let knee_swing = |a: &GaitAnalysis, s| {
            a.curve(AngleVar::KneeFlexion, s).unwrap().mean[60..90]
                .iter()
                .copied()
                .fold(f64::MIN, f64::max)
        };
        assert!(
            knee_swing(&pd, side) < knee_swing(&normal, side) - 12.0,
            "foot clearance: swing knee {}",
            knee_swing(&pd, side)
        );
        let arm = |a: &GaitAnalysis, s| a.rom_deg(AngleVar::ShoulderFlexion, s);
        assert!(
            arm(&pd, side.other()) < 0.75 * arm(&normal, side.other()),
            "reduced arm swing"
        );
        assert!(
            arm(&pd, side) < 0.5 * arm(&pd, side.other()),
            "{side:?}: affected arm {} vs other {}",
            arm(&pd, side),
            arm(&pd, side.other())
        );
        let f = features(&pd);
        assert!(f["si_arm_swing_pct"] > 40.0, "{}", f["si_arm_swing_pct"]);
    }
}

#[test]
fn festination_quickens_and_shortens_steps() {
    let p = GaitParams {
        festination: 0.3,
        ..adult().with_pathology(Pathology::Parkinsonian, 0.9, Side::Left)
    };
    let a = walk(&p);
    let d: Vec<usize> = a.cycles[0].iter().map(|c| c.end - c.start).collect();
    assert!(d.len() >= 4, "{d:?}");
    let (first, last) = (d[0] as f64, d[d.len() - 1] as f64);
    assert!(last < 0.88 * first, "stride frames {d:?}");
}

#[test]
fn crouch_keeps_knees_and_hips_flexed_through_stance() {
    let normal = walk(&adult());
    let equinus = walk(&adult().with_pathology(Pathology::Crouch, 0.9, Side::Left));
    let calcaneus = walk(
        &GaitParams {
            calcaneus: true,
            ..adult()
        }
        .with_pathology(Pathology::Crouch, 0.9, Side::Left),
    );
    for side in Side::BOTH {
        let knee_min = equinus.curve(AngleVar::KneeFlexion, side).unwrap().mean[5..55]
            .iter()
            .copied()
            .fold(f64::MAX, f64::min);
        assert!(knee_min > 20.0, "{side:?} stance knee {knee_min}");
        let hip = |a: &GaitAnalysis| mean_over(a, AngleVar::HipFlexion, side, 0, 60);
        assert!(hip(&equinus) > hip(&normal) + 8.0);
        // Equinus: plantarflexed at contact; calcaneus: excess dorsiflexion late in stance.
        let contact = |a: &GaitAnalysis| mean_over(a, AngleVar::AnkleDorsiflexion, side, 0, 6);
        assert!(
            contact(&equinus) < contact(&normal) - 6.0,
            "{side:?} equinus {} vs {}",
            contact(&equinus),
            contact(&normal)
        );
        let late = |a: &GaitAnalysis| {
            a.curve(AngleVar::AnkleDorsiflexion, side).unwrap().mean[35..62]
                .iter()
                .copied()
                .fold(f64::MIN, f64::max)
        };
        assert!(
            late(&calcaneus) > late(&normal) + 6.0,
            "{side:?} calcaneus {} vs {}",
            late(&calcaneus),
            late(&normal)
        );
    }
    let s = generate(
        &adult().with_pathology(Pathology::Crouch, 0.9, Side::Left),
        "c",
        "s",
        1,
    );
    assert_eq!(s.side, None, "crouch is bilateral");
}

#[test]
fn hemiplegic_signature_shows_on_the_affected_side() {
    for side in Side::BOTH {
        let o = side.other();
        let h = walk(&adult().with_pathology(Pathology::Hemiplegic, 0.9, side));
        let knee = |s| h.rom_deg(AngleVar::KneeFlexion, s);
        assert!(knee(side) + 20.0 < knee(o), "stiff knee in swing {side:?}");
        let abd = |s| {
            h.curve(AngleVar::HipAdduction, s).unwrap().mean[65..95]
                .iter()
                .copied()
                .fold(f64::MAX, f64::min)
        };
        assert!(
            abd(side) < abd(o) - 5.0,
            "circumduction {side:?}: {} vs {}",
            abd(side),
            abd(o)
        );
        let arm = |s| h.rom_deg(AngleVar::ShoulderFlexion, s);
        assert!(arm(side) < 0.4 * arm(o), "arm {side:?}");
        let elbow = |s| mean_over(&h, AngleVar::ElbowFlexion, s, 0, 100);
        assert!(elbow(side) > elbow(o) + 25.0, "flexed elbow {side:?}");
        let st = &h.spatiotemporal;
        assert!(st.side(side).stance_pct + 5.0 < st.side(o).stance_pct);
    }
}

#[test]
fn slow_variable_gait_is_slow_wide_and_variable() {
    let normal = walk(&adult());
    let v = walk(&adult().with_pathology(Pathology::SlowVariable, 0.9, Side::Left));
    let (fv, fnorm) = (features(&v), features(&normal));
    assert!(
        fv["stride_time_cv_pct"] > fnorm["stride_time_cv_pct"] + 3.0,
        "CV {} vs {}",
        fv["stride_time_cv_pct"],
        fnorm["stride_time_cv_pct"]
    );
    assert!(
        fv["step_width_m"] > fnorm["step_width_m"] + 0.05,
        "width {} vs {}",
        fv["step_width_m"],
        fnorm["step_width_m"]
    );
    assert!(fv["speed_m_s"] < 0.75 * fnorm["speed_m_s"]);
    assert!(fv["double_support_pct"] > fnorm["double_support_pct"] + 4.0);
}

#[test]
fn arm_swing_is_phase_locked_to_the_opposite_leg() {
    let a = walk(&adult());
    for side in Side::BOTH {
        let rom = a.rom_deg(AngleVar::ShoulderFlexion, side);
        assert!((24.0..40.0).contains(&rom), "{side:?} arm swing ROM {rom}");
        // Over this side's cycle, the arm is back at its own heel strike (opposite leg
        // mid-cycle) and forward at the opposite heel strike (~50 %).
        let c = &a.curve(AngleVar::ShoulderFlexion, side).unwrap().mean;
        assert!(c[50] > c[0] + 20.0, "{side:?}: {} vs {}", c[50], c[0]);
    }
}

#[test]
fn extended_demo_set_has_ten_classes_with_ages_and_priors() {
    let cfg = DemoConfig {
        subjects: 3,
        trials: 1,
        classes: ClassSet::Extended,
        ages: Some([6.0, 85.0]),
        festination: true,
        ..DemoConfig::default()
    };
    let ds = demo_dataset(&cfg, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(ds.sequences.len(), 30);
    assert_eq!(ds.labels().len(), 10);
    for s in &ds.sequences {
        let p = Pathology::parse(s.label.as_deref().unwrap()).unwrap();
        assert_eq!(s.side.is_some(), p.has_side(), "{}", s.id);
        assert_eq!(s.skeleton.joint_count(), 25);
        assert!(s.skeleton.has_arms());
    }
    let (young, _) = demo_params(&cfg, 0, Pathology::Normal, 0);
    let (old, _) = demo_params(&cfg, 2, Pathology::Normal, 0);
    assert!(young.age_years.unwrap() < 25.0 && old.age_years.unwrap() > 65.0);
    let children = DemoConfig {
        ages: Some([6.0, 8.0]),
        ..cfg.clone()
    };
    for subject in 0..3 {
        let (child, _) = demo_params(&children, subject, Pathology::Normal, 0);
        assert!(
            child.height_m < 1.45 && child.leg_scale < 0.97,
            "{}",
            child.summary()
        );
        assert!(child.cadence_steps_min > old.cadence_steps_min + 15.0);
    }
    for subject in 0..3 {
        let (pd, _) = demo_params(&cfg, subject, Pathology::Parkinsonian, 0);
        assert_eq!(pd.festination > 0.0, pd.severity >= 0.7, "{}", pd.summary());
    }
    let set = compute_priors(&ds, None, None, &NoProgress, &CancelToken::new()).unwrap();
    assert!(set.failed.is_empty(), "{:?}", set.failed);
    let f = |c: &str, k: &str| set.class(c).unwrap().features[k].mean;
    assert!(f("parkinsonian", "arm_swing_rom_deg") < f("normal", "arm_swing_rom_deg"));
    assert!(f("slow_variable", "stride_time_cv_pct") > f("normal", "stride_time_cv_pct"));
    // The reference six are unchanged by the extended set's options.
    let six = demo_dataset(
        &DemoConfig {
            subjects: 3,
            trials: 1,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(six.labels().len(), 6);
}
