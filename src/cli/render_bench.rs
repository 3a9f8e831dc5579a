//! `pathogait bench --viewport N`: how fast the viewport's renderer draws N skeletons (demo
//! walks side by side, with grid and foot contacts), offscreen at 1280x720, on the adapter
//! wgpu picks (a real GPU where there is one, Mesa lavapipe otherwise).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
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
