//! Normative twin & clinical report: train the masked autoencoder on the normal class, run it
//! on the current walk (per-joint inconsistency scores, flagged joints, angle deviation before
//! and after the twin), and write an evidence-cited clinical report of the selection.

use std::path::PathBuf;

use egui::{Color32, RichText};

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::twin::{TwinConfig, angle_deviation};

/// Twin panel state.
#[derive(Debug)]
pub struct TwinState {
    /// Training settings.
    pub config: TwinConfig,
    /// Report folder.
    pub report_dir: String,
    /// The last report read for the preview: file, its modification time, text (re-read only
    /// when the file changes, not every frame).
    preview: Option<(PathBuf, std::time::SystemTime, String)>,
}

impl Default for TwinState {
    fn default() -> Self {
        Self {
            config: TwinConfig {
                steps: 300,
                ..TwinConfig::default()
            },
            report_dir: "report".into(),
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
    ui.label(RichText::new("Clinical report of the selected walks").strong());
    ui.label(RichText::new("Cites cadence, step time and asymmetry, stance and double support, ROM per joint against the normal class, GPS; Markdown and HTML.").weak());
    let n = st.ws.selection.len();
    ui.horizontal(|ui| {
        ui.label("Folder");
        ui.text_edit_singleline(&mut st.panels.twin.report_dir);
        if ui
            .add_enabled(
                n > 0 && !st.busy("Writing clinical report"),
                egui::Button::new(format!("Write report ({n} walks)")),
            )
            .clicked()
        {
            st.commands.push(Command::Report(PathBuf::from(
                st.panels.twin.report_dir.trim(),
            )));
        }
    });
    let md = PathBuf::from(st.panels.twin.report_dir.trim()).join("report.md");
    // No report yet (or no time stamp) just means the preview is (re)built.
    let modified = std::fs::metadata(&md).and_then(|m| m.modified()).ok();
    let stale = match (&st.panels.twin.preview, modified) {
        (Some((p, t, _)), Some(m)) => *p != md || *t != m,
        (None, Some(_)) => true,
        (_, None) => false,
    };
    if stale && let (Some(m), Ok(text)) = (modified, std::fs::read_to_string(&md)) {
        st.panels.twin.preview = Some((md.clone(), m, text));
    }
    if modified.is_none() {
        st.panels.twin.preview = None;
    }
    if let Some((_, _, text)) = st.panels.twin.preview.clone() {
        egui::CollapsingHeader::new(format!("Last report ({})", md.display()))
            .id_salt("report-preview")
            .show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
            });
    }
}
