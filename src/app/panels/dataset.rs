//! Dataset browser: import, search and filter, the table of walks (subject, class, frames,
//! fps, problems), per-file import warnings, selection (click; Ctrl-click adds).

use egui::{Color32, RichText};

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::data::GaitSequence;

/// Which walks the table lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFilter {
    /// Recorded and generated.
    #[default]
    All,
    /// Recorded only.
    Recorded,
    /// Generated only.
    Generated,
}

/// The filtered rows and what they were built from.
#[derive(Debug, Default)]
struct RowCache {
    key: Option<(u64, String, String, SourceFilter, bool)>,
    rows: Vec<Row>,
}

/// Browser state.
#[derive(Debug, Default)]
pub struct BrowserState {
    /// Free-text search over id, subject and class.
    pub search: String,
    /// Class filter ("" = all).
    pub class: String,
    /// Source filter.
    pub source: SourceFilter,
    /// Only walks with problems.
    pub problems_only: bool,
    /// The rows of the last frame, rebuilt only when the data or a filter changed.
    cache: RowCache,
}

/// True when `s` passes the browser's filters.
#[must_use]
pub fn matches(b: &BrowserState, s: &GaitSequence, has_problems: bool) -> bool {
    let q = b.search.trim().to_lowercase();
    let label = s.label.as_deref().unwrap_or("(unlabelled)");
    (q.is_empty()
        || s.id.to_lowercase().contains(&q)
        || s.subject.to_lowercase().contains(&q)
        || label.to_lowercase().contains(&q))
        && (b.class.is_empty() || label == b.class)
        && match b.source {
            SourceFilter::All => true,
            SourceFilter::Recorded => !matches!(
                s.provenance,
                crate::core::data::Provenance::Generated { .. }
            ),
            SourceFilter::Generated => matches!(
                s.provenance,
                crate::core::data::Provenance::Generated { .. }
            ),
        }
        && (!b.problems_only || has_problems)
}

/// Draws the browser.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.heading("Dataset");
    if !st.ws.loaded {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("loading…");
        });
    }
    let synthetic =
        !st.ws.recorded.is_empty() && st.ws.recorded.iter().all(GaitSequence::is_synthetic);
    if synthetic {
        ui.label(
            RichText::new("Embedded demo data: SYNTHETIC walks from a parametric gait model, not real patients.")
                .color(Color32::from_rgb(230, 170, 60)),
        );
    }
    ui.horizontal(|ui| {
        if ui
            .button("Import…")
            .on_hover_text(
                "Add a file or folder (BVH, C3D, TRC, Kinect v2 CSV); drag and drop works too",
            )
            .clicked()
        {
            super::ask_import(st);
        }
        ui.label(format!(
            "{} walks, {} subjects",
            st.ws.recorded.len() + st.ws.generated.len(),
            st.ws.subject_count()
        ));
    });
    let b = &mut st.panels.dataset;
    ui.horizontal(|ui| {
        ui.label("Search");
        ui.text_edit_singleline(&mut b.search);
    });
    let classes = {
        let mut c: Vec<String> = st
            .ws
            .walks()
            .map(|s| s.label.clone().unwrap_or_else(|| "(unlabelled)".into()))
            .collect();
        c.sort();
        c.dedup();
        c
    };
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("class-filter")
            .selected_text(if b.class.is_empty() {
                "all classes"
            } else {
                b.class.as_str()
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut b.class, String::new(), "all classes");
                for c in &classes {
                    ui.selectable_value(&mut b.class, c.clone(), c);
                }
            });
        egui::ComboBox::from_id_salt("source-filter")
            .selected_text(format!("{:?}", b.source))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut b.source, SourceFilter::All, "All");
                ui.selectable_value(&mut b.source, SourceFilter::Recorded, "Recorded");
                ui.selectable_value(&mut b.source, SourceFilter::Generated, "Generated");
            });
        ui.checkbox(&mut b.problems_only, "problems");
    });
    import_warnings(st, ui);
    ui.separator();
    table(st, ui);
}

fn import_warnings(st: &PanelCtx<'_>, ui: &mut egui::Ui) {
    let files: Vec<_> = st
        .ws
        .reports
        .iter()
        .flat_map(|r| r.files.iter())
        .filter(|f| f.error.is_some() || !f.warnings.is_empty())
        .collect();
    if files.is_empty() && st.ws.load_problems.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!(
        "Import warnings ({} files)",
        files.len() + st.ws.load_problems.len()
    ))
    .id_salt("import-warnings")
    .show(ui, |ui| {
        egui::ScrollArea::vertical()
            .max_height(140.0)
            .show(ui, |ui| {
                for f in files {
                    let name = f.path.file_name().map_or_else(
                        || f.path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    if let Some(e) = &f.error {
                        ui.colored_label(Color32::from_rgb(240, 90, 80), format!("{name}: {e}"));
                    }
                    for w in &f.warnings {
                        ui.label(format!("{name}: {w}"));
                    }
                }
                for p in &st.ws.load_problems {
                    ui.colored_label(Color32::from_rgb(240, 90, 80), p);
                }
            });
    });
}

/// One row of the walk table.
#[derive(Debug)]
struct Row {
    id: String,
    subject: String,
    class: String,
    frames: usize,
    fps: f32,
    problems: Vec<String>,
    synthetic: bool,
}

/// Rebuilds the cached rows when the data or a filter changed since they were built.
fn refresh_rows(st: &mut PanelCtx<'_>) {
    let b = &st.panels.dataset;
    let key = (
        st.ws.generation,
        b.search.clone(),
        b.class.clone(),
        b.source,
        b.problems_only,
    );
    if st.panels.dataset.cache.key.as_ref() != Some(&key) {
        let b = &st.panels.dataset;
        let rows = st
            .ws
            .walks()
            .filter_map(|s| {
                let problems = st.ws.problems_of(&s.id);
                matches(b, s, !problems.is_empty()).then(|| Row {
                    id: s.id.clone(),
                    subject: s.subject.clone(),
                    class: s.label.clone().unwrap_or_else(|| "(unlabelled)".into()),
                    frames: s.frames(),
                    fps: s.fps,
                    problems: problems.to_vec(),
                    synthetic: s.is_synthetic(),
                })
            })
            .collect();
        st.panels.dataset.cache = RowCache {
            key: Some(key),
            rows,
        };
    }
}

fn table(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    // Taken out for the frame (commands go to the queue meanwhile), then put back.
    refresh_rows(st);
    let cache = std::mem::take(&mut st.panels.dataset.cache);
    let rows = &cache.rows;
    let ctrl = ui.input(|i| i.modifiers.command || i.modifiers.ctrl);
    let header = |ui: &mut egui::Ui| {
        for h in ["Walk", "Subject", "Class", "Frames", "fps", "Problems"] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
    };
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y + 2.0;
    // Only the visible rows are laid out, so thousands of generated walks stay cheap.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show_rows(ui, row_h, rows.len() + 1, |ui, range| {
            egui::Grid::new("walks")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for i in range {
                        if i == 0 {
                            header(ui);
                            continue;
                        }
                        let r = &rows[i - 1];
                        let selected = st.ws.selection.contains(&r.id);
                        let text = if r.synthetic {
                            format!("{} •", r.id)
                        } else {
                            r.id.clone()
                        };
                        let resp =
                            ui.selectable_label(selected, text)
                                .on_hover_text(if r.synthetic {
                                    "synthetic walk"
                                } else {
                                    "recorded walk"
                                });
                        if resp.clicked() {
                            st.commands.push(if ctrl {
                                Command::ToggleSelect(r.id.clone())
                            } else {
                                Command::Select(vec![r.id.clone()])
                            });
                        }
                        ui.label(&r.subject);
                        ui.label(&r.class);
                        ui.label(r.frames.to_string());
                        ui.label(format!("{:.0}", r.fps));
                        if r.problems.is_empty() {
                            ui.label("");
                        } else {
                            ui.colored_label(
                                Color32::from_rgb(240, 180, 60),
                                format!("{} problems", r.problems.len()),
                            )
                            .on_hover_text(r.problems.join("\n"));
                        }
                        ui.end_row();
                    }
                });
        });
    st.panels.dataset.cache = cache;
}
