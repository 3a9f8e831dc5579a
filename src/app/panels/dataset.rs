//! Dataset browser: import, search and filter, the table of walks (subject, class, frames,
//! fps, problems), per-file import warnings, selection (click; Ctrl-click adds).

use egui::{Color32, RichText};

use super::PanelCtx;
use crate::app::catalog::{Filter, Sort, SortKey, SourceFilter};
use crate::app::commands::Command;

/// The filtered, sorted row indices and what they were built from.
#[derive(Debug, Default)]
struct RowCache {
    key: Option<(u64, Filter, Sort)>,
    rows: Vec<u32>,
}

/// Browser state.
#[derive(Debug, Default)]
pub struct BrowserState {
    /// Search text, class, source and problems filters.
    pub filter: Filter,
    /// Sort column and direction (click a header; again to reverse).
    pub sort: Sort,
    /// The rows of the last frame, rebuilt only when the data, a filter or the sort changed.
    cache: RowCache,
}

impl BrowserState {
    /// Row indices into [`crate::app::catalog::Catalog::rows`] the table lists now.
    #[must_use]
    pub fn rows(&self) -> &[u32] {
        &self.cache.rows
    }
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
    if st.ws.synthetic_recorded() {
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
    let b = &mut st.panels.dataset.filter;
    ui.horizontal(|ui| {
        ui.label("Search");
        ui.text_edit_singleline(&mut b.search);
    });
    let classes = &st.ws.catalog().classes;
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("class-filter")
            .selected_text(if b.class.is_empty() {
                "all classes"
            } else {
                b.class.as_str()
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut b.class, String::new(), "all classes");
                for c in classes {
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
    super::demo_settings::show(st, ui);
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

/// Rebuilds the cached row indices when the data, a filter or the sort changed.
fn refresh_rows(st: &mut PanelCtx<'_>) {
    let b = &st.panels.dataset;
    let key = (st.ws.generation, b.filter.clone(), b.sort);
    if b.cache.key.as_ref() != Some(&key) {
        let catalog = st.ws.catalog();
        let mut rows = catalog.filter(&key.1);
        catalog.sort(&mut rows, key.2);
        st.panels.dataset.cache = RowCache {
            key: Some(key),
            rows,
        };
    }
}

/// Column headers: click to sort by the column, again to reverse, a third time for load order.
fn header(ui: &mut egui::Ui, sort: &mut Sort) {
    for (h, key) in [
        ("Walk", SortKey::Walk),
        ("Subject", SortKey::Subject),
        ("Class", SortKey::Class),
        ("Frames", SortKey::Frames),
        ("fps", SortKey::Fps),
        ("Problems", SortKey::Problems),
    ] {
        let mark = match (sort.key == key, sort.descending) {
            (true, false) => " ⏶",
            (true, true) => " ⏷",
            (false, _) => "",
        };
        let r = ui
            .add(egui::Button::new(RichText::new(format!("{h}{mark}")).strong()).frame(false))
            .on_hover_text("sort by this column (again: reverse; a third time: load order)");
        if r.clicked() {
            *sort = match (sort.key == key, sort.descending) {
                (false, _) => Sort {
                    key,
                    descending: false,
                },
                (true, false) => Sort {
                    key,
                    descending: true,
                },
                (true, true) => Sort::default(),
            };
        }
    }
    ui.end_row();
}

fn table(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    refresh_rows(st);
    // Taken out for the frame (commands go to the queue meanwhile), then put back.
    let cache = std::mem::take(&mut st.panels.dataset.cache);
    let mut sort = st.panels.dataset.sort;
    let ctrl = ui.input(|i| i.modifiers.command || i.modifiers.ctrl);
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y + 2.0;
    ui.label(
        RichText::new(format!(
            "{} of {} walks listed",
            cache.rows.len(),
            st.ws.catalog().rows.len()
        ))
        .weak(),
    );
    // Only the visible rows are laid out, so 100,000 walks cost what 30 do.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show_rows(ui, row_h, cache.rows.len() + 1, |ui, range| {
            egui::Grid::new("walks")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for i in range {
                        if i == 0 {
                            header(ui, &mut sort);
                            continue;
                        }
                        let r = &st.ws.catalog().rows[cache.rows[i - 1] as usize];
                        let selected = st.ws.is_selected(&r.id);
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
                        if r.problems == 0 {
                            ui.label("");
                        } else {
                            ui.colored_label(
                                Color32::from_rgb(240, 180, 60),
                                format!("{} problems", r.problems),
                            )
                            .on_hover_ui(|ui| {
                                ui.label(st.ws.problems_of(&r.id).join("\n"));
                            });
                        }
                        ui.end_row();
                    }
                });
        });
    st.panels.dataset.cache = cache;
    st.panels.dataset.sort = sort;
}
