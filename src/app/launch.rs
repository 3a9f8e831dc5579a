//! Scripted starts of the studio (`pathogait studio --select ... --tab ... --play
//! --screenshot F.png`): select walks and a panel once the data loaded, then optionally save a
//! screenshot of the window and close it (how the README image is made under Xvfb).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::panels::Tab;
use super::studio::Studio;

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

impl Studio {
    /// Applies a scripted start (see [`Launch`]).
    pub fn set_launch(&mut self, launch: Launch) {
        if let Some(p) = &launch.screenshot {
            self.shot = Some(ScreenshotRun {
                path: p.clone(),
                delay: Duration::from_secs_f32(launch.delay_s.max(0.0)),
                ready_at: None,
                requested: false,
                result: std::sync::Arc::default(),
            });
        }
        self.launch = Some(launch);
    }

    pub(super) fn run_launch(&mut self, ctx: &egui::Context) {
        let ready = self.ws.loaded && self.ws.priors.is_some() && self.jobs.is_empty();
        if !ready {
            return;
        }
        if let Some(l) = self.launch.take() {
            let ids: Vec<String> = l
                .select
                .iter()
                .filter(|id| self.ws.walk(id).is_some())
                .cloned()
                .collect();
            if ids.len() < l.select.len() {
                self.notes.warn(format!(
                    "--select: {} of the walks are not in the project",
                    l.select.len() - ids.len()
                ));
            }
            if !ids.is_empty() {
                self.ws.selection = ids;
            }
            if let Some(t) = l.tab {
                self.tab = t;
            }
            self.panels.viewport.playing = l.play;
        }
        let Some(shot) = self.shot.as_mut() else {
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
            self.shot = None;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}
