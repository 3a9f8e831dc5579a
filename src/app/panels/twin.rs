//! Normative twin & clinical report: train the masked autoencoder on the normal class, run it
//! on the current walk (per-joint inconsistency scores, flagged joints, angle deviation before
//! and after the twin), and make the gait report of the selection (Markdown, HTML or PDF; a
//! comparison of two walks; the twin's flags) with a preview of its printed pages.

use std::path::PathBuf;

use egui::{Color32, RichText};

use super::PanelCtx;
use crate::app::commands::{Command, PageImage, ReportSpec};
use crate::core::report::ReportFormat;
use crate::core::report::pages::Paper;
use crate::core::twin::{TwinConfig, angle_deviation};

/// Twin panel state.
#[derive(Debug)]
pub struct TwinState {
    /// Training settings.
    pub config: TwinConfig,
    /// Report folder.
    pub report_dir: String,
    /// Report file format.
    pub format: ReportFormat,
    /// Paper.
    pub paper: Paper,
    /// Compare the two selected walks.
    pub compare: bool,
    /// Include the trained twin.
    pub with_twin: bool,
    /// The last report's pages: title, images, and their textures once uploaded.
    preview: Option<Preview>,
}

/// A report's page images and their textures (uploaded on the first frame that shows them).
struct Preview {
    title: String,
    images: Vec<PageImage>,
    textures: Vec<egui::TextureHandle>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preview({}, {} pages)", self.title, self.images.len())
    }
}

impl TwinState {
    /// Shows a report's pages in the preview.
    pub fn set_preview(&mut self, title: String, images: Vec<PageImage>) {
        self.preview = Some(Preview {
            title,
            images,
            textures: Vec::new(),
        });
    }

    /// Pages in the preview (0 without one).
    #[must_use]
    pub fn preview_pages(&self) -> usize {
        self.preview.as_ref().map_or(0, |p| p.images.len())
    }
}

impl Default for TwinState {
    fn default() -> Self {
        Self {
            config: TwinConfig {
                steps: 300,
                ..TwinConfig::default()
            },
            report_dir: "report".into(),
            format: ReportFormat::Pdf,
            paper: Paper::A4,
            compare: false,
            with_twin: false,
            preview: None,
        }
    }
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        twin_section(st, ui);
        ui.separator();
        report_section(st, ui);
    });
}

fn twin_section(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Normative twin (masked autoencoder trained on normal gait)").strong());
    let normal = st.ws.normal_class();
    let training = st.busy("Training normative twin");
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "normal class: {}",
            normal
                .clone()
                .unwrap_or_else(|| "none — set one in Priors".into())
        ));
        ui.label("steps");
        ui.add(egui::DragValue::new(&mut st.panels.twin.config.steps).range(10..=20_000));
        if ui
            .add_enabled(
                normal.is_some() && !training && st.ws.loaded,
                egui::Button::new("Train twin"),
            )
            .clicked()
        {
            st.commands.push(Command::TrainTwin);
        }
        match &st.ws.twin {
            Some(t) => ui.label(format!(
                "trained on {} normal walks ({} held out for thresholds)",
                t.walks.0, t.walks.1
            )),
            None => ui.label(RichText::new("not trained").weak()),
        };
    });
    let Some(id) = st.ws.selection.first().cloned() else {
        ui.label("Select a walk to analyse.");
        return;
    };
    ui.horizontal(|ui| {
        let busy = st.busy("Normative twin of");
        if ui
            .add_enabled(
                st.ws.twin.is_some() && !busy,
                egui::Button::new(format!("Analyse '{id}'")),
            )
            .clicked()
        {
            st.commands.push(Command::AnalyseTwin(id.clone()));
        }
        if st.ws.twin_results.contains_key(&id) && ui.button("Show in viewport").clicked() {
            st.panels.viewport.twin = true;
            *st.tab = super::Tab::Viewport;
        }
        if st.ws.twin_results.contains_key(&id) && ui.button("Show angle curves").clicked() {
            st.panels.angles.twin = true;
            *st.tab = super::Tab::Angles;
        }
    });
    let Some(r) = st.ws.twin_results.get(&id).cloned() else {
        return;
    };
    let flagged: Vec<String> = r.flagged_names();
    ui.label(if flagged.is_empty() {
        RichText::new("No joint flagged: every joint is consistent with normal gait.")
            .color(Color32::from_rgb(90, 200, 120))
    } else {
        RichText::new(format!("Flagged: {}", flagged.join(", ")))
            .color(Color32::from_rgb(240, 120, 80))
            .strong()
    });
    egui::Grid::new("twin-scores").striped(true).show(ui, |ui| {
        for h in ["Joint", "Error hidden (mm)", "Score (1 = threshold)", ""] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for s in &r.scores {
            ui.label(format!("{:?}", s.joint));
            ui.label(format!("{:.1}", s.error_mm));
            let col = if s.flagged {
                Color32::from_rgb(240, 110, 80)
            } else {
                Color32::from_rgb(110, 170, 240)
            };
            ui.add(
                egui::ProgressBar::new((s.score / 2.0).clamp(0.0, 1.0) as f32)
                    .desired_width(160.0)
                    .fill(col)
                    .text(format!("{:.2}", s.score)),
            );
            ui.label(if s.flagged { "flagged" } else { "" });
            ui.end_row();
        }
    });
    if let Some(b) = super::angles::bands(st) {
        let dev = angle_deviation(&r, &b);
        if !dev.is_empty() {
            ui.label(
                RichText::new(format!("Angle deviation from {} (GVS, deg)", b.source)).strong(),
            );
            egui::Grid::new("twin-gvs").striped(true).show(ui, |ui| {
                for h in ["Variable", "Side", "Walk", "Twin"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (v, side, before, after) in dev {
                    ui.label(v.label());
                    ui.label(side.letter());
                    ui.label(format!("{before:.1}"));
                    ui.label(format!("{after:.1}"));
                    ui.end_row();
                }
            });
        }
    }
}

fn report_section(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Gait report of the selected walks").strong());
    ui.label(RichText::new("Findings citing their numbers, each side's angle curves against the normative band, the spatio-temporal table, the Gait Profile Score and Movement Analysis Profile; the reference is the normal class of the other recorded walks.").weak());
    let n = st.ws.selection.len();
    let has_twin = st.ws.twin.is_some();
    let busy = st.busy("Writing gait report") || st.busy("Previewing gait report");
    let ts = &mut st.panels.twin;
    ui.horizontal(|ui| {
        ui.label("Format");
        for (f, name) in [
            (ReportFormat::Pdf, "PDF"),
            (ReportFormat::Html, "HTML"),
            (ReportFormat::Markdown, "Markdown"),
        ] {
            ui.radio_value(&mut ts.format, f, name);
        }
        ui.separator();
        ui.label("Paper");
        ui.radio_value(&mut ts.paper, Paper::A4, "A4");
        ui.radio_value(&mut ts.paper, Paper::Letter, "Letter");
    });
    ui.horizontal(|ui| {
        ui.add_enabled(
            n == 2,
            egui::Checkbox::new(
                &mut ts.compare,
                "Compare the two selected walks (A first, B second)",
            ),
        );
        ui.add_enabled(
            has_twin,
            egui::Checkbox::new(&mut ts.with_twin, "Include the normative twin"),
        );
    });
    let spec = |dir: Option<PathBuf>, ts: &TwinState| ReportSpec {
        dir,
        format: ts.format,
        paper: ts.paper,
        compare: ts.compare && n == 2,
        twin: ts.with_twin && has_twin,
    };
    let mut send = None;
    ui.horizontal(|ui| {
        ui.label("Folder");
        ui.text_edit_singleline(&mut ts.report_dir);
        let file = format!("report.{}", ts.format.extension());
        if ui
            .add_enabled(
                n > 0 && !busy,
                egui::Button::new(format!("Write {file} ({n} walks)")),
            )
            .clicked()
        {
            send = Some(spec(Some(PathBuf::from(ts.report_dir.trim())), ts));
        }
        if ui
            .add_enabled(n > 0 && !busy, egui::Button::new("Preview"))
            .clicked()
        {
            send = Some(spec(None, ts));
        }
    });
    if let Some(s) = send {
        st.commands.push(Command::Report(s));
    }
    preview(ui, &mut st.panels.twin);
}

/// The report's pages, scaled to the panel's width.
fn preview(ui: &mut egui::Ui, ts: &mut TwinState) {
    let Some(p) = ts.preview.as_mut() else {
        return;
    };
    if p.textures.is_empty() {
        p.textures = p
            .images
            .iter()
            .enumerate()
            .map(|(i, (w, h, rgba))| {
                let img =
                    egui::ColorImage::from_rgba_unmultiplied([*w as usize, *h as usize], rgba);
                ui.ctx().load_texture(
                    format!("report-page-{i}"),
                    img,
                    egui::TextureOptions::LINEAR,
                )
            })
            .collect();
    }
    ui.label(RichText::new(format!("{} · {} pages", p.title, p.textures.len())).strong());
    let width = ui.available_width().min(640.0);
    for t in &p.textures {
        let [w, h] = t.size();
        let scale = width / w as f32;
        ui.add(egui::Image::new(t).fit_to_exact_size(egui::vec2(width, h as f32 * scale)));
        ui.add_space(6.0);
    }
}
