//! Normative twin on demo data, where the answer is known: a stiff-legged walk flags the
//! affected side's knee or ankle and never the healthy side's; a normal walk flags neither;
//! the twin changes only flagged joints and brings the affected side's knee and ankle angle
//! curves closer to normal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

use burn::tensor::Device;
use pathogait::core::biomech::{AngleVar, NormativeBands, analyse};
use pathogait::core::data::{CommonJoint, Side};
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::twin::{TwinConfig, TwinResult, angle_deviation, train_twin};

fn flagged(r: &TwinResult) -> Vec<CommonJoint> {
    r.scores
        .iter()
        .filter(|s| s.flagged)
        .map(|s| s.joint)
        .collect()
}

fn knee_ankle(side: Side) -> [CommonJoint; 2] {
    match side {
        Side::Left => [CommonJoint::KneeL, CommonJoint::AnkleL],
        Side::Right => [CommonJoint::KneeR, CommonJoint::AnkleR],
    }
}

#[test]
fn stiff_leg_is_flagged_on_its_side_and_the_twin_moves_toward_normal() {
    let ds = demo_dataset(&DemoConfig::default(), &NoProgress, &CancelToken::new()).unwrap();
    let cfg = TwinConfig {
        steps: 1500,
        ..TwinConfig::default()
    };
    let model = train_twin(
        &ds,
        "normal",
        &cfg,
        &Device::flex(),
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(
        model.walks.1 > 0,
        "thresholds come from held-out normal subjects"
    );
    let normal_curves: Vec<_> = ds
        .sequences
        .iter()
        .filter(|s| s.label.as_deref() == Some("normal"))
        .map(|s| analyse(s).unwrap().curves)
        .collect();
    let refs: Vec<&[_]> = normal_curves.iter().map(Vec::as_slice).collect();
    let bands = NormativeBands::from_curves("demo normal class", &refs);
    for id in ["human2_stiff_legged1", "human3_stiff_legged1"] {
        let seq = ds.sequences.iter().find(|s| s.id == id).unwrap();
        let side = seq.side.unwrap();
        let r = model.analyse_walk(seq).unwrap();
        let flagged = flagged(&r);
        assert!(
            knee_ankle(side).iter().any(|j| flagged.contains(j)),
            "{id}: {flagged:?}"
        );
        assert!(
            !knee_ankle(side.other()).iter().any(|j| flagged.contains(j)),
            "{id}: {flagged:?}"
        );
        // Only flagged joints change (relative to the pelvis).
        for (k, j) in CommonJoint::ALL.iter().enumerate().skip(1) {
            let moved = (0..r.twin.frames()).any(|f| {
                let (a, b) = (r.twin.pos(f, k), r.original.pos(f, k));
                let (pa, pb) = (r.twin.pos(f, 0), r.original.pos(f, 0));
                (0..3).any(|c| ((a[c] - pa[c]) - (b[c] - pb[c])).abs() > 1e-3)
            });
            assert_eq!(moved, flagged.contains(j), "{id}: {j:?}");
        }
        let dev = angle_deviation(&r, &bands);
        let gvs = |before: bool| -> f64 {
            dev.iter()
                .filter(|(v, s, _, _)| {
                    *s == side && matches!(v, AngleVar::KneeFlexion | AngleVar::AnkleDorsiflexion)
                })
                .map(|(_, _, b, a)| if before { *b } else { *a })
                .sum()
        };
        assert!(
            gvs(false) < gvs(true),
            "{id}: knee+ankle GVS {} -> {}",
            gvs(true),
            gvs(false)
        );
    }
    let normal = ds
        .sequences
        .iter()
        .find(|s| s.id == "human2_normal1")
        .unwrap();
    let r = model.analyse_walk(normal).unwrap();
    let flagged = flagged(&r);
    for side in Side::BOTH {
        assert!(
            !knee_ankle(side).iter().any(|j| flagged.contains(j)),
            "normal walk: {flagged:?}"
        );
    }
}
