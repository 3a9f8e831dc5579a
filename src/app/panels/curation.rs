//! Curation & export: accept, reject, tag and annotate walks; export the curated set (npz,
//! CSV, C3D, TRC, BVH, Kinect CSV, with a RON+JSON manifest) through the same core code as
//! `pathogait export`, with progress in the jobs bar.

use std::path::PathBuf;

use egui::RichText;

use super::PanelCtx;
use crate::app::commands::{Command, CommandQueue, WalkSet};
use crate::app::state::Workspace;
use crate::core::data::{GaitSequence, Provenance};
use crate::core::export::{CurationEntry, Decision, ExportFormat, ExportOptions};

/// Curation panel state.
#[derive(Debug)]
pub struct CurationState {
    /// Walks listed and exported.
    pub which: WalkSet,
    /// Formats ticked.
    pub formats: Vec<ExportFormat>,
    /// Include walks nobody reviewed.
    pub include_pending: bool,
    /// Output folder.
    pub out: String,
    /// Tag being typed per walk.
    pub tag_edit: String,
    /// The listed rows and their decision counts, until the walks, the set or a decision
    /// changes.
    cache: Option<(CacheKey, Listed)>,
}

/// What the cached rows were built from: walks generation, set, curation revision (and the
/// selection, for the selected walks).
type CacheKey = (u64, WalkSet, u64, Vec<String>);

/// Rows (indices into the workspace catalog) and `[accepted, rejected, pending]`.
#[derive(Debug, Default)]
struct Listed {
    rows: Vec<u32>,
    counts: [usize; 3],
}

impl Default for CurationState {
    fn default() -> Self {
        Self {
            which: WalkSet::Generated,
            formats: vec![ExportFormat::Npz, ExportFormat::Csv],
            include_pending: false,
            out: "export".into(),
            tag_edit: String::new(),
            cache: None,
        }
    }
}

/// The walks a [`WalkSet`] names, by reference (the panel lists them every frame).
#[must_use]
pub fn walk_refs(ws: &Workspace, which: WalkSet) -> Vec<&GaitSequence> {
    let generated = |s: &&GaitSequence| matches!(s.provenance, Provenance::Generated { .. });
    match which {
        WalkSet::Selected => ws.selection.iter().filter_map(|id| ws.walk(id)).collect(),
        WalkSet::Recorded => ws.walks().filter(|s| !generated(s)).collect(),
        WalkSet::Generated => ws.walks().filter(generated).collect(),
        WalkSet::All => ws.walks().collect(),
    }
}

/// Copies of the walks a [`WalkSet`] names (what an export job takes with it).
#[must_use]
pub fn walks_for(ws: &Workspace, which: WalkSet) -> Vec<GaitSequence> {
    walk_refs(ws, which).into_iter().cloned().collect()
}

fn which_label(w: WalkSet) -> &'static str {
    match w {
        WalkSet::Selected => "selected walks",
        WalkSet::Recorded => "recorded walks",
        WalkSet::Generated => "generated walks",
        WalkSet::All => "all walks",
    }
}

/// Rebuilds the cached rows of `which` and their decision counts when something they show
/// changed.
fn refresh_listed(st: &mut PanelCtx<'_>) {
    let which = st.panels.curation.which;
    let selection = if which == WalkSet::Selected {
        st.ws.selection.clone()
    } else {
        Vec::new()
    };
    let key = (st.ws.generation, which, st.ws.curation_rev, selection);
    if st
        .panels
        .curation
        .cache
        .as_ref()
        .is_some_and(|(k, _)| *k == key)
    {
        return;
    }
    let ws = &*st.ws;
    let rows: Vec<u32> = if which == WalkSet::Selected {
        ws.selection
            .iter()
            .filter_map(|id| ws.row_of(id))
            .map(|i| i as u32)
            .collect()
    } else {
        let cat = ws.catalog();
        (0..cat.rows.len() as u32)
            .filter(|i| match which {
                WalkSet::Recorded => !cat.rows[*i as usize].generated,
                WalkSet::Generated => cat.rows[*i as usize].generated,
                _ => true,
            })
            .collect()
    };
    let mut counts = [0; 3];
    for i in &rows {
        let id = &ws.catalog().rows[*i as usize].id;
        match ws
            .project
            .curation
            .get(id)
            .map_or(Decision::Pending, |e| e.decision)
        {
            Decision::Accepted => counts[0] += 1,
            Decision::Rejected => counts[1] += 1,
            Decision::Pending => counts[2] += 1,
        }
    }
    st.panels.curation.cache = Some((key, Listed { rows, counts }));
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let c = &mut st.panels.curation;
    ui.horizontal(|ui| {
        ui.label("Walks");
        egui::ComboBox::from_id_salt("curation-which")
            .selected_text(which_label(c.which))
            .show_ui(ui, |ui| {
                for w in [
                    WalkSet::Generated,
                    WalkSet::Recorded,
                    WalkSet::Selected,
                    WalkSet::All,
                ] {
                    ui.selectable_value(&mut c.which, w, which_label(w));
                }
            });
    });
    refresh_listed(st);
    // Taken out for the frame (rows push commands), then put back.
    let Some((key, l)) = st.panels.curation.cache.take() else {
        return;
    };
    let [accepted, rejected, pending] = l.counts;
    ui.label(format!(
        "{} walks: {accepted} accepted, {rejected} rejected, {pending} pending",
        l.rows.len()
    ));
    export_form(st, ui, l.rows.len());
    ui.separator();
    let tag = st.panels.curation.tag_edit.clone();
    ui.horizontal(|ui| {
        ui.label("Tag to add with +");
        ui.text_edit_singleline(&mut st.panels.curation.tag_edit);
    });
    let row_h = ui.spacing().interact_size.y + ui.spacing().item_spacing.y + 2.0;
    // Only the visible rows are laid out: every walk is reachable by scrolling, at any size.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show_rows(ui, row_h, l.rows.len() + 1, |ui, range| {
            egui::Grid::new("curation")
                .striped(true)
                .min_row_height(row_h - ui.spacing().item_spacing.y)
                .show(ui, |ui| {
                    for i in range {
                        if i == 0 {
                            for h in ["Walk", "Class", "Decision", "Tags", "Note", ""] {
                                ui.label(RichText::new(h).strong());
                            }
                            ui.end_row();
                            continue;
                        }
                        let r = &st.ws.catalog().rows[l.rows[i - 1] as usize];
                        // No entry yet means pending, untagged, without a note.
                        let entry = st
                            .ws
                            .project
                            .curation
                            .get(&r.id)
                            .cloned()
                            .unwrap_or_default();
                        curation_row(ui, st.commands, &r.id, &r.class, &entry, &tag);
                        ui.end_row();
                    }
                });
        });
    st.panels.curation.cache = Some((key, l));
}

/// One walk's row: decision buttons, tags (remove with ×, add the tag being edited with +),
/// note and a View button; every change is a command.
fn curation_row(
    ui: &mut egui::Ui,
    pending: &mut CommandQueue,
    id: &str,
    class: &str,
    entry: &CurationEntry,
    tag: &str,
) {
    ui.label(id);
    ui.label(class);
    ui.horizontal(|ui| {
        for (d, t) in [
            (Decision::Accepted, "accept"),
            (Decision::Pending, "pending"),
            (Decision::Rejected, "reject"),
        ] {
            if ui.selectable_label(entry.decision == d, t).clicked() && entry.decision != d {
                pending.push(Command::Curate(
                    id.to_string(),
                    CurationEntry {
                        decision: d,
                        ..entry.clone()
                    },
                ));
            }
        }
    });
    ui.horizontal(|ui| {
        for t in &entry.tags {
            if ui
                .small_button(format!("{t} ×"))
                .on_hover_text("remove tag")
                .clicked()
            {
                let tags = entry.tags.iter().filter(|x| *x != t).cloned().collect();
                pending.push(Command::Curate(
                    id.to_string(),
                    CurationEntry {
                        tags,
                        ..entry.clone()
                    },
                ));
            }
        }
        if !tag.trim().is_empty()
            && !entry.tags.contains(&tag.trim().to_string())
            && ui.small_button("+").clicked()
        {
            let mut tags = entry.tags.clone();
            tags.push(tag.trim().to_string());
            pending.push(Command::Curate(
                id.to_string(),
                CurationEntry {
                    tags,
                    ..entry.clone()
                },
            ));
        }
    });
    let mut note = entry.note.clone();
    if ui
        .add(egui::TextEdit::singleline(&mut note).desired_width(180.0))
        .changed()
    {
        pending.push(Command::Curate(
            id.to_string(),
            CurationEntry {
                note,
                ..entry.clone()
            },
        ));
    }
    if ui.button("View").clicked() {
        pending.push(Command::Select(vec![id.to_string()]));
    }
}

fn export_form(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, n: usize) {
    let exporting = st.busy("Exporting");
    let c = &mut st.panels.curation;
    egui::CollapsingHeader::new("Export the curated set")
        .default_open(true)
        .id_salt("export")
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for f in ExportFormat::ALL {
                    let mut on = c.formats.contains(&f);
                    if ui.checkbox(&mut on, f.name()).changed() {
                        if on {
                            c.formats.push(f);
                        } else {
                            c.formats.retain(|x| *x != f);
                        }
                    }
                }
            });
            ui.checkbox(
                &mut c.include_pending,
                "include walks not reviewed yet (rejected walks are always left out)",
            );
            ui.horizontal(|ui| {
                ui.label("Folder");
                ui.text_edit_singleline(&mut c.out);
                if ui.button("Browse…").clicked()
                    && let Some(p) = rfd::FileDialog::new().pick_folder()
                {
                    c.out = p.display().to_string();
                }
                let ok = !exporting && n > 0 && !c.formats.is_empty() && !c.out.trim().is_empty();
                if ui
                    .add_enabled(
                        ok,
                        egui::Button::new(format!("Export {}", which_label(c.which))),
                    )
                    .clicked()
                {
                    st.commands.push(Command::Export {
                        which: c.which,
                        options: ExportOptions {
                            formats: c.formats.clone(),
                            include_pending: c.include_pending,
                        },
                        out: PathBuf::from(c.out.trim()),
                    });
                }
            });
        });
}
