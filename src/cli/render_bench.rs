//! `pathogait bench --viewport N`: how fast the viewport's renderer draws N skeletons (demo
//! walks side by side, with grid and foot contacts), offscreen at 1280x720, on the adapter
//! wgpu picks (a real GPU where there is one, Mesa lavapipe otherwise). `bench --ui N`: the
//! studio's frames with N walks (see `pathogait::app::bench`).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use pathogait::app::bench::{FRAME_BUDGET_MS, UiBenchRun, ui_bench};
use pathogait::app::render::scene::{Layer, OrbitCamera, build_scene, contact_flags};
use pathogait::app::render::{SkeletonRenderer, headless_device};
use pathogait::core::data::preprocess::normalize_frame;
use pathogait::core::demo::{DemoConfig, demo_dataset};
use pathogait::core::jobs::{CancelToken, NoProgress};

/// Frames timed after warm-up.
const FRAMES: usize = 60;

pub fn viewport_bench(skeletons: usize) -> Result<ExitCode> {
    let (device, queue, adapter) =
        headless_device().context("wgpu device for the viewport benchmark")?;
    println!("Adapter: {adapter}");
    let ds = demo_dataset(&DemoConfig::default(), &NoProgress, &CancelToken::new())?;
    let walks: Vec<_> = ds
        .sequences
        .iter()
        .map(|s| {
            let mut s = s.clone();
            normalize_frame(&mut s);
            let c = contact_flags(&s);
            (s, c)
        })
        .collect();
    let n = skeletons.max(1);
    let side = (n as f32).sqrt().ceil() as usize;
    let layers: Vec<Layer<'_>> = (0..n)
        .map(|i| {
            let (s, c) = &walks[i % walks.len()];
            Layer {
                seq: s,
                color: [0.9, 0.9, 0.92, 1.0],
                offset: [0.0, -(((i % side) as f32) * 0.8), 0.0],
                joint_values: None,
                contacts: Some(c.clone()),
            }
        })
        .collect();
    let camera = OrbitCamera {
        distance: 6.0 + side as f32,
        ..OrbitCamera::default()
    };
    let mut r = SkeletonRenderer::new(&device, None);
    // Warm-up: pipeline creation and the first shader compile are not per-frame costs.
    let first = build_scene(&layers, 0.0, true);
    r.render_image(&device, &queue, &first, &camera, [1280, 720])?;
    let mut build_s = 0.0;
    let t0 = Instant::now();
    for f in 0..FRAMES {
        let tb = Instant::now();
        let scene = build_scene(&layers, f as f32 / 30.0, true);
        build_s += tb.elapsed().as_secs_f64();
        // Reading the image back forces the GPU to finish, so the time is the real frame time.
        r.render_image(&device, &queue, &scene, &camera, [1280, 720])?;
    }
    let total = t0.elapsed().as_secs_f64();
    println!(
        "Viewport: {n} skeletons, {} capsule instances per frame, 1280x720, 4x MSAA",
        first.instances.len()
    );
    println!(
        "  {:.2} ms per frame ({:.0} frames/s) including readback; scene building on the CPU {:.2} ms of it",
        1000.0 * total / FRAMES as f64,
        FRAMES as f64 / total,
        1000.0 * build_s / FRAMES as f64
    );
    Ok(ExitCode::SUCCESS)
}

/// Frames drawn while a project loads, per tab, and for one sort, for each N in `ns`.
pub fn ui_bench_cmd(ns: &[usize], frames: usize, json: bool) -> Result<ExitCode> {
    let bars = super::progress::Bars::default();
    let mut runs: Vec<UiBenchRun> = Vec::new();
    for &n in ns {
        let progress: &dyn pathogait::core::jobs::Progress = if json {
            &pathogait::core::jobs::NoProgress
        } else {
            &bars
        };
        let r = ui_bench(n.max(2), frames.max(2), progress)?;
        if !json {
            print_ui_run(&r);
        }
        runs.push(r);
    }
    if json {
        let v = serde_json::json!({
            "frame_budget_ms": FRAME_BUDGET_MS,
            "runs": runs,
            "peak_rss_mib": pathogait::core::bench::peak_rss_mib(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if let Some(m) = pathogait::core::bench::peak_rss_mib() {
        println!("Peak memory of the run (VmHWM): {m:.0} MiB");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_ui_run(r: &UiBenchRun) {
    use super::table::{Table, num};
    let pct = |ms: f64| num(100.0 * ms / FRAME_BUDGET_MS, 0);
    println!(
        "\n{} walks ({} recorded and analysed, {} generated); frame budget {FRAME_BUDGET_MS:.1} ms (60 Hz)",
        r.walks, r.recorded, r.generated
    );
    println!(
        "Load and priors: {:.1} s in the background; {} frames meanwhile, mean {:.1} ms, max {:.1} ms, {} over 50 ms",
        r.load_seconds,
        r.load_frames.frames,
        r.load_frames.mean_ms,
        r.load_frames.max_ms,
        r.load_frames.over_50ms
    );
    println!(
        "Generated walks taken in: {:.1} ms; whole table sorted by walk id: {:.1} ms",
        r.add_generated_ms, r.sort_by_id_ms
    );
    let mut t = Table::new(&[
        "tab",
        "first frame",
        "mean",
        "p95",
        "max",
        "mean % of budget",
        "max % of budget",
    ]);
    for f in &r.tabs {
        t.row(vec![
            f.tab.clone(),
            format!("{:.1} ms", f.first_ms),
            format!("{:.2} ms", f.frames.mean_ms),
            format!("{:.2} ms", f.frames.p95_ms),
            format!("{:.2} ms", f.frames.max_ms),
            pct(f.frames.mean_ms),
            pct(f.frames.max_ms),
        ]);
    }
    print!("{}", t.render());
    if let Some(m) = r.rss_mib {
        println!("Resident memory with the project open: {m:.0} MiB");
    }
}
