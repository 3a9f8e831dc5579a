//! Joint angles: pelvis/hip/knee/ankle/trunk curves over 0-100 % of the gait cycle, left vs
//! right, against normative mean ± 2 SD bands; the normative twin's curves when computed; the
//! spatio-temporal table. Exports the table and curves as CSV and the curves as SVG
//! ([`crate::core::export::angles`], the same files as `pathogait angles`).

use std::path::PathBuf;

use egui::{Color32, RichText};
use egui_plot::{FilledArea, Legend, Line, LineStyle, Plot, PlotPoints};

use super::PanelCtx;
use crate::core::biomech::normative::gait_profile;
use crate::core::biomech::{AngleVar, GaitAnalysis, NormativeBands, analyse};
use crate::core::data::{CommonJoint, Side};
pub use crate::core::export::angles::fmt;
use crate::core::export::angles::{spatiotemporal_rows, write_angle_files};

/// Joint-angle panel state.
#[derive(Debug)]
pub struct AnglesState {
    /// Prefer external (published) bands over the dataset's normal class when both exist.
    pub external: bool,
    /// Show the twin's curves.
    pub twin: bool,
    /// Export folder.
    pub export_dir: String,
    /// Last export message.
    pub last: Option<String>,
}

impl Default for AnglesState {
    fn default() -> Self {
        Self {
            external: true,
            twin: true,
            export_dir: "angles-export".into(),
            last: None,
        }
    }
}

/// Left is red and right is blue, as in clinical gait reports.
fn side_color(side: Side) -> Color32 {
    match side {
        Side::Left => Color32::from_rgb(235, 80, 70),
        Side::Right => Color32::from_rgb(80, 140, 240),
    }
}

/// The bands the panel compares against, and their source text.
#[must_use]
pub fn bands(st: &PanelCtx<'_>) -> Option<NormativeBands> {
    let ext = st.ws.external_bands.clone();
    let own = st.ws.priors.as_ref().and_then(|p| p.normal_bands.clone());
    if st.panels.angles.external {
        ext.or(own)
    } else {
        own.or(ext)
    }
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let ids: Vec<String> = st.ws.selection.iter().take(3).cloned().collect();
    if ids.is_empty() {
        ui.label("Select a walk in the dataset browser.");
        return;
    }
    let mut analysed: Vec<(String, GaitAnalysis)> = Vec::new();
    for id in &ids {
        match st.ws.analysis(id).as_deref() {
            Some(Ok(a)) => analysed.push((id.clone(), a.clone())),
            Some(Err(e)) => {
                ui.colored_label(Color32::from_rgb(240, 90, 80), format!("{id}: {e}"));
            }
            None => {}
        }
    }
    let twin: Option<(String, GaitAnalysis)> = if st.panels.angles.twin {
        ids.first()
            .and_then(|id| st.ws.twin_results.get(id))
            .and_then(|r| analyse(&r.twin).ok())
            .map(|a| ("normative twin".to_string(), a))
    } else {
        None
    };
    // Joints the twin flagged on the current walk: their curves' titles are highlighted.
    let flagged: Vec<(CommonJoint, String)> = ids
        .first()
        .and_then(|id| st.ws.twin_results.get(id))
        .map(|r| {
            r.scores
                .iter()
                .filter(|s| s.flagged)
                .map(|s| (s.joint, format!("{:?}", s.joint)))
                .collect()
        })
        .unwrap_or_default();
    let bands = bands(st);
    let a = &mut st.panels.angles;
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut a.external, "published bands first");
        ui.checkbox(&mut a.twin, "twin curves");
        ui.label(
            RichText::new(bands.as_ref().map_or_else(
                || "no normative bands (no normal class)".into(),
                |b| format!("bands: {} (mean ± 2 SD)", b.source),
            ))
            .weak(),
        );
    });
    ui.horizontal(|ui| {
        ui.label("Export to folder");
        ui.text_edit_singleline(&mut a.export_dir);
        if ui.button("CSV + SVG").clicked() {
            let dir = PathBuf::from(a.export_dir.trim());
            a.last = Some(match write_angle_files(&dir, &analysed, bands.as_ref()) {
                Ok(files) => format!("wrote {} files to {}", files.len(), dir.display()),
                Err(e) => format!("export failed: {e}"),
            });
        }
        if let Some(m) = &a.last {
            ui.label(m);
        }
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        st_table(ui, &analysed, bands.as_ref());
        ui.separator();
        let width = (ui.available_width() / 2.0 - 12.0).max(200.0);
        egui::Grid::new("angle-plots")
            .num_columns(2)
            .show(ui, |ui| {
                for (k, var) in AngleVar::ALL.iter().enumerate() {
                    ui.vertical(|ui| {
                        let hit: Vec<&String> = flagged
                            .iter()
                            .filter(|(j, _)| joints_of(*var).contains(j))
                            .map(|(_, n)| n)
                            .collect();
                        if hit.is_empty() {
                            ui.label(RichText::new(var.label()).strong());
                        } else {
                            let names: Vec<&str> = hit.iter().map(|s| s.as_str()).collect();
                            ui.label(
                                RichText::new(format!(
                                    "{}  (flagged: {})",
                                    var.label(),
                                    names.join(", ")
                                ))
                                .strong()
                                .color(Color32::from_rgb(240, 120, 80)),
                            );
                        }
                        angle_plot(ui, *var, &analysed, twin.as_ref(), bands.as_ref(), width);
                    });
                    if k % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
    });
}

/// The joints whose motion an angle variable describes (for highlighting flagged joints).
#[must_use]
pub fn joints_of(var: AngleVar) -> &'static [CommonJoint] {
    use CommonJoint as J;
    match var {
        AngleVar::PelvicTilt | AngleVar::PelvicObliquity => &[J::Pelvis, J::HipL, J::HipR],
        AngleVar::HipFlexion | AngleVar::HipAdduction => &[J::HipL, J::HipR, J::KneeL, J::KneeR],
        AngleVar::KneeFlexion => &[J::KneeL, J::KneeR, J::AnkleL, J::AnkleR],
        AngleVar::AnkleDorsiflexion => &[J::AnkleL, J::AnkleR, J::ToeL, J::ToeR],
        AngleVar::TrunkLeanForward | AngleVar::TrunkLeanLateral => &[J::SpineMid, J::Neck, J::Head],
        AngleVar::ShoulderFlexion => &[J::ShoulderL, J::ShoulderR, J::ElbowL, J::ElbowR],
        AngleVar::ElbowFlexion => &[J::ElbowL, J::ElbowR, J::WristL, J::WristR],
    }
}

fn angle_plot(
    ui: &mut egui::Ui,
    var: AngleVar,
    walks: &[(String, GaitAnalysis)],
    twin: Option<&(String, GaitAnalysis)>,
    bands: Option<&NormativeBands>,
    width: f32,
) {
    Plot::new(("angle", var.key()))
        .height(170.0)
        .width(width)
        .legend(Legend::default())
        .x_axis_label("% gait cycle")
        .y_axis_label("deg")
        .allow_scroll(false)
        .show(ui, |p| {
            if let Some(b) = bands.and_then(|b| b.band(var)) {
                let xs: Vec<f64> = (0..b.mean.len()).map(|i| i as f64).collect();
                let lo: Vec<f64> = b.mean.iter().zip(&b.sd).map(|(m, s)| m - 2.0 * s).collect();
                let hi: Vec<f64> = b.mean.iter().zip(&b.sd).map(|(m, s)| m + 2.0 * s).collect();
                p.add(
                    FilledArea::new("normative ± 2 SD", &xs, &lo, &hi)
                        .fill_color(Color32::from_gray(90).gamma_multiply(0.5)),
                );
                p.line(
                    Line::new("normative mean", PlotPoints::from_ys_f64(&b.mean))
                        .color(Color32::from_gray(160))
                        .style(LineStyle::dashed_loose()),
                );
            }
            for (i, (id, a)) in walks.iter().enumerate() {
                for side in Side::BOTH {
                    if let Some(c) = a.curve(var, side) {
                        let mut line = Line::new(
                            format!("{id} {}", side.letter()),
                            PlotPoints::from_ys_f64(&c.mean),
                        )
                        .color(side_color(side))
                        .width(2.0);
                        if i > 0 {
                            line = line
                                .style(LineStyle::dotted_dense())
                                .color(side_color(side).gamma_multiply(0.7));
                        }
                        p.line(line);
                    }
                }
            }
            if let Some((name, a)) = twin {
                for side in Side::BOTH {
                    if let Some(c) = a.curve(var, side) {
                        p.line(
                            Line::new(
                                format!("{name} {}", side.letter()),
                                PlotPoints::from_ys_f64(&c.mean),
                            )
                            .color(Color32::from_rgb(90, 200, 130))
                            .style(LineStyle::dashed_dense()),
                        );
                    }
                }
            }
        });
}

fn st_table(ui: &mut egui::Ui, walks: &[(String, GaitAnalysis)], bands: Option<&NormativeBands>) {
    // One table, two columns (left, right) per walk, so several walks compare at a glance.
    let tables: Vec<Vec<(&str, &str, f64, f64)>> = walks
        .iter()
        .map(|(_, a)| {
            let mut r = spatiotemporal_rows(a);
            if let Some(b) = bands {
                let g = gait_profile(&a.curves, b);
                r.push(("Gait Profile Score", "deg", g.gps_left, g.gps_right));
            }
            r
        })
        .collect();
    let Some(first) = tables.first() else { return };
    egui::CollapsingHeader::new("Spatio-temporal parameters")
        .id_salt("st-table")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("st").striped(true).show(ui, |ui| {
                ui.label(RichText::new("Parameter").strong());
                ui.label(RichText::new("Unit").strong());
                for (id, _) in walks {
                    ui.label(RichText::new(format!("{id} L")).strong());
                    ui.label(RichText::new(format!("{id} R")).strong());
                }
                ui.end_row();
                for (k, (n, u, _, _)) in first.iter().enumerate() {
                    ui.label(*n);
                    ui.label(*u);
                    for t in &tables {
                        let (l, r) = t.get(k).map_or((f64::NAN, f64::NAN), |x| (x.2, x.3));
                        ui.label(fmt(l));
                        ui.label(fmt(r));
                    }
                    ui.end_row();
                }
            });
        });
}
