//! The studio: an eframe/egui desktop app, a thin layer over [`crate::core`]. Panels read the
//! workspace and send commands; long work runs in named background threads (see [`jobs`]);
//! the 3D viewport draws with wgpu through an egui-wgpu paint callback (WGSL in `shaders/`).

pub mod actions;
pub mod commands;
pub mod jobs;
pub mod launch;
pub mod notify;
pub mod panels;
pub mod recent;
pub mod render;
pub mod state;
pub mod studio;

use std::path::PathBuf;

pub use launch::Launch;
pub use studio::Studio;

/// Window title.
pub const TITLE: &str = "PathoGait Studio";

fn options(renderer: eframe::Renderer) -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(TITLE)
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        renderer,
        ..Default::default()
    }
}

/// Opens the studio window on `project` (else the last project, else the demo data). Tries
/// the wgpu renderer first and falls back to glow, with a note, where wgpu cannot start.
///
/// # Errors
/// Neither renderer could open a window (no display, no GL or Vulkan driver).
pub fn run(project: Option<PathBuf>, launch: Launch) -> Result<(), String> {
    let (p, l) = (project.clone(), launch.clone());
    let wgpu = eframe::run_native(
        TITLE,
        options(eframe::Renderer::Wgpu),
        Box::new(move |cc| {
            let mut s = Studio::new(cc, p);
            s.set_launch(l);
            Ok(Box::new(s))
        }),
    );
    let Err(e) = wgpu else { return Ok(()) };
    eprintln!("note: the wgpu renderer could not start ({e}); falling back to glow (OpenGL)");
    eframe::run_native(
        TITLE,
        options(eframe::Renderer::Glow),
        Box::new(move |cc| {
            let mut s = Studio::new(cc, project);
            s.set_launch(launch);
            Ok(Box::new(s))
        }),
    )
    .map_err(|e2| format!("cannot open the studio window: wgpu: {e}; glow: {e2}"))
}
