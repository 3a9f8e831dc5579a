//! Scripted starts of the studio (`pathogait studio --select ... --tab ... --play
//! --screenshot F.png`): select walks and a panel once the data loaded, then optionally save a
//! screenshot of the window and close it (how the README image is made under Xvfb).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::commands::{Command, ReportSpec};
use super::panels::{PanelCtx, Tab};
use crate::core::report::ReportFormat;

/// A scripted start: walks to select, a tab, and a screenshot to take once the data loaded
/// (`pathogait studio --screenshot`, used for the README image under Xvfb).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Walk ids to select once loaded (empty: keep the default selection).
    pub select: Vec<String>,
    /// Tab to show.
    pub tab: Option<Tab>,
    /// Start playback.
    pub play: bool,
    /// Show the selected walks side by side in the viewport (else overlaid).
    pub side_by_side: bool,
    /// Preview the gait report of the selection (two selected walks are compared).
    pub preview_report: bool,
    /// Save a screenshot here after `delay_s` seconds, then close the window.
    pub screenshot: Option<PathBuf>,
    /// Seconds to wait after loading before the screenshot.
    pub delay_s: f32,
}

/// A pending screenshot: where, after how long, and the result egui's callback hands back.
pub(super) struct ScreenshotRun {
    pub(super) path: PathBuf,
    pub(super) delay: Duration,
    pub(super) ready_at: Option<Instant>,
    pub(super) requested: bool,
    pub(super) result: std::sync::Arc<std::sync::Mutex<Option<Result<(), String>>>>,
}

impl ScreenshotRun {
    /// The screenshot a scripted start asks for, if any.
    pub(super) fn of(launch: &Launch) -> Option<Self> {
        launch.screenshot.as_ref().map(|p| Self {
            path: p.clone(),
            delay: Duration::from_secs_f32(launch.delay_s.max(0.0)),
            ready_at: None,
            requested: false,
            result: std::sync::Arc::default(),
        })
    }
}

/// Runs a scripted start once the data and priors are loaded and no job runs: applies the
/// selection, tab and playback (taking `launch`), then takes the screenshot and closes the
/// window (clearing `shot`).
pub(super) fn step(
    launch: &mut Option<Launch>,
    shot_run: &mut Option<ScreenshotRun>,
    v: &mut PanelCtx<'_>,
    ctx: &egui::Context,
) {
    let ready = v.ws.loaded && v.ws.priors.is_some() && v.jobs.is_empty();
    if !ready {
        return;
    }
    if let Some(l) = launch.take() {
        apply(&l, v);
    }
    let Some(shot) = shot_run.as_mut() else {
        return;
    };
    let at = *shot.ready_at.get_or_insert_with(Instant::now);
    if !shot.requested && at.elapsed() >= shot.delay {
        shot.requested = true;
        let (path, result) = (shot.path.clone(), shot.result.clone());
        ctx.request_screenshot(move |img| {
            let bytes: Vec<u8> = img
                .pixels
                .iter()
                .flat_map(egui::Color32::to_array)
                .collect();
            let r = image::RgbaImage::from_raw(img.size[0] as u32, img.size[1] as u32, bytes)
                .ok_or_else(|| "screenshot size mismatch".to_string())
                .and_then(|i| {
                    super::render::capture::save_png(&i, &path).map_err(|e| e.to_string())
                });
            if let Ok(mut g) = result.lock() {
                *g = Some(r);
            }
        });
    }
    ctx.request_repaint_after(Duration::from_millis(50));
    // A poisoned lock means the capture thread panicked: no result, and the wait times out
    // with its own message.
    let done = shot.result.lock().ok().and_then(|mut g| g.take());
    if let Some(r) = done {
        match r {
            Ok(()) => println!("Saved screenshot {}", shot.path.display()),
            Err(e) => eprintln!("error: screenshot {}: {e}", shot.path.display()),
        }
        *shot_run = None;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

/// Applies a scripted start's selection, tab and playback.
fn apply(l: &Launch, v: &mut PanelCtx<'_>) {
    let ids: Vec<String> = l
        .select
        .iter()
        .filter(|id| v.ws.walk(id).is_some())
        .cloned()
        .collect();
    if ids.len() < l.select.len() {
        v.notes.warn(format!(
            "--select: {} of the walks are not in the project",
            l.select.len() - ids.len()
        ));
    }
    if !ids.is_empty() {
        v.ws.select(ids);
    }
    if let Some(t) = l.tab {
        *v.tab = t;
    }
    v.panels.viewport.playing = l.play;
    if l.side_by_side {
        v.panels.viewport.arrangement = super::panels::viewport::Arrangement::SideBySide;
    }
    if l.preview_report {
        v.panels.twin.compare = v.ws.selection.len() == 2;
        v.commands.push(Command::Report(ReportSpec {
            dir: None,
            format: ReportFormat::Pdf,
            paper: v.panels.twin.paper,
            compare: v.panels.twin.compare,
            twin: false,
        }));
    }
}
