//! `pathogait bench --ui N`: the studio's own work per frame with N walks, measured headless.
//!
//! The studio opens a demo project of N/2 recorded walks (imported and analysed by the same
//! background jobs as always, while frames keep being drawn: the load figures), then N/2
//! generated walks join, the gallery lists them all, and every tab is drawn for a number of
//! frames while the browser scrolls, a row is selected and a class filter is set and cleared.
//! A frame's time is egui's whole pass (the panels, layout and tessellation into triangles);
//! only the GPU's drawing of those triangles is left out, so the figures are the same on any
//! renderer. The limit they are read against is the display's frame budget (16.7 ms at 60 Hz).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Studio;
use super::catalog::SortKey;
use super::commands::Command;
use super::panels::Tab;
use crate::core::data::{GaitSequence, Provenance};
use crate::core::demo::{DemoConfig, demo_dataset};
use crate::core::jobs::{CancelToken, NoProgress, Progress};
use crate::core::project::{DataSource, Project};

/// Frame budget at 60 Hz, ms: the limit every frame figure is read against.
pub const FRAME_BUDGET_MS: f64 = 1000.0 / 60.0;

/// Window size the frames are laid out for.
const SCREEN: [f32; 2] = [1600.0, 900.0];

/// Frame time statistics, ms.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrameStats {
    /// Frames measured.
    pub frames: usize,
    /// Mean.
    pub mean_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// Longest.
    pub max_ms: f64,
    /// Frames longer than 50 ms (a visible stall).
    pub over_50ms: usize,
}

impl FrameStats {
    /// Statistics of `ms`.
    #[must_use]
    pub fn of(ms: &[f64]) -> Self {
        let mut v = ms.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Self {
            frames: n,
            mean_ms: if n == 0 {
                0.0
            } else {
                v.iter().sum::<f64>() / n as f64
            },
            p95_ms: v
                .get(((n as f64 - 1.0) * 0.95).round().max(0.0) as usize)
                .copied()
                .unwrap_or(0.0),
            max_ms: v.last().copied().unwrap_or(0.0),
            over_50ms: v.iter().filter(|t| **t > 50.0).count(),
        }
    }
}

/// One tab's figures.
#[derive(Debug, Clone, Serialize)]
pub struct TabFigures {
    /// Tab title.
    pub tab: String,
    /// The first frame on the tab (it builds the tab's caches).
    pub first_ms: f64,
    /// The frames after it.
    pub frames: FrameStats,
}

/// Figures for one N.
#[derive(Debug, Clone, Serialize)]
pub struct UiBenchRun {
    /// Walks in the project.
    pub walks: usize,
    /// Recorded walks (imported and analysed).
    pub recorded: usize,
    /// Generated walks.
    pub generated: usize,
    /// Seconds from opening the project to data and priors ready.
    pub load_seconds: f64,
    /// Frames drawn while the data loaded and the priors were computed (paced at 30 Hz, as
    /// the studio repaints while jobs run).
    pub load_frames: FrameStats,
    /// Frame that took in the generated walks (indices and rows rebuilt).
    pub add_generated_ms: f64,
    /// Per tab.
    pub tabs: Vec<TabFigures>,
    /// Sorting the whole table by walk id (one click on the header).
    pub sort_by_id_ms: f64,
    /// Resident memory with this project open, MiB.
    pub rss_mib: Option<f64>,
}

/// Drives a studio headless: one egui pass per call.
struct Driver {
    ctx: egui::Context,
    studio: Studio,
    t: f64,
}

impl Driver {
    /// One frame; returns its time in ms. `events` are this frame's input.
    fn frame(&mut self, events: Vec<egui::Event>) -> f64 {
        let raw = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(SCREEN[0], SCREEN[1]),
            )),
            time: Some(self.t),
            events,
            ..egui::RawInput::default()
        };
        self.t += 1.0 / 60.0;
        let t0 = Instant::now();
        let out = self.ctx.run_ui(raw, |ui| self.studio.frame(ui));
        let prims = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        t0.elapsed().as_secs_f64() * 1e3
    }

    /// Scrolls the dataset browser (the pointer over its table).
    fn scroll_browser(&mut self, down: bool) -> f64 {
        let at = egui::pos2(150.0, 600.0);
        self.frame(vec![
            egui::Event::PointerMoved(at),
            egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, if down { -3.0 } else { 3.0 }),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
                modifiers: egui::Modifiers::NONE,
            },
        ])
    }
}

/// A project of the embedded demo data with about `recorded` walks: 10 subjects, the six
/// classes, walks of 2.7 s (~80 frames at 30 Hz, the reference dataset's length).
fn demo_project(recorded: usize) -> Project {
    let subjects = 10;
    let trials = recorded.div_ceil(subjects * 6).max(1);
    Project {
        name: format!("bench {recorded} walks (synthetic)"),
        sources: vec![DataSource::Demo(DemoConfig {
            subjects,
            trials,
            duration_s: 2.7,
            ..DemoConfig::default()
        })],
        normal_class: Some("normal".into()),
        ..Project::default()
    }
}

/// `n` walks standing in for a generated set: demo walks of another seed, marked generated.
///
/// # Errors
/// Only cancellation.
pub fn generated_walks(
    n: usize,
    seed: u64,
) -> Result<Vec<GaitSequence>, crate::core::jobs::Cancelled> {
    let cfg = DemoConfig {
        subjects: 10,
        trials: n.div_ceil(60).max(1),
        duration_s: 2.7,
        seed,
        ..DemoConfig::default()
    };
    let ds = demo_dataset(&cfg, &NoProgress, &CancelToken::new())?;
    Ok(ds
        .sequences
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, mut w)| {
            w.id = format!("bench-gen-{i}");
            w.subject = "generated:bench".into();
            w.provenance = Provenance::Generated {
                model: "bench (demo walks standing in)".into(),
                prompt: String::new(),
                seed: i as u64,
                sampling: String::new(),
            };
            w
        })
        .collect())
}

/// Opens the project and draws frames at 30 Hz until its data and priors are ready.
fn load(n: usize, limit: Duration) -> anyhow::Result<(Driver, f64, FrameStats)> {
    let t0 = Instant::now();
    let studio = Studio::with_project(demo_project(n / 2), "bench: no renderer".into());
    let mut d = Driver {
        ctx: egui::Context::default(),
        studio,
        t: 0.0,
    };
    d.studio.panels.hide_frame_time = true;
    let mut times = Vec::new();
    loop {
        let ready = d.studio.ws.loaded && d.studio.ws.priors.is_some() && d.studio.jobs.is_empty();
        if ready {
            break;
        }
        anyhow::ensure!(
            t0.elapsed() < limit,
            "the bench project did not load within {limit:?}: {:?}",
            d.studio.notes.errors()
        );
        times.push(d.frame(Vec::new()));
        std::thread::sleep(Duration::from_millis(33));
    }
    Ok((d, t0.elapsed().as_secs_f64(), FrameStats::of(&times)))
}

/// Draws `frames` frames of `tab`: the browser scrolls, a walk is selected every tenth frame
/// and a class filter is set and cleared once.
fn tab_frames(d: &mut Driver, tab: Tab, frames: usize) -> TabFigures {
    d.studio.tab = tab;
    d.studio.panels.viewport.playing = tab == Tab::Viewport;
    let first_ms = d.frame(Vec::new());
    let class = d
        .studio
        .ws
        .catalog()
        .classes
        .first()
        .cloned()
        .unwrap_or_default();
    let mut times = Vec::with_capacity(frames);
    for f in 0..frames {
        if f % 10 == 5 {
            let rows = d.studio.panels.dataset.rows();
            if let Some(&i) = rows.get((f * 7) % rows.len().max(1)) {
                let id = d.studio.ws.catalog().rows[i as usize].id.clone();
                d.studio.pending.push(Command::Select(vec![id]));
            }
        }
        if f == frames / 2 {
            d.studio.panels.dataset.filter.class.clone_from(&class);
        }
        if f == frames * 3 / 4 {
            d.studio.panels.dataset.filter.class.clear();
        }
        times.push(d.scroll_browser(f % 40 < 30));
    }
    TabFigures {
        tab: tab.title().to_string(),
        first_ms,
        frames: FrameStats::of(&times),
    }
}

/// Runs the benchmark for `n` walks, `frames` frames per tab.
///
/// # Errors
/// The project did not load, or demo generation was cancelled.
pub fn ui_bench(n: usize, frames: usize, progress: &dyn Progress) -> anyhow::Result<UiBenchRun> {
    progress.start(&format!("{n} walks: loading and analysing"), 1);
    let (mut d, load_seconds, load_frames) = load(n, Duration::from_mins(30))?;
    progress.advance(1, "loaded");
    let recorded = d.studio.ws.recorded.len();
    let extra = generated_walks(n.saturating_sub(recorded), 11)?;
    let ids: Vec<String> = extra.iter().map(|w| w.id.clone()).collect();
    // Built as the generation job builds them, on its own thread.
    let built = super::catalog::GeneratedWalks::new(extra);
    let t0 = Instant::now();
    d.studio.ws.add_generated_built(built);
    d.studio.panels.generation.show_gallery(ids);
    let add_generated_ms = t0.elapsed().as_secs_f64() * 1e3 + d.frame(Vec::new());
    progress.start(
        &format!("{n} walks: drawing every tab"),
        Tab::ALL.len() as u64,
    );
    let mut tabs = Vec::new();
    for tab in Tab::ALL {
        tabs.push(tab_frames(&mut d, tab, frames));
        progress.advance(1, tab.title());
    }
    d.studio.panels.dataset.sort.key = SortKey::Walk;
    let sort_by_id_ms = d.frame(Vec::new());
    d.studio.panels.dataset.sort.key = SortKey::Loaded;
    Ok(UiBenchRun {
        walks: d.studio.ws.catalog().rows.len(),
        recorded,
        generated: d.studio.ws.generated.len(),
        load_seconds,
        load_frames,
        add_generated_ms,
        tabs,
        sort_by_id_ms,
        rss_mib: crate::core::bench::rss_mib(),
    })
}
