//! Prompt composer: class, severity, affected side, speed and free descriptors; the expanded
//! prompt text and the prior values it conditions on, shown live (from the chosen model's
//! vocabulary, or from this dataset's priors before any model exists); sampling settings;
//! save to the project; generate.

use std::path::PathBuf;

use egui::RichText;

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::data::Side;
use crate::core::model::bundle::Manifest;
use crate::core::model::generate::Sampling;
use crate::core::model::prompt::{Prompt, Speed, expand};
use crate::core::model::vocab::{Vocab, descriptor_label};
use crate::core::project::SavedPrompt;

/// Quick descriptor phrases the expansion understands.
pub const QUICK: [&str; 16] = [
    "stiff knee",
    "reduced hip",
    "high knee",
    "long stance",
    "short stance",
    "asymmetric",
    "symmetric",
    "short stride",
    "long stride",
    "reduced knee flexion",
    "shuffling",
    "reduced arm swing",
    "wide base",
    "variable",
    "crouch",
    "circumduction",
];

/// Composer state.
#[derive(Debug)]
pub struct PromptState {
    /// The prompt being composed.
    pub prompt: Prompt,
    /// Descriptors as typed (comma separated).
    pub descriptors: String,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Name to save the prompt under.
    pub name: String,
    /// Model used for expansion and generation (index into the project's models).
    pub model: Option<usize>,
    /// Name of the generated set.
    pub set_name: String,
    cache: Option<(PathBuf, Result<Vocab, String>)>,
}

impl Default for PromptState {
    fn default() -> Self {
        Self {
            prompt: Prompt {
                class: "antalgic".into(),
                severity: 0.6,
                side: Some(Side::Left),
                ..Prompt::default()
            },
            descriptors: String::new(),
            sampling: Sampling {
                count: 20,
                ..Sampling::default()
            },
            name: "prompt 1".into(),
            model: None,
            set_name: "set 1".into(),
            cache: None,
        }
    }
}

impl PromptState {
    /// The prompt with the typed descriptors parsed in.
    #[must_use]
    pub fn current(&self) -> Prompt {
        Prompt {
            descriptors: self
                .descriptors
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            ..self.prompt.clone()
        }
    }
}

/// The vocabulary the preview expands with: the chosen model's, else one built from priors.
fn vocab(st: &mut PanelCtx<'_>) -> Result<(Vocab, String), String> {
    if let Some(i) = st.panels.prompt.model
        && let Some(m) = st.ws.project.models.get(i)
    {
        let dir = st.ws.resolve(&m.path);
        let cached = st
            .panels
            .prompt
            .cache
            .as_ref()
            .filter(|(p, _)| *p == dir)
            .map(|(_, v)| v.clone());
        let v = cached.unwrap_or_else(|| {
            let v = Manifest::read(&dir)
                .map_err(|e| e.to_string())
                .map(|m| m.vocab);
            st.panels.prompt.cache = Some((dir.clone(), v.clone()));
            v
        });
        return v.map(|v| (v, format!("model '{}'", m.name)));
    }
    let p = st.ws.priors.as_ref().ok_or("priors not computed yet")?;
    let source = "this dataset's priors (no model chosen)".to_string();
    let v = if let Some(v) = &st.ws.priors_vocab {
        v.clone()
    } else {
        let v = std::sync::Arc::new(crate::app::actions::priors_vocab(p, &st.ws.recorded));
        st.ws.priors_vocab = Some(v.clone());
        v
    };
    Ok(((*v).clone(), source))
}

/// The prompt's fields: class, severity, side, speed, descriptors (with quick picks), model.
fn prompt_form(ui: &mut egui::Ui, ps: &mut PromptState, classes: &[String], models: &[String]) {
    egui::Grid::new("prompt-form")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label("Class");
            egui::ComboBox::from_id_salt("prompt-class")
                .selected_text(&ps.prompt.class)
                .show_ui(ui, |ui| {
                    for c in classes {
                        ui.selectable_value(&mut ps.prompt.class, c.clone(), c);
                    }
                });
            ui.end_row();
            ui.label("Severity");
            ui.add(
                egui::Slider::new(&mut ps.prompt.severity, 0.0..=1.0)
                    .text("0 near normal · 0.5 typical · 1 marked"),
            );
            ui.end_row();
            ui.label("Affected side");
            ui.horizontal(|ui| {
                ui.radio_value(&mut ps.prompt.side, None, "none");
                ui.radio_value(&mut ps.prompt.side, Some(Side::Left), "left");
                ui.radio_value(&mut ps.prompt.side, Some(Side::Right), "right");
            });
            ui.end_row();
            ui.label("Speed");
            ui.horizontal(|ui| {
                ui.radio_value(&mut ps.prompt.speed, Speed::Slow, "slow");
                ui.radio_value(&mut ps.prompt.speed, Speed::Normal, "normal");
                ui.radio_value(&mut ps.prompt.speed, Speed::Fast, "fast");
            });
            ui.end_row();
            ui.label("Descriptors");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut ps.descriptors)
                        .hint_text("e.g. stiff knee, short stride")
                        .desired_width(380.0),
                );
                ui.horizontal_wrapped(|ui| {
                    for q in QUICK {
                        if ui.small_button(q).clicked() {
                            if !ps.descriptors.trim().is_empty() {
                                ps.descriptors.push_str(", ");
                            }
                            ps.descriptors.push_str(q);
                        }
                    }
                });
            });
            ui.end_row();
            ui.label("Model");
            egui::ComboBox::from_id_salt("prompt-model")
                .selected_text(
                    ps.model
                        .and_then(|i| models.get(i))
                        .cloned()
                        .unwrap_or_else(|| "none (train one in Generation)".into()),
                )
                .show_ui(ui, |ui| {
                    for (i, m) in models.iter().enumerate() {
                        ui.selectable_value(&mut ps.model, Some(i), m);
                    }
                });
            ui.end_row();
        });
}

/// The prompt expanded with the chosen model's vocabulary (or the data's priors), with each
/// prior's target and bin.
fn expanded_view(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, prompt: &Prompt) {
    ui.separator();
    ui.label(RichText::new("Expanded prompt").strong());
    match vocab(st).and_then(|(v, source)| {
        expand(prompt, &v)
            .map(|e| (e, source))
            .map_err(|e| e.to_string())
    }) {
        Ok((e, source)) => {
            ui.label(RichText::new(format!("expanded with {source}")).weak());
            ui.add(egui::Label::new(RichText::new(&e.text).monospace()).wrap());
            egui::Grid::new("prompt-priors")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new("prior").strong());
                    ui.label(RichText::new("target").strong());
                    ui.label(RichText::new("bin (1-5)").strong());
                    ui.end_row();
                    for (i, key) in e.descriptors.iter().enumerate() {
                        ui.label(descriptor_label(key));
                        ui.label(format!("{:.1}", e.targets[i]));
                        ui.label(format!("{}", e.values.bins[i] + 1));
                        ui.end_row();
                    }
                });
        }
        Err(e) => {
            ui.colored_label(egui::Color32::from_rgb(240, 180, 60), e);
        }
    }
}

/// Saved prompts, each loadable into the form.
fn saved_list(ui: &mut egui::Ui, ps: &mut PromptState, saved: Vec<SavedPrompt>) {
    if !saved.is_empty() {
        ui.separator();
        ui.label(RichText::new("Saved prompts").strong());
        for s in saved {
            ui.horizontal(|ui| {
                if ui.button("Load").clicked() {
                    ps.prompt = s.prompt.clone();
                    ps.descriptors = s.prompt.descriptors.join(", ");
                    ps.sampling = s.sampling;
                    ps.name.clone_from(&s.name);
                }
                ui.label(format!(
                    "{}: {} severity {:.2}",
                    s.name, s.prompt.class, s.prompt.severity
                ));
            });
        }
    }
}

/// Draws the composer.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let classes = st.ws.classes();
    let models: Vec<String> = st
        .ws
        .project
        .models
        .iter()
        .map(|m| m.name.clone())
        .collect();
    let saved: Vec<SavedPrompt> = st.ws.project.prompts.clone();
    let ps = &mut st.panels.prompt;
    if ps.model.is_some_and(|m| m >= models.len()) {
        ps.model = None;
    }
    if ps.model.is_none() && !models.is_empty() {
        ps.model = Some(models.len() - 1);
    }
    prompt_form(ui, ps, &classes, &models);
    sampling_form(ui, &mut ps.sampling);
    let prompt = ps.current();
    expanded_view(st, ui, &prompt);
    ui.separator();
    let ps = &mut st.panels.prompt;
    ui.horizontal(|ui| {
        ui.label("Save as");
        ui.text_edit_singleline(&mut ps.name);
        if ui.button("Save prompt").clicked() {
            st.commands.push(Command::SavePrompt(SavedPrompt {
                name: ps.name.trim().to_string(),
                prompt: prompt.clone(),
                sampling: ps.sampling,
            }));
        }
    });
    ui.horizontal(|ui| {
        ui.label("Generated set name");
        ui.text_edit_singleline(&mut ps.set_name);
        let can = ps.model.is_some();
        if ui
            .add_enabled(can, egui::Button::new("Generate"))
            .on_disabled_hover_text("train or add a model first")
            .clicked()
            && let Some(model) = ps.model
        {
            st.commands.push(Command::Generate {
                model,
                prompt: prompt.clone(),
                sampling: ps.sampling,
                set_name: ps.set_name.trim().to_string(),
            });
        }
    });
    saved_list(ui, &mut st.panels.prompt, saved);
}

fn sampling_form(ui: &mut egui::Ui, s: &mut Sampling) {
    egui::CollapsingHeader::new("Sampling")
        .default_open(true)
        .id_salt("sampling")
        .show(ui, |ui| {
            egui::Grid::new("sampling-grid")
                .num_columns(4)
                .show(ui, |ui| {
                    ui.label("temperature");
                    ui.add(
                        egui::DragValue::new(&mut s.temperature)
                            .range(0.05..=3.0)
                            .speed(0.01),
                    );
                    ui.label("top-k (0 = all)");
                    ui.add(egui::DragValue::new(&mut s.top_k).range(0..=512));
                    ui.end_row();
                    ui.label("top-p");
                    ui.add(
                        egui::DragValue::new(&mut s.top_p)
                            .range(0.05..=1.0)
                            .speed(0.01),
                    );
                    ui.label("seed");
                    ui.add(egui::DragValue::new(&mut s.seed));
                    ui.end_row();
                    ui.label("count");
                    ui.add(egui::DragValue::new(&mut s.count).range(1..=2000));
                    ui.label("frames");
                    ui.add(egui::DragValue::new(&mut s.frames).range(16..=1200));
                    ui.end_row();
                    ui.label("augmentation");
                    ui.add(
                        egui::DragValue::new(&mut s.augment)
                            .range(0.0..=1.0)
                            .speed(0.01),
                    );
                    ui.label("guidance (1 = off)");
                    ui.add(
                        egui::DragValue::new(&mut s.guidance)
                            .range(0.0..=8.0)
                            .speed(0.05),
                    );
                    ui.end_row();
                    ui.label("build");
                    ui.checkbox(&mut s.subject_bodies, "a training subject's per walk")
                        .on_hover_text("Give each walk the bone lengths of one of the model's training subjects, drawn per walk from the seed, instead of the decoder's average build (named in each walk's provenance)");
                    ui.end_row();
                    ui.label("start");
                    ui.checkbox(&mut s.random_start, "anywhere in the stride")
                        .on_hover_text("Continue each walk for half a window and cut the frames from it at a seeded offset, so walks start at any point of the stride as real recordings do (named in each walk's provenance)");
                    ui.end_row();
                    ui.label("variance");
                    ui.checkbox(&mut s.match_variance, "match the training windows'")
                        .on_hover_text("Move each decoded feature's mean and variance to the training windows' of the walk's class (the decoder's variance compensation: its reconstructions vary less than the data; named in each walk's provenance)");
                    ui.end_row();
                });
        });
}
