//! Generation: the project's models, training with live loss curves (progress, ETA and cancel
//! in the jobs bar), generation from the composed prompt, and a gallery of generated walks with
//! prior-adherence badges (is the walk nearest, in its priors, to the class it was asked for?).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::export::{CurationEntry, Decision};
use crate::core::model::bundle::{Manifest, TrainPlan};
use crate::core::model::features::WindowConfig;
use crate::core::model::metrics::prior_adherence;
use crate::core::model::{calibrate, sample_check};

/// Logged metric series: `"stage / name"` -> `(step, value)` points.
pub type Series = BTreeMap<String, Vec<[f64; 2]>>;

/// Training presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// Seconds on a CPU: checks the pipeline, not a usable model.
    #[default]
    Quick,
    /// The default model (minutes on a CPU).
    Default,
}

/// Generation panel state.
#[derive(Debug)]
pub struct GenerationState {
    /// Name of the model to train.
    pub name: String,
    /// Preset.
    pub preset: Preset,
    /// Tokeniser steps.
    pub tokenizer_steps: usize,
    /// GPT steps.
    pub gpt_steps: usize,
    /// Frames per training window (a multiple of 4).
    pub window_frames: usize,
    /// Learn right-affected walks mirrored (see `TrainPlan::mirror_right`).
    pub mirror_right: bool,
    /// Fit the variance compensation to sampled walks after training (see
    /// `TrainPlan::calibrate_walks`).
    pub calibrate_variance: bool,
    /// Judge the GPT at its held-out checks by what it samples (see
    /// `TrainPlan::sample_checks`).
    pub sample_checks: bool,
    /// Walk ids shown in the gallery.
    gallery: Vec<String>,
    /// Gallery walks whose badge is known, counted from the start (badges are computed a
    /// few per frame from here on), and how many of them hit their class.
    tally: (usize, usize),
    /// Curves of the last finished job that logged metrics: (title, series).
    pub last_metrics: Option<(String, Series)>,
    /// Nearest real class per generated walk (None when it cannot be analysed).
    badges: HashMap<String, Option<String>>,
    /// Per model folder: which GPT weights and variance filters it carries (read once from
    /// its manifest), or why the manifest could not be read.
    traits: HashMap<PathBuf, Result<[String; 2], String>>,
}

impl GenerationState {
    /// Shows `ids` in the gallery.
    pub fn show_gallery(&mut self, ids: Vec<String>) {
        self.gallery = ids;
        self.tally = (0, 0);
    }

    /// Walk ids shown in the gallery.
    #[must_use]
    pub fn gallery(&self) -> &[String] {
        &self.gallery
    }
}

impl Default for GenerationState {
    fn default() -> Self {
        let t = TrainPlan::tiny();
        Self {
            name: "model-1".into(),
            preset: Preset::Quick,
            tokenizer_steps: t.tokenizer_stage.steps,
            gpt_steps: t.gpt_stage.steps,
            window_frames: t.window.frames,
            mirror_right: t.mirror_right,
            calibrate_variance: false,
            sample_checks: false,
            gallery: Vec::new(),
            tally: (0, 0),
            last_metrics: None,
            badges: HashMap::new(),
            traits: HashMap::new(),
        }
    }
}

impl GenerationState {
    /// The plan the form describes.
    #[must_use]
    pub fn plan(&self, normal: Option<String>) -> TrainPlan {
        let mut p = match self.preset {
            Preset::Quick => TrainPlan::tiny(),
            Preset::Default => TrainPlan::default(),
        };
        p.tokenizer_stage.steps = self.tokenizer_steps.max(1);
        p.gpt_stage.steps = self.gpt_steps.max(1);
        p.window.frames = WindowConfig::whole_frames(self.window_frames);
        p.mirror_right = self.mirror_right;
        p.calibrate_walks = if self.calibrate_variance {
            calibrate::DEFAULT_WALKS
        } else {
            0
        };
        p.sample_checks = if self.sample_checks {
            sample_check::DEFAULT_WINDOWS
        } else {
            0
        };
        p.normal_class = normal;
        p
    }
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        models(st, ui);
        ui.separator();
        train_form(st, ui);
        curves(st, ui);
        ui.separator();
        gallery(st, ui);
    });
}

fn models(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Models").strong());
    if st.ws.project.models.is_empty() {
        ui.label(
            "No model yet: train one below (a quick one takes seconds), or with `pathogait train`.",
        );
        return;
    }
    let traits = &mut st.panels.generation.traits;
    // The two manifest columns are long sentences: they come last and the table scrolls
    // sideways rather than being cut at the panel's edge.
    egui::ScrollArea::horizontal()
        .id_salt("models_scroll")
        .show(ui, |ui| {
            egui::Grid::new("models").striped(true).show(ui, |ui| {
                for h in [
                    "Name",
                    "Trained on",
                    "Weights",
                    "Folder",
                    "GPT weights",
                    "Variance filters",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for m in &st.ws.project.models {
                    let dir = st.ws.resolve(&m.path);
                    // A retrained model under the same folder gets a new hash: read it again then.
                    let key = dir.join(&m.weights_hash);
                    let t = traits.entry(key).or_insert_with(|| {
                        Manifest::read(&dir)
                            .map(|mf| [mf.gpt_weights(), mf.variance_filters()])
                            .map_err(|e| e.to_string())
                    });
                    ui.label(&m.name);
                    ui.label(&m.trained_on);
                    ui.label(RichText::new(&m.weights_hash).monospace());
                    ui.label(m.path.display().to_string());
                    match t {
                        Ok([gpt, variance]) => {
                            ui.label(gpt.as_str());
                            ui.label(variance.as_str());
                        }
                        Err(e) => {
                            ui.colored_label(Color32::LIGHT_RED, "manifest unreadable")
                                .on_hover_text(e.as_str());
                            ui.label("");
                        }
                    }
                    ui.end_row();
                }
            });
        });
}

fn train_form(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Train a generator on the recorded walks").strong());
    let training = st.busy("Training '");
    let normal = st.ws.normal_class();
    let g = &mut st.panels.generation;
    ui.horizontal_wrapped(|ui| {
        ui.label("Name");
        ui.text_edit_singleline(&mut g.name);
        let before = g.preset;
        ui.radio_value(&mut g.preset, Preset::Quick, "quick check");
        ui.radio_value(&mut g.preset, Preset::Default, "default model");
        if before != g.preset {
            // A new preset brings its own step counts; the fields stay editable.
            let d = match g.preset {
                Preset::Quick => TrainPlan::tiny(),
                Preset::Default => TrainPlan::default(),
            };
            (g.tokenizer_steps, g.gpt_steps) = (d.tokenizer_stage.steps, d.gpt_stage.steps);
        }
        ui.label("tokeniser steps");
        ui.add(egui::DragValue::new(&mut g.tokenizer_steps).range(1..=100_000));
        ui.label("GPT steps");
        ui.add(egui::DragValue::new(&mut g.gpt_steps).range(1..=100_000));
        ui.label("window frames")
            .on_hover_text("Frames per training window at 30 Hz; 96 (3.2 s) holds more whole strides than 64");
        ui.add(
            egui::DragValue::new(&mut g.window_frames)
                .range(16..=256)
                .speed(4),
        );
        ui.checkbox(&mut g.mirror_right, "mirror right-affected walks")
            .on_hover_text("Learn one-sided pathologies once, as left-affected; right-side walks are mirrored back");
        ui.checkbox(&mut g.calibrate_variance, "calibrate variance")
            .on_hover_text("After training, sample 32 walks per class like the training walks and fit \"match variance\" to them rather than to the decoder's reconstructions (train --calibrate-variance 32)");
        // Only the default preset's GPT stage has held-out checks to judge by.
        ui.add_enabled(
            g.preset == Preset::Default,
            egui::Checkbox::new(&mut g.sample_checks, "judge GPT by samples"),
        )
        .on_hover_text("At each held-out check the GPT samples 96 windows prompted like its training windows and is judged by their distance to those windows instead of by its held-out next-token loss (train --sample-checks 96)")
        .on_disabled_hover_text("The Quick preset's GPT has no held-out checks");
        let ok = !training && !g.name.trim().is_empty() && st.ws.loaded;
        if ui.add_enabled(ok, egui::Button::new("Train")).clicked() {
            st.commands.push(Command::Train {
                plan: Box::new(g.plan(normal.clone())),
                name: g.name.trim().to_string(),
            });
        }
    });
    let ps = &st.panels.prompt;
    ui.horizontal(|ui| {
        let p = ps.current();
        ui.label(format!(
            "Prompt: {} · severity {:.2} · {} walks",
            p.class, p.severity, ps.sampling.count
        ));
        if ui
            .add_enabled(
                ps.model.is_some(),
                egui::Button::new("Generate from the composed prompt"),
            )
            .clicked()
            && let Some(model) = ps.model
        {
            st.commands.push(Command::Generate {
                model,
                prompt: p,
                sampling: ps.sampling,
                set_name: ps.set_name.trim().to_string(),
            });
        }
    });
}

fn curves(st: &PanelCtx<'_>, ui: &mut egui::Ui) {
    let live = st.jobs.iter().find(|j| !j.metrics.is_empty());
    let (title, series) = match (live, &st.panels.generation.last_metrics) {
        (Some(j), _) => (format!("{} (live)", j.title), &j.metrics),
        (None, Some((t, m))) => (t.clone(), m),
        (None, None) => return,
    };
    ui.label(RichText::new(format!("Loss curves: {title}")).strong());
    // One plot per stage: each has its own scale.
    #[allow(clippy::type_complexity)] // stage -> (metric name, points)
    let mut stages: BTreeMap<&str, Vec<(&str, &Vec<[f64; 2]>)>> = BTreeMap::new();
    for (k, v) in series {
        let (stage, name) = k.split_once(" / ").unwrap_or(("", k.as_str()));
        stages.entry(stage).or_default().push((name, v));
    }
    ui.horizontal_wrapped(|ui| {
        for (stage, lines) in stages {
            ui.vertical(|ui| {
                ui.label(stage);
                Plot::new(("loss", stage))
                    .width(380.0)
                    .height(180.0)
                    .legend(Legend::default())
                    .x_axis_label("step")
                    .show(ui, |p| {
                        for (name, pts) in lines {
                            if name == "perplexity" {
                                continue; // on another scale; shown in the jobs bar text
                            }
                            p.line(Line::new(name, PlotPoints::from(pts.clone())));
                        }
                    });
            });
        }
    });
}

fn gallery(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Generated walks").strong());
    let sets: Vec<String> = st
        .ws
        .project
        .generated
        .iter()
        .map(|g| g.name.clone())
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label("Show set:");
        for s in &sets {
            if ui.button(s).clicked() {
                let prefix = format!("generated:{s}");
                let ids = st
                    .ws
                    .generated
                    .iter()
                    .filter(|w| w.subject == prefix)
                    .map(|w| w.id.clone())
                    .collect();
                st.panels.generation.show_gallery(ids);
            }
        }
    });
    if st.panels.generation.gallery.is_empty() {
        ui.label("Generate a batch, or pick a set above.");
        return;
    }
    count_badges(st, ui);
    let g = &st.panels.generation;
    ui.label(format!(
        "{} of {} walks are nearest to the class they were asked for (over all prior features, in within-class SDs){}",
        g.tally.1,
        g.gallery.len(),
        if g.tally.0 < g.gallery.len() {
            format!("; {} analysed so far", g.tally.0)
        } else {
            String::new()
        }
    ));
    // Taken out for the frame (rows push commands), then put back.
    let ids = std::mem::take(&mut st.panels.generation.gallery);
    let row_h = ui.spacing().interact_size.y + ui.spacing().item_spacing.y + 2.0;
    egui::ScrollArea::both()
        .id_salt("gallery-rows")
        .auto_shrink([false, true])
        .max_height(ui.available_height().max(200.0))
        .show_rows(ui, row_h, ids.len() + 1, |ui, range| {
            egui::Grid::new("gallery")
                .striped(true)
                .min_row_height(row_h - ui.spacing().item_spacing.y)
                .show(ui, |ui| {
                    for i in range {
                        if i == 0 {
                            for h in ["Walk", "Class", "Adherence", "Curation", ""] {
                                ui.label(RichText::new(h).strong());
                            }
                            ui.end_row();
                        } else {
                            gallery_row(st, ui, &ids[i - 1]);
                        }
                    }
                });
        });
    st.panels.generation.gallery = ids;
}

/// Computes a few more badges (each needs a gait analysis, so a few per frame keep the UI
/// smooth) and counts the hits, walking the gallery once from where the last frame stopped.
fn count_badges(st: &mut PanelCtx<'_>, ui: &egui::Ui) {
    let Some(p) = st.ws.priors.clone() else {
        return;
    };
    let g = &mut st.panels.generation;
    let mut budget = 4;
    while let Some(id) = g.gallery.get(g.tally.0) {
        let Some(w) = st.ws.walk(id) else {
            g.tally.0 += 1;
            continue;
        };
        let badge = if let Some(b) = g.badges.get(id) {
            b.clone()
        } else if budget == 0 {
            ui.ctx().request_repaint();
            break;
        } else {
            budget -= 1;
            let a = prior_adherence(
                std::slice::from_ref(w),
                w.label.as_deref().unwrap_or(""),
                &p.classes,
            );
            let b = a.nearest.keys().next().cloned();
            g.badges.insert(id.clone(), b.clone());
            b
        };
        let hit = matches!((badge, &w.label), (Some(n), Some(l)) if n.eq_ignore_ascii_case(l));
        g.tally = (g.tally.0 + 1, g.tally.1 + usize::from(hit));
    }
}

/// One gallery walk: id, class, adherence badge, accept/reject, View.
fn gallery_row(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, id: &str) {
    let label = st
        .ws
        .walk(id)
        .and_then(|w| w.label.clone())
        .unwrap_or_default();
    ui.label(id);
    ui.label(&label);
    match st.panels.generation.badges.get(id) {
        Some(Some(n)) if n.eq_ignore_ascii_case(&label) => {
            ui.colored_label(Color32::from_rgb(90, 200, 120), format!("ok: nearest {n}"))
        }
        Some(Some(n)) => ui.colored_label(Color32::from_rgb(240, 180, 60), format!("nearest {n}")),
        Some(None) => ui.colored_label(Color32::GRAY, "not analysable"),
        None => ui.spinner(),
    };
    let entry = st.ws.project.curation.get(id).cloned().unwrap_or_default();
    ui.horizontal(|ui| {
        for (d, t) in [
            (Decision::Accepted, "accept"),
            (Decision::Rejected, "reject"),
        ] {
            if ui.selectable_label(entry.decision == d, t).clicked() {
                let decision = if entry.decision == d {
                    Decision::Pending
                } else {
                    d
                };
                st.commands.push(Command::Curate(
                    id.to_string(),
                    CurationEntry {
                        decision,
                        ..entry.clone()
                    },
                ));
            }
        }
    });
    if ui.button("View").clicked() {
        st.commands.push(Command::Select(vec![id.to_string()]));
        *st.tab = super::Tab::Viewport;
    }
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_describes_the_plan_it_trains() {
        let mut g = GenerationState {
            preset: Preset::Default,
            tokenizer_steps: 1000,
            gpt_steps: 400,
            window_frames: 98,
            mirror_right: false,
            ..GenerationState::default()
        };
        let p = g.plan(Some("normal".into()));
        assert_eq!(p.tokenizer_stage.steps, 1000);
        assert_eq!(p.gpt_stage.steps, 400);
        assert_eq!(p.window.frames, 96, "rounded down to whole latent steps");
        assert!(!p.mirror_right);
        assert_eq!(p.calibrate_walks, 0);
        assert_eq!(p.sample_checks, 0);
        assert_eq!(p.normal_class.as_deref(), Some("normal"));
        g.mirror_right = true;
        g.calibrate_variance = true;
        g.sample_checks = true;
        g.window_frames = 4;
        let p = g.plan(None);
        assert!(p.mirror_right);
        assert_eq!(p.calibrate_walks, calibrate::DEFAULT_WALKS);
        assert_eq!(p.sample_checks, sample_check::DEFAULT_WINDOWS);
        assert_eq!(p.window.frames, 16);
    }
}
