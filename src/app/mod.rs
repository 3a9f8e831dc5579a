//! The studio: an eframe/egui desktop app, a thin layer over [`crate::core`]. Panels read the
//! workspace and send commands; long work runs in named background threads (see [`jobs`]);
//! the 3D viewport draws with wgpu through an egui-wgpu paint callback (WGSL in `shaders/`).

pub mod actions;
pub mod bench;
pub mod catalog;
pub mod commands;
pub mod jobs;
pub mod launch;
pub mod notify;
pub mod panels;
pub mod persist;
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

/// Opens the studio window on `project` (else the last project, else the demo data). Uses the
/// wgpu renderer when a wgpu adapter exists (a GPU, or Mesa lavapipe), else glow (OpenGL), with
/// a note: the choice is made before the window opens because winit cannot start a second
/// event loop in one process. `PATHOGAIT_RENDERER=glow` forces glow (broken GPU drivers).
///
/// # Errors
/// The window could not open (no display, no GL or Vulkan driver).
pub fn run(project: Option<PathBuf>, launch: Launch) -> Result<(), String> {
    let forced_glow =
        std::env::var("PATHOGAIT_RENDERER").is_ok_and(|r| r.eq_ignore_ascii_case("glow"));
    let renderer = if forced_glow {
        eprintln!(
            "Renderer: glow (PATHOGAIT_RENDERER=glow); the 3D viewport draws with the painter fallback"
        );
        eframe::Renderer::Glow
    } else if let Some(a) = render::gpu::adapter_available() {
        eprintln!("Renderer: wgpu on {a}");
        eframe::Renderer::Wgpu
    } else {
        eprintln!(
            "note: no wgpu adapter found; using the glow (OpenGL) renderer, and the 3D viewport draws with the painter fallback"
        );
        eframe::Renderer::Glow
    };
    eframe::run_native(
        TITLE,
        options(renderer),
        Box::new(move |cc| {
            let mut s = Studio::new(cc, project);
            s.set_launch(launch);
            Ok(Box::new(s))
        }),
    )
    .map_err(|e| format!("cannot open the studio window: {e}"))
}
