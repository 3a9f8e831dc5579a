//! Priors inspector: per-class box plots (5-25-50-75-95 %) of a chosen prior (ROM, stance,
//! cadence, stride, asymmetry, severity, ...) with every walk as a point; click a point to
//! select that walk; a class comparison table; the normal reference class.

use egui::RichText;
use egui_plot::{BoxElem, BoxPlot, BoxSpread, Legend, Plot, Points};

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::biomech::priors::{FEATURES, PriorSet, Stat};

/// Key of the severity pseudo-feature (distance from the normal class).
pub const SEVERITY: &str = "severity";

/// Priors panel state.
#[derive(Debug)]
pub struct PriorsState {
    /// Feature shown in the plot.
    pub feature: String,
    /// Last walk picked by clicking a point.
    pub picked: Option<String>,
}

impl Default for PriorsState {
    fn default() -> Self {
        Self {
            feature: "knee_rom_deg".into(),
            picked: None,
        }
    }
}

fn describe(key: &str) -> &str {
    if key == SEVERITY {
        return "severity (RMS z-distance from the normal class)";
    }
    FEATURES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, d)| d)
}

/// Value of `key` for each analysed walk: `(walk id, class index, value)`.
#[must_use]
pub fn points(p: &PriorSet, key: &str) -> Vec<(String, usize, f64)> {
    p.sequences
        .iter()
        .filter_map(|s| {
            let label = s.label.clone().unwrap_or_else(|| "(unlabelled)".into());
            let ci = p.classes.iter().position(|c| c.name == label)?;
            let v = if key == SEVERITY {
                s.severity
            } else {
                s.features.get(key).copied().unwrap_or(f64::NAN)
            };
            v.is_finite().then(|| (s.id.clone(), ci, v))
        })
        .collect()
}

/// Small deterministic horizontal jitter so points of one class do not hide each other.
fn jitter(id: &str) -> f64 {
    let h = id.bytes().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    (f64::from(h % 1000) / 1000.0 - 0.5) * 0.5
}

fn stat_of<'a>(p: &'a PriorSet, class: usize, key: &str) -> Option<&'a Stat> {
    let c = p.classes.get(class)?;
    if key == SEVERITY {
        Some(&c.severity)
    } else {
        c.features.get(key)
    }
}

/// The normal reference class (auto or chosen) and how many walks the priors cover.
fn normal_class_bar(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, p: &PriorSet) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Normal reference class:");
        let current = st.ws.project.normal_class.clone();
        egui::ComboBox::from_id_salt("normal-class")
            .selected_text(current.clone().unwrap_or_else(|| {
                format!(
                    "auto ({})",
                    p.normal_class.clone().unwrap_or_else(|| "none".into())
                )
            }))
            .show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "auto").clicked() {
                    st.commands.push(Command::SetNormalClass(None));
                }
                for c in &p.classes {
                    if ui
                        .selectable_label(current.as_deref() == Some(&c.name), &c.name)
                        .clicked()
                    {
                        st.commands
                            .push(Command::SetNormalClass(Some(c.name.clone())));
                    }
                }
            });
        ui.label(
            RichText::new(format!(
                "{} walks analysed, {} failed",
                p.sequences.len(),
                p.failed.len()
            ))
            .weak(),
        );
    });
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    // A shared handle: the panel needs the priors while it pushes commands.
    let Some(p) = st.ws.priors.clone() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Priors are computed after the data loads…");
            if st.ws.loaded && !st.busy("Computing priors") && ui.button("Compute now").clicked() {
                st.commands.push(Command::ComputePriors);
            }
        });
        return;
    };
    normal_class_bar(st, ui, &p);
    let s = &mut st.panels.priors;
    ui.horizontal(|ui| {
        ui.label("Prior");
        egui::ComboBox::from_id_salt("prior-feature")
            .width(360.0)
            .selected_text(describe(&s.feature))
            .show_ui(ui, |ui| {
                for (k, d) in FEATURES
                    .iter()
                    .map(|(k, d)| (*k, *d))
                    .chain([(SEVERITY, describe(SEVERITY))])
                {
                    ui.selectable_value(&mut s.feature, k.to_string(), d);
                }
            });
        if let Some(id) = &s.picked {
            ui.label(format!("selected {id} (click a point to pick another)"));
        }
    });
    let key = s.feature.clone();
    let pts = points(&p, &key);
    let boxes: Vec<BoxElem> = (0..p.classes.len())
        .filter_map(|ci| {
            let st = stat_of(&p, ci, &key)?;
            (st.n > 0 && st.q50.is_finite()).then(|| {
                BoxElem::new(
                    ci as f64,
                    BoxSpread::new(st.q05, st.q25, st.q50, st.q75, st.q95),
                )
                .name(&p.classes[ci].name)
                .box_width(0.6)
            })
        })
        .collect();
    let names: Vec<String> = p.classes.iter().map(|c| c.name.clone()).collect();
    let xy: Vec<[f64; 2]> = pts
        .iter()
        .map(|(id, ci, v)| [*ci as f64 + jitter(id), *v])
        .collect();
    let resp = Plot::new("priors-plot")
        .height((ui.available_height() * 0.6).max(220.0))
        .legend(Legend::default())
        .y_axis_label(describe(&key).to_string())
        .x_axis_formatter(move |m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |pu| {
            pu.add(
                BoxPlot::new("class 5-25-50-75-95 %", boxes)
                    .color(egui::Color32::from_rgb(110, 170, 240)),
            );
            pu.add(
                Points::new("walks", xy.clone())
                    .radius(3.0)
                    .color(egui::Color32::from_rgb(240, 160, 70)),
            );
            pu.response()
                .clicked()
                .then(|| pu.pointer_coordinate())
                .flatten()
                .map(|c| {
                    // Nearest point in screen space, so the scales of the axes do not matter.
                    let click = pu.screen_from_plot(c);
                    xy.iter()
                        .enumerate()
                        .map(|(i, q)| {
                            (
                                i,
                                pu.screen_from_plot(egui_plot::PlotPoint::new(q[0], q[1]))
                                    .distance(click),
                            )
                        })
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .filter(|(_, d)| *d < 12.0)
                        .map(|(i, _)| i)
                })
        });
    if let Some(Some(i)) = resp.inner {
        let id = pts[i].0.clone();
        st.panels.priors.picked = Some(id.clone());
        st.commands.push(Command::Select(vec![id]));
    }
    class_table(ui, &p);
}

fn class_table(ui: &mut egui::Ui, p: &PriorSet) {
    ui.label(RichText::new("Class comparison: median [25-75 %]").strong());
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("prior-table").striped(true).show(ui, |ui| {
            ui.label(RichText::new("prior").strong());
            for c in &p.classes {
                ui.label(RichText::new(format!("{} (n={})", c.name, c.sequences)).strong());
            }
            ui.end_row();
            for (k, d) in FEATURES
                .iter()
                .map(|(k, d)| (*k, *d))
                .chain([(SEVERITY, describe(SEVERITY))])
            {
                ui.label(d);
                for ci in 0..p.classes.len() {
                    ui.label(stat_of(p, ci, k).filter(|s| s.q50.is_finite()).map_or_else(
                        || "–".into(),
                        |s| {
                            let f = super::angles::fmt;
                            format!("{} [{}–{}]", f(s.q50), f(s.q25), f(s.q75))
                        },
                    ));
                }
                ui.end_row();
            }
        });
    });
}
