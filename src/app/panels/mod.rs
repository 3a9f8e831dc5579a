//! The studio's panels. Each reads the workspace and pushes [`Command`]s; `draw` lays out the
//! frame: menu bar, jobs/status bar, dataset browser on the left, tabbed panels in the centre,
//! toasts on top.

pub mod angles;
pub mod curation;
pub mod dataset;
pub mod demo_settings;
pub mod eval_tables;
pub mod evaluation;
pub mod generation;
pub mod priors;
pub mod prompt;
pub mod twin;
pub mod viewport;

use std::collections::VecDeque;
use std::path::PathBuf;

use egui::{Color32, RichText};

use super::actions::StudioJob;
use super::commands::{Command, CommandQueue};
use super::notify::{Level, Notifications};
use super::recent::Recent;
use super::state::Workspace;

/// Central panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// 3D viewport.
    Viewport,
    /// Joint angles vs normative bands.
    Angles,
    /// Priors inspector.
    Priors,
    /// Prompt composer.
    Prompt,
    /// Models, training, generation, gallery.
    Generation,
    /// Curation and export.
    Curation,
    /// Normative twin and clinical report.
    Twin,
    /// Evaluation runs: accuracy tables, scarcity curve, distances, confusion.
    Evaluation,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Self; 8] = [
        Self::Viewport,
        Self::Angles,
        Self::Priors,
        Self::Prompt,
        Self::Generation,
        Self::Curation,
        Self::Twin,
        Self::Evaluation,
    ];

    /// Tab title.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Viewport => "Viewport",
            Self::Angles => "Joint angles",
            Self::Priors => "Priors",
            Self::Prompt => "Prompt composer",
            Self::Generation => "Generation",
            Self::Curation => "Curation & export",
            Self::Twin => "Twin & report",
            Self::Evaluation => "Evaluation",
        }
    }
}

/// What a path prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPurpose {
    /// Open a project.
    Open,
    /// Save the project under a name.
    SaveAs,
    /// Import files or a folder.
    Import,
}

/// A small window asking for a path: the fallback where no file dialog is available (no
/// desktop portal), and the quick way for people who paste paths.
#[derive(Debug, Clone)]
pub struct PathAsk {
    /// Purpose.
    pub purpose: PathPurpose,
    /// Text typed so far.
    pub text: String,
}

impl PathAsk {
    /// Asks where to save the project.
    #[must_use]
    pub fn save_as() -> Self {
        Self {
            purpose: PathPurpose::SaveAs,
            text: "projects/my-project.ron".into(),
        }
    }
}

/// Per-panel UI state.
#[derive(Default)]
pub struct PanelStates {
    /// Dataset browser.
    pub dataset: dataset::BrowserState,
    /// The demo data settings being edited.
    pub demo: demo_settings::DemoDraft,
    /// Viewport.
    pub viewport: viewport::ViewportState,
    /// Joint angles.
    pub angles: angles::AnglesState,
    /// Priors inspector.
    pub priors: priors::PriorsState,
    /// Prompt composer.
    pub prompt: prompt::PromptState,
    /// Generation.
    pub generation: generation::GenerationState,
    /// Curation & export.
    pub curation: curation::CurationState,
    /// Twin & report.
    pub twin: twin::TwinState,
    /// Evaluation.
    pub evaluation: evaluation::EvaluationState,
    /// Path prompt window, when open.
    pub ask_path: Option<PathAsk>,
    /// Notification log window open.
    pub show_log: bool,
    /// Hide the frame-time readout (snapshot tests need identical frames).
    pub hide_frame_time: bool,
}

/// What the panels read and change during a frame: the workspace, their own state, the tab,
/// the notifications, and a command sender for everything else. The studio lends its fields
/// for the frame (`Studio::view`), so panels never depend on the studio itself.
pub struct PanelCtx<'a> {
    /// Open project and data.
    pub ws: &'a mut Workspace,
    /// Per-panel UI state.
    pub panels: &'a mut PanelStates,
    /// Panel shown in the central area.
    pub tab: &'a mut Tab,
    /// Commands for the studio to apply after the frame.
    pub commands: &'a mut CommandQueue,
    /// Notifications (toasts and log).
    pub notes: &'a mut Notifications,
    /// Running jobs (progress bars; cancel goes through a command).
    pub jobs: &'a [StudioJob],
    /// Recent projects (the menu).
    pub recent: &'a Recent,
    /// Frame times of the last frames, ms.
    pub frame_ms: &'a VecDeque<f32>,
    /// Renderer note for the status bar.
    pub renderer_note: &'a str,
    /// True when the wgpu skeleton renderer is live.
    pub wgpu: bool,
}

impl PanelCtx<'_> {
    /// True while a job whose title starts with `title_prefix` runs.
    #[must_use]
    pub fn busy(&self, title_prefix: &str) -> bool {
        self.jobs.iter().any(|j| j.title.starts_with(title_prefix))
    }
}

/// An x axis of categories at 0, 1, 2, ...: each whole number is labelled with its name, the
/// rest of the axis is left blank.
pub fn category_axis(
    names: Vec<String>,
) -> impl Fn(egui_plot::GridMark, &std::ops::RangeInclusive<f64>) -> String {
    move |m, _| {
        let i = m.value.round();
        if (m.value - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// Lays out one frame.
pub fn draw(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    dropped_files(st, ui);
    egui::Panel::top("menu").show(ui, |ui| menu_bar(st, ui));
    egui::Panel::bottom("status").show(ui, |ui| status_bar(st, ui));
    egui::Panel::left("browser")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| dataset::show(st, ui));
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            for t in Tab::ALL {
                if ui.selectable_label(*st.tab == t, t.title()).clicked() {
                    *st.tab = t;
                }
            }
        });
        ui.separator();
        match *st.tab {
            Tab::Viewport => viewport::show(st, ui),
            Tab::Angles => angles::show(st, ui),
            Tab::Priors => priors::show(st, ui),
            Tab::Prompt => prompt::show(st, ui),
            Tab::Generation => generation::show(st, ui),
            Tab::Curation => curation::show(st, ui),
            Tab::Twin => twin::show(st, ui),
            Tab::Evaluation => evaluation::show(st, ui),
        }
    });
    path_window(st, ui.ctx());
    toasts(st, ui.ctx());
    log_window(st, ui.ctx());
}

fn dropped_files(st: &mut PanelCtx<'_>, ui: &egui::Ui) {
    let dropped: Vec<PathBuf> = ui.ctx().input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    });
    for p in dropped {
        let is_project = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ron"));
        st.commands.push(if is_project {
            Command::OpenProject(p)
        } else {
            Command::Import(p)
        });
    }
}

/// The command a path prompt's purpose stands for.
fn command_for(purpose: PathPurpose, p: PathBuf) -> Command {
    match purpose {
        PathPurpose::Open => Command::OpenProject(p),
        PathPurpose::SaveAs => Command::SaveProjectAs(p),
        PathPurpose::Import => Command::Import(p),
    }
}

/// Acts on the system dialog's choice, or, where it gave none (no desktop portal, or
/// dismissed), opens the path window for the same purpose.
fn picked_or_ask(st: &mut PanelCtx<'_>, picked: Option<PathBuf>, ask: PathAsk) {
    match picked {
        Some(p) => st.commands.push(command_for(ask.purpose, p)),
        None => st.panels.ask_path = Some(ask),
    }
}

/// Asks for a folder to import: the system dialog, else the path window.
pub fn ask_import(st: &mut PanelCtx<'_>) {
    let picked = rfd::FileDialog::new().pick_folder();
    picked_or_ask(
        st,
        picked,
        PathAsk {
            purpose: PathPurpose::Import,
            text: String::new(),
        },
    );
}

fn menu_bar(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("Project", |ui| {
            demo_settings::new_project_menu(st, ui);
            if ui.button("Open…").clicked() {
                let picked = rfd::FileDialog::new()
                    .add_filter("PathoGait project", &["ron"])
                    .pick_file();
                let ask = PathAsk {
                    purpose: PathPurpose::Open,
                    text: "projects/demo.ron".into(),
                };
                picked_or_ask(st, picked, ask);
            }
            if ui.button("Save").clicked() {
                st.commands.push(Command::SaveProject);
            }
            if ui.button("Save as…").clicked() {
                let picked = rfd::FileDialog::new()
                    .add_filter("PathoGait project", &["ron"])
                    .save_file();
                picked_or_ask(st, picked, PathAsk::save_as());
            }
            ui.menu_button("Recent", |ui| {
                if st.recent.paths.is_empty() {
                    ui.label("(none)");
                }
                for p in st.recent.paths.clone() {
                    if ui.button(p.display().to_string()).clicked() {
                        st.commands.push(Command::OpenProject(p));
                    }
                }
            });
            ui.separator();
            if ui.button("Import files or folder…").clicked() {
                ask_import(st);
            }
            if ui.button("Type a path…").clicked() {
                st.panels.ask_path = Some(PathAsk {
                    purpose: PathPurpose::Open,
                    text: String::new(),
                });
            }
        });
        ui.menu_button("View", |ui| {
            for t in Tab::ALL {
                if ui.button(t.title()).clicked() {
                    *st.tab = t;
                }
            }
            if ui.button("Notification log").clicked() {
                st.panels.show_log = true;
            }
        });
        ui.separator();
        let name = &st.ws.project.name;
        // The file name only (the full path on hover): long temp paths would crowd the bar.
        let (file, full) = st.ws.path.as_ref().map_or_else(
            || ("unsaved".to_string(), "not saved yet".to_string()),
            |p| {
                let short = p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                (short, p.display().to_string())
            },
        );
        ui.label(
            RichText::new(format!(
                "{name}{}",
                if st.ws.dirty { " (modified)" } else { "" }
            ))
            .strong(),
        );
        ui.label(RichText::new(file).weak()).on_hover_text(full);
    });
}

fn status_bar(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    for j in st.jobs {
        ui.horizontal(|ui| {
            // Cancel comes first so it stays put while the stage and item texts change width.
            let label = if j.is_cancelling() {
                "Cancelling"
            } else {
                "Cancel"
            };
            if ui
                .add_enabled(!j.is_cancelling(), egui::Button::new(label))
                .clicked()
            {
                st.commands.push(Command::Cancel(j.id));
            }
            ui.label(RichText::new(&j.title).strong());
            let eta = j
                .eta()
                .map_or_else(String::new, |d| format!(" · ETA {:.0} s", d.as_secs_f32()));
            ui.add(
                egui::ProgressBar::new(j.fraction())
                    .desired_width(220.0)
                    .text(format!("{}/{}{eta}", j.done, j.total)),
            );
            ui.label(&j.stage);
            ui.label(RichText::new(&j.item).weak());
        });
    }
    ui.horizontal(|ui| {
        if st.ws.synthetic_recorded() {
            ui.label(
                RichText::new("SYNTHETIC demo data — not real patients")
                    .color(Color32::from_rgb(230, 170, 60)),
            );
            ui.separator();
        }
        ui.label(format!(
            "{} recorded · {} generated · {} selected",
            st.ws.recorded.len(),
            st.ws.generated.len(),
            st.ws.selection.len()
        ));
        ui.separator();
        ui.label(st.renderer_note);
        if !st.panels.hide_frame_time {
            let max = st.frame_ms.iter().copied().fold(0.0_f32, f32::max);
            let last = st.frame_ms.back().copied().unwrap_or(0.0);
            ui.label(
                RichText::new(format!("UI frame {last:.1} ms (max {max:.1} ms over 120)")).weak(),
            );
        }
        let errors = st.notes.errors().len();
        if errors > 0 && ui.link(format!("{errors} errors")).clicked() {
            st.panels.show_log = true;
        }
    });
}

fn path_window(st: &mut PanelCtx<'_>, ctx: &egui::Context) {
    let Some(ask) = st.panels.ask_path.as_mut() else {
        return;
    };
    let title = match ask.purpose {
        PathPurpose::Open => "Open project",
        PathPurpose::SaveAs => "Save project as",
        PathPurpose::Import => "Import files or folder",
    };
    let mut close = false;
    let mut go = false;
    egui::Window::new(title).collapsible(false).show(ctx, |ui| {
        ui.label("Path (no file dialog is available on this desktop, or type one):");
        let r = ui.text_edit_singleline(&mut ask.text);
        if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            go = true;
        }
        ui.horizontal(|ui| {
            go |= ui.button("OK").clicked();
            close |= ui.button("Cancel").clicked();
        });
    });
    if go && !ask.text.trim().is_empty() {
        let p = PathBuf::from(ask.text.trim());
        st.commands.push(command_for(ask.purpose, p));
        close = true;
    }
    if close {
        st.panels.ask_path = None;
    }
}

fn level_color(l: Level) -> Color32 {
    match l {
        Level::Info => Color32::from_rgb(120, 180, 255),
        Level::Warning => Color32::from_rgb(240, 180, 60),
        Level::Error => Color32::from_rgb(240, 90, 80),
    }
}

fn toasts(st: &mut PanelCtx<'_>, ctx: &egui::Context) {
    let active = st.notes.active();
    if active.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::unique("pathogait-toasts"))
        .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -60.0))
        .show(ctx, |ui| {
            for i in active {
                let n = &mut st.notes.log[i];
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(420.0);
                    ui.horizontal(|ui| {
                        ui.colored_label(level_color(n.level), format!("{:?}", n.level));
                        ui.label(&n.text);
                        if ui.small_button("×").clicked() {
                            n.dismissed = true;
                        }
                    });
                });
            }
        });
}

fn log_window(st: &mut PanelCtx<'_>, ctx: &egui::Context) {
    let mut open = st.panels.show_log;
    egui::Window::new("Notifications")
        .open(&mut open)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .max_height(400.0)
                .show(ui, |ui| {
                    for n in st.notes.log.iter().rev() {
                        ui.horizontal_wrapped(|ui| {
                            ui.colored_label(level_color(n.level), format!("{:?}", n.level));
                            ui.label(&n.text);
                        });
                    }
                });
        });
    st.panels.show_log = open;
}

/// Colour of the i-th overlaid walk (distinct, colour-blind friendly order).
#[must_use]
pub fn walk_color(i: usize) -> [f32; 4] {
    const C: [[f32; 4]; 6] = [
        [0.90, 0.90, 0.92, 1.0],
        [0.95, 0.55, 0.20, 1.0],
        [0.35, 0.70, 0.95, 1.0],
        [0.55, 0.85, 0.45, 1.0],
        [0.85, 0.45, 0.80, 1.0],
        [0.95, 0.85, 0.35, 1.0],
    ];
    C[i % C.len()]
}

/// `walk_color` as an egui colour.
#[must_use]
pub fn walk_color32(i: usize) -> Color32 {
    let c = walk_color(i);
    Color32::from_rgb(
        (c[0] * 255.0) as u8,
        (c[1] * 255.0) as u8,
        (c[2] * 255.0) as u8,
    )
}
