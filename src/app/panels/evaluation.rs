//! Evaluation: run `evaluate` on the recorded walks as a background job (protocol,
//! classifiers, real-subject cuts for a scarcity curve, synthetic windows per class, preset),
//! watch folds finish, and read a finished run: the accuracy table per cut, the scarcity
//! curve, per-class Fréchet distance and recognition, and the pooled confusion matrix. Runs
//! are recorded in the project; any run's folder can be opened.

use std::collections::BTreeMap;

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::PanelCtx;
use super::eval_tables::{accuracy_table, confusion, distances, imbalance, significance};
use crate::app::commands::{Command, EvalSpec};
use crate::core::eval::classifier::{ClassifierConfig, ClassifierKind};
use crate::core::eval::scarcity::{COLOURS, EvalRun, cut_name};
use crate::core::eval::{Condition, EvalConfig, Protocol};
use crate::core::model::bundle::TrainPlan;
use crate::core::model::generate::Sampling;
use crate::core::model::{calibrate, sample_check};

/// How the synthetic windows of a run are asked for (see [`EvalConfig`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // one per checkbox, each independent of the others
pub struct SyntheticKnobs {
    /// Spread the synthetic prompts over severities and speeds.
    pub prompt_spread: bool,
    /// Prompt each synthetic window like one of the fit subjects' walks.
    pub like_fit_walks: bool,
    /// Give each synthetic window the build of one of the fit subjects.
    pub subject_bodies: bool,
    /// Start each synthetic window at a random point of its stride.
    pub random_start: bool,
    /// Match the decoded features' variance to the fit windows'.
    pub match_variance: bool,
    /// Train the generator on windows starting at every gait-token step instead of every 16
    /// frames.
    pub dense_windows: bool,
    /// Keep the generator GPT's weights from its best held-out check.
    pub keep_best: bool,
    /// Fit each fold generator's variance compensation to its own samples.
    pub calibrate: bool,
    /// Judge each fold generator's GPT at its held-out checks by what it samples instead of
    /// by its next-token loss.
    pub sample_checks: bool,
}

/// Evaluation panel state.
#[derive(Debug)]
pub struct EvaluationState {
    /// Name of the next run (its folder).
    pub name: String,
    /// k of k-fold; 0 for leave-one-subject-out.
    pub kfold: usize,
    /// Classifiers ticked.
    pub classifiers: Vec<ClassifierKind>,
    /// Quick (tiny generator and classifiers) or the default sizes.
    pub quick: bool,
    /// Run only the first folds (0: all).
    pub max_folds: usize,
    /// Synthetic windows per class.
    pub synthetic_per_class: usize,
    /// How the synthetic windows are asked for.
    pub synthetic: SyntheticKnobs,
    /// Real-subject cuts, e.g. "1,2,4,all" (empty: one run on all of them).
    pub cuts: String,
    /// Folder typed for "Open".
    pub open_path: String,
    /// Index of the run shown (into the workspace's evaluations).
    pub shown: usize,
    /// Classifier and condition of the confusion matrix shown.
    pub matrix: (ClassifierKind, Condition),
    /// The project's last recorded run was opened when the tab was first shown.
    opened_last: bool,
}

impl Default for EvaluationState {
    fn default() -> Self {
        Self {
            name: "evaluation-1".into(),
            kfold: 3,
            classifiers: vec![ClassifierKind::Gru],
            quick: true,
            max_folds: 0,
            synthetic_per_class: 30,
            synthetic: SyntheticKnobs::default(),
            cuts: String::new(),
            open_path: String::new(),
            shown: 0,
            matrix: (ClassifierKind::Gru, Condition::Real),
            opened_last: false,
        }
    }
}

impl EvaluationState {
    /// The cuts typed, or why they cannot be read.
    ///
    /// # Errors
    /// A cut that is neither a count of 1 or more nor "all".
    pub fn parsed_cuts(&self) -> Result<Vec<Option<usize>>, String> {
        self.cuts
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| match t {
                "all" => Ok(None),
                n => n
                    .parse::<usize>()
                    .ok()
                    .filter(|k| *k >= 1)
                    .map(Some)
                    .ok_or_else(|| format!("'{t}' is not a count of 1 or more, nor 'all'")),
            })
            .collect()
    }

    /// The run the form describes.
    ///
    /// # Errors
    /// Cuts that cannot be read, or no classifier ticked.
    pub fn spec(&self) -> Result<EvalSpec, String> {
        let name = self.name.trim();
        // The name becomes one folder under the project's data folder.
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
            return Err("give the run a name (a folder name: no slashes)".into());
        }
        if self.classifiers.is_empty() {
            return Err("tick at least one classifier".into());
        }
        let (mut generator, classifier) = if self.quick {
            (TrainPlan::tiny(), ClassifierConfig::tiny())
        } else {
            (TrainPlan::default(), ClassifierConfig::default())
        };
        if self.synthetic.dense_windows {
            generator.window.hop = generator.tokenizer.downsample.max(1);
        }
        // A quick check's tiny generators have no held-out checks: the boxes are off there.
        generator.gpt_stage.keep_best = self.synthetic.keep_best && !self.quick;
        generator.sample_checks = if self.synthetic.sample_checks && !self.quick {
            sample_check::DEFAULT_WINDOWS
        } else {
            0
        };
        generator.calibrate_walks = if self.synthetic.calibrate {
            calibrate::DEFAULT_WALKS
        } else {
            0
        };
        Ok(EvalSpec {
            name: name.to_string(),
            config: EvalConfig {
                protocol: if self.kfold >= 2 {
                    Protocol::KFold(self.kfold)
                } else {
                    Protocol::Loso
                },
                classifiers: self.classifiers.clone(),
                classifier,
                generator,
                synthetic_per_class: self.synthetic_per_class.max(1),
                max_folds: (self.max_folds > 0).then_some(self.max_folds),
                prompt_spread: self.synthetic.prompt_spread,
                like_fit_walks: self.synthetic.like_fit_walks,
                sampling: Sampling {
                    subject_bodies: self.synthetic.subject_bodies,
                    random_start: self.synthetic.random_start,
                    match_variance: self.synthetic.match_variance,
                    ..EvalConfig::default().sampling
                },
                ..EvalConfig::default()
            },
            cuts: self.parsed_cuts()?,
        })
    }
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    // The project's last run is read when the tab first shows (runs are kept as folders).
    if !st.panels.evaluation.opened_last {
        st.panels.evaluation.opened_last = true;
        if st.ws.evaluations.is_empty()
            && let Some(r) = st.ws.project.evaluations.last()
        {
            let dir = st.ws.resolve(&r.path);
            st.commands.push(Command::OpenEvaluation(dir));
        }
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        form(st, ui);
        live(st, ui);
        ui.separator();
        runs(st, ui);
        let shown = st.panels.evaluation.shown;
        if let Some(run) = st.ws.evaluations.get(shown).cloned() {
            results(st, ui, &run);
        }
    });
}

fn form(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let running = st.busy("Evaluating");
    let e = &mut st.panels.evaluation;
    ui.label(RichText::new("Run an evaluation of the recorded walks").strong());
    egui::Grid::new("eval-form").num_columns(2).show(ui, |ui| {
        ui.label("Name");
        ui.text_edit_singleline(&mut e.name);
        ui.end_row();
        ui.label("Protocol");
        ui.horizontal(|ui| {
            let mut loso = e.kfold < 2;
            if ui.radio_value(&mut loso, true, "leave one subject out").clicked() {
                e.kfold = 0;
            }
            if ui.radio_value(&mut loso, false, "k-fold").clicked() && e.kfold < 2 {
                e.kfold = 3;
            }
            if e.kfold >= 2 {
                ui.add(egui::DragValue::new(&mut e.kfold).range(2..=20).prefix("k "));
            }
            ui.add(
                egui::DragValue::new(&mut e.max_folds)
                    .range(0..=100)
                    .prefix("first folds only: ")
                    .custom_formatter(|v, _| if v < 1.0 { "all".into() } else { format!("{v}") }),
            );
        });
        ui.end_row();
        ui.label("Classifiers").on_hover_text("On the shared BVH set (80 real walks, four groups) the GRU learns nothing in any condition over three seeds, while the LSTM and CNN do (balanced accuracy above guessing): tick them for small real sets");
        ui.horizontal(|ui| {
            for k in ClassifierKind::ALL {
                let mut on = e.classifiers.contains(&k);
                if ui.checkbox(&mut on, k.name()).changed() {
                    if on {
                        e.classifiers.push(k);
                    } else {
                        e.classifiers.retain(|x| *x != k);
                    }
                }
            }
        });
        ui.end_row();
        ui.label("Sizes");
        ui.horizontal(|ui| {
            ui.radio_value(&mut e.quick, true, "quick check (tiny models)");
            ui.radio_value(&mut e.quick, false, "default models");
        });
        ui.end_row();
        ui.label("Synthetic windows");
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut e.synthetic_per_class)
                    .range(1..=1000)
                    .suffix(" per class"),
            );
            let k = &mut e.synthetic;
            ui.checkbox(&mut k.like_fit_walks, "like the real walks")
                .on_hover_text("Prompt each synthetic window with the values (severity, descriptors, side) of one of the fold's training walks of its class, cycling through them");
            // Walks prompted like the real ones have no use for the spread grid.
            ui.add_enabled(
                !k.like_fit_walks,
                egui::Checkbox::new(&mut k.prompt_spread, "spread prompts"),
            )
            .on_hover_text("Ask for severities 0.1-0.9 at slow, normal and fast speed in equal shares, instead of every window for the class's typical walk")
            .on_disabled_hover_text("Walks prompted like the real walks take their values from them");
            ui.checkbox(&mut k.subject_bodies, "subjects' builds")
                .on_hover_text("Give each synthetic window the bone lengths of one of the fold's training subjects, drawn per window, instead of the decoder's average build");
        });
        ui.end_row();
        // The options go on over a second row: one row outgrows a narrow window.
        ui.label("");
        ui.horizontal(|ui| {
            let k = &mut e.synthetic;
            ui.checkbox(&mut k.random_start, "random start")
                .on_hover_text("Start each synthetic window at a random point of its stride, as real windows cut from longer walks do: the generator continues each walk for half a window and the window is cut from it at a seeded offset");
            ui.checkbox(&mut k.match_variance, "match variance")
                .on_hover_text("Move each decoded feature's mean and variance to the fit windows' of the window's class (the decoder's variance compensation: its reconstructions vary less than the data)");
            ui.add_enabled(k.match_variance, egui::Checkbox::new(&mut k.calibrate, "calibrated"))
                .on_hover_text("Fit the variance match to 32 walks per class each fold's generator samples like its training walks, not to its reconstructions (evaluate --calibrate-variance 32)");
        });
        ui.end_row();
        ui.label("Fold generators");
        // The tiny generators of a quick check have no held-out checks to keep or judge by.
        let checks = !e.quick;
        ui.horizontal(|ui| {
            let k = &mut e.synthetic;
            ui.checkbox(&mut k.dense_windows, "dense generator windows")
                .on_hover_text("Train each fold's generator on windows starting at every gait-token step (4 frames) instead of every 16 frames: its GPT sees the same walks cut at more points of the stride (evaluate --generator-hop 4)");
            ui.add_enabled(checks, egui::Checkbox::new(&mut k.keep_best, "GPT's best check"))
                .on_disabled_hover_text("A quick check's tiny generators have no held-out checks: choose the default models")
                .on_hover_text("Keep each fold's generator GPT weights from its best held-out check instead of its last step (evaluate --generator-keep-best): more accurate classifiers on the demo folds, windows further from the real ones");
            ui.add_enabled(checks, egui::Checkbox::new(&mut k.sample_checks, "judge GPT by samples"))
                .on_disabled_hover_text("A quick check's tiny generators have no held-out checks: choose the default models")
                .on_hover_text("At each held-out check the GPT samples 96 windows prompted like its training windows and is judged by their Fréchet distance to those windows, not by its held-out next-token loss (evaluate --generator-sample-checks 96); with \"GPT's best check\" it keeps the weights whose samples came closest");
        });
        ui.end_row();
        ui.label("Real subjects per fold")
            .on_hover_text("A scarcity curve: one run per count, each fold's real training subjects cut to that many (the generator and the baseline see only the cut). Empty: one run on all of them.");
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut e.cuts).hint_text("e.g. 1,2,4,all"));
            if let Err(why) = e.parsed_cuts() {
                ui.colored_label(Color32::from_rgb(240, 90, 80), why);
            }
        });
        ui.end_row();
    });
    let catalog = st.ws.catalog();
    if let Some(line) = imbalance(&catalog.recorded_classes, &catalog.recorded_class_walks) {
        ui.label(RichText::new(line).weak());
    }
    let spec = st.panels.evaluation.spec();
    ui.horizontal(|ui| {
        let ok = !running && spec.is_ok() && !st.ws.recorded.is_empty();
        let clicked = ui
            .add_enabled(ok, egui::Button::new("Run evaluation"))
            .on_hover_text("Runs in the background; progress and Cancel in the jobs bar")
            .clicked();
        match spec {
            Ok(s) if clicked => st.commands.push(Command::Evaluate(Box::new(s))),
            Ok(_) => {}
            Err(why) => {
                ui.label(RichText::new(why).weak());
            }
        }
    });
}

/// Folds finished by the running evaluation: its per-fold accuracy metrics.
fn live(st: &PanelCtx<'_>, ui: &mut egui::Ui) {
    let Some(job) = st.jobs.iter().find(|j| j.title.starts_with("Evaluating")) else {
        return;
    };
    // "stage / fold accuracy · cut · classifier condition" -> per fold accuracy.
    let mut by_name: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (k, pts) in &job.metrics {
        if let Some((_, name)) = k.split_once(" / fold accuracy · ") {
            by_name
                .entry(name)
                .or_default()
                .extend(pts.iter().map(|p| p[1]));
        }
    }
    let folds = by_name.values().map(Vec::len).max().unwrap_or(0);
    ui.label(format!("{}: {folds} folds finished so far", job.title));
    if by_name.is_empty() {
        return;
    }
    egui::Grid::new("eval-live").striped(true).show(ui, |ui| {
        ui.label(RichText::new("cut · classifier condition").strong());
        ui.label(RichText::new("accuracy per finished fold, %").strong());
        ui.end_row();
        for (name, accs) in &by_name {
            ui.label(*name);
            ui.label(
                accs.iter()
                    .map(|a| format!("{:.0}", 100.0 * a))
                    .collect::<Vec<_>>()
                    .join("  "),
            );
            ui.end_row();
        }
    });
}

/// The project's recorded runs and the folder field: each opens into the panel.
fn runs(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.label(RichText::new("Runs").strong());
    for r in &st.ws.project.evaluations {
        ui.horizontal(|ui| {
            let dir = st.ws.resolve(&r.path);
            if ui.button("Open").clicked() {
                st.commands.push(Command::OpenEvaluation(dir.clone()));
            }
            ui.label(RichText::new(&r.name).strong());
            ui.label(RichText::new(&r.summary).weak());
            ui.label(RichText::new(dir.display().to_string()).weak().small());
        });
    }
    ui.horizontal(|ui| {
        ui.label("Open a run's folder");
        ui.text_edit_singleline(&mut st.panels.evaluation.open_path);
        let p = st.panels.evaluation.open_path.trim().to_string();
        if ui
            .add_enabled(!p.is_empty(), egui::Button::new("Open"))
            .clicked()
        {
            st.commands.push(Command::OpenEvaluation(p.into()));
        }
    });
    if st.ws.evaluations.len() > 1 {
        ui.horizontal_wrapped(|ui| {
            ui.label("Show:");
            for (i, r) in st.ws.evaluations.iter().enumerate() {
                let name = r.dir.file_name().map_or_else(
                    || r.dir.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                ui.selectable_value(&mut st.panels.evaluation.shown, i, name);
            }
        });
    }
}

/// A finished run: table per cut, the curve, distances and recognition, confusion matrix.
fn results(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, run: &EvalRun) {
    ui.separator();
    ui.label(RichText::new(format!("Results: {}", run.dir.display())).strong());
    for (cut, r) in &run.runs {
        ui.label(format!(
            "Real training subjects per fold: {} · {} folds · {} walks, {} subjects",
            cut_name(*cut),
            r.folds.len(),
            r.walks,
            r.subjects
        ));
        accuracy_table(ui, r, &format!("eval-acc-{}", cut_name(*cut)));
    }
    if let Some(s) = &run.scarcity {
        let k = run
            .runs
            .first()
            .and_then(|r| r.1.settings.classifiers.first().copied())
            .unwrap_or(ClassifierKind::Gru);
        ui.label(
            RichText::new(format!(
                "{} accuracy vs real training subjects (mean ± SD over folds)",
                k.name()
            ))
            .strong(),
        );
        let cuts = s.cuts.clone();
        let strong = ui.visuals().strong_text_color();
        Plot::new("scarcity-plot")
            .height(240.0)
            .legend(Legend::default())
            .include_y(0.0)
            .include_y(100.0)
            .x_axis_formatter(super::category_axis(cuts))
            .show(ui, |pu| {
                for (ci, c) in Condition::ALL.into_iter().enumerate() {
                    let colour = COLOURS[ci % COLOURS.len()]
                        .strip_prefix('#')
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .map_or(Color32::GRAY, |v| {
                            let [_, r, g, b] = v.to_be_bytes();
                            Color32::from_rgb(r, g, b)
                        });
                    // The files' black line (Real) would vanish on the dark theme.
                    let colour = if colour == Color32::BLACK {
                        strong
                    } else {
                        colour
                    };
                    let pts: Vec<[f64; 2]> = s
                        .cuts
                        .iter()
                        .enumerate()
                        .filter_map(|(i, cut)| {
                            let p = s.point(k, c, cut)?;
                            p.accuracy_mean
                                .is_finite()
                                .then_some([i as f64, 100.0 * p.accuracy_mean])
                        })
                        .collect();
                    pu.add(
                        Line::new(c.name(), PlotPoints::from(pts.clone()))
                            .color(colour)
                            .width(2.0),
                    );
                    pu.add(
                        Points::new(c.name(), PlotPoints::from(pts))
                            .color(colour)
                            .radius(3.0),
                    );
                }
            });
    }
    if let Some((_, r)) = run.runs.last() {
        significance(ui, r);
        distances(ui, r);
        confusion(ui, r, &mut st.panels.evaluation.matrix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_refuses_bad_names_cuts_and_no_classifier() {
        let mut e = EvaluationState {
            cuts: "1, 2,all".into(),
            ..EvaluationState::default()
        };
        let s = e.spec().unwrap();
        assert_eq!(s.cuts, [Some(1), Some(2), None]);
        assert_eq!(s.config.protocol, Protocol::KFold(3));
        for bad in ["", "  ", "..", "a/b", "a\\b"] {
            e.name = bad.into();
            assert!(e.spec().is_err(), "name {bad:?}");
        }
        e.name = "run".into();
        e.cuts = "0,all".into();
        assert!(e.spec().unwrap_err().contains("'0'"));
        e.cuts.clear();
        e.classifiers.clear();
        assert!(e.spec().is_err());
        e.classifiers.push(ClassifierKind::Cnn);
        e.kfold = 0;
        let s = e.spec().unwrap();
        assert!(s.cuts.is_empty());
        assert_eq!(s.config.protocol, Protocol::Loso);
    }

    #[test]
    fn the_gpt_check_boxes_reach_the_plan_only_with_the_default_models() {
        let mut e = EvaluationState::default();
        e.synthetic.keep_best = true;
        e.synthetic.sample_checks = true;
        e.quick = true;
        let g = e.spec().unwrap().config.generator;
        assert!(
            !g.gpt_stage.keep_best && g.sample_checks == 0,
            "tiny models have no checks"
        );
        e.quick = false;
        let g = e.spec().unwrap().config.generator;
        assert!(g.gpt_stage.keep_best);
        assert_eq!(g.sample_checks, sample_check::DEFAULT_WINDOWS);
        assert!(
            g.gpt_stage.eval_every > 0,
            "the default GPT stage has checks to judge by"
        );
    }
}
