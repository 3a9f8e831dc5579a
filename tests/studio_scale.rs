//! The studio at dataset scale: with 20,000 walks a user clicks a row, filters by class and
//! switches every tab, and the studio's own work per frame must not grow faster than the
//! walks do. Measured at two sizes in the same run and compared as a ratio, so the check does
//! not depend on the machine's speed: per-frame work bounded by what is visible stays flat,
//! a path linear in the walks grows 4x, a quadratic one 16x.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod studio_common;

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pathogait::app::Studio;
use pathogait::app::bench::generated_walks;
use pathogait::app::panels::Tab;
use pathogait::core::biomech::priors::{PriorSet, compute_priors};
use pathogait::core::data::{Dataset, GaitSequence};
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::project::Project;
use studio_common::wait;

/// Frames measured per tab.
const FRAMES: usize = 12;

/// The base walks (the demo's six classes) and their priors, computed once.
fn base() -> (Dataset, PriorSet) {
    let cfg = DemoConfig {
        subjects: 6,
        trials: 2,
        duration_s: 2.0,
        ..DemoConfig::default()
    };
    let ds = demo_dataset(&cfg, &NoProgress, &CancelToken::new()).unwrap();
    let p = compute_priors(&ds, Some("normal"), None, &NoProgress, &CancelToken::new()).unwrap();
    (ds, p)
}

/// A studio holding `n` walks: half recorded (copies of the base walks under new ids, with
/// their priors), half generated.
fn studio(n: usize, base: &(Dataset, PriorSet)) -> Harness<'static, Studio> {
    let (ds, priors) = base;
    let recorded: Vec<GaitSequence> = (0..n / 2)
        .map(|i| {
            let mut w = ds.sequences[i % ds.sequences.len()].clone();
            w.id = format!("r{i}_{}", w.id);
            w.subject = format!("human{}", i % 10 + 1);
            w
        })
        .collect();
    let mut p = priors.clone();
    p.sequences = recorded
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut f = priors.sequences[i % priors.sequences.len()].clone();
            f.id.clone_from(&w.id);
            f.subject.clone_from(&w.subject);
            f
        })
        .collect();
    let generated = generated_walks(n - n / 2, 5).unwrap();
    let project = Project {
        name: format!("scale {n}"),
        normal_class: Some("normal".into()),
        ..Project::default()
    };
    let mut s = Studio::with_project(project, "test: no renderer".into());
    s.panels.hide_frame_time = true;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 860.0))
        .build_ui_state(|ui, s: &mut Studio| s.frame(ui), s);
    wait(&mut h, Duration::from_mins(1), "the empty project", |s| {
        s.ws.loaded && s.jobs.is_empty()
    });
    let ids: Vec<String> = generated.iter().map(|w| w.id.clone()).collect();
    let st = h.state_mut();
    st.ws.set_data(recorded, Vec::new(), generated, Vec::new());
    st.ws.set_priors(Arc::new(p));
    st.panels.generation.show_gallery(ids);
    h.run_steps(2);
    h
}

/// Median of the studio's own frame times over the last `n` frames, ms.
fn median_frame(h: &Harness<'_, Studio>, n: usize) -> f64 {
    let mut v: Vec<f64> = h
        .state()
        .frame_ms
        .iter()
        .rev()
        .take(n)
        .map(|t| f64::from(*t))
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Clicks a row, filters by a class, then switches to every tab; returns the median frame
/// time on each tab.
fn use_it(h: &mut Harness<'_, Studio>) -> Vec<(Tab, f64)> {
    let row = h.state().ws.catalog().rows[3].id.clone();
    h.get_by_label(&format!("{row} •")).click();
    h.run_steps(2);
    assert_eq!(h.state().ws.selection, [row], "the clicked row is selected");
    let class = h.state().ws.catalog().classes[1].clone();
    h.state_mut().panels.dataset.filter.class.clone_from(&class);
    h.run_steps(2);
    let listed = h.state().panels.dataset.rows().len();
    let expected = h
        .state()
        .ws
        .catalog()
        .rows
        .iter()
        .filter(|r| r.class == class)
        .count();
    assert_eq!(
        listed, expected,
        "the class filter lists that class's walks"
    );
    let mut out = Vec::new();
    for tab in Tab::ALL {
        h.get_by_label(tab.title()).click();
        h.run_steps(3);
        assert_eq!(h.state().tab, tab);
        h.run_steps(FRAMES);
        out.push((tab, median_frame(h, FRAMES)));
    }
    out
}

#[test]
fn frame_work_stays_flat_from_5000_to_20000_walks() {
    let base = base();
    let mut small = studio(5_000, &base);
    let a = use_it(&mut small);
    drop(small);
    let mut large = studio(20_000, &base);
    assert_eq!(large.state().ws.catalog().rows.len(), 20_000);
    let b = use_it(&mut large);
    let (sa, sb): (f64, f64) = (a.iter().map(|x| x.1).sum(), b.iter().map(|x| x.1).sum());
    for ((tab, x), (_, y)) in a.iter().zip(&b) {
        println!(
            "{:<20} 5,000 walks {x:7.2} ms   20,000 walks {y:7.2} ms",
            tab.title()
        );
    }
    let ratio = sb / sa.max(1e-3);
    println!("all tabs: {sa:.1} ms -> {sb:.1} ms, ratio {ratio:.2} for 4x the walks");
    assert!(
        ratio < 4.0,
        "the studio's frame work grew {ratio:.2}x for 4x the walks (linear is 4x): {a:?} -> {b:?}"
    );
}
