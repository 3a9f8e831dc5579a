//! The demo data's settings, shown in the dataset browser when the project uses the embedded
//! demo data: subjects, walks, the class set (reference six or extended), the subjects' ages
//! and festination; "Regenerate" replaces the demo source and reloads.

use egui::RichText;

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::demo::age::AGE_RANGE;
use crate::core::demo::{ClassSet, DemoConfig};
use crate::core::project::DataSource;

/// The settings being edited, started from the project's demo source.
#[derive(Debug, Default)]
pub struct DemoDraft {
    draft: Option<DemoConfig>,
    /// The project settings the draft started from: another project, or regenerated data,
    /// starts a new draft.
    base: Option<DemoConfig>,
}

impl DemoDraft {
    /// The settings being edited, once the settings were shown.
    #[must_use]
    pub fn draft(&self) -> Option<&DemoConfig> {
        self.draft.as_ref()
    }
}

/// The project's demo settings, if it has demo data.
fn project_demo(st: &PanelCtx<'_>) -> Option<DemoConfig> {
    st.ws.project.sources.iter().find_map(|s| match s {
        DataSource::Demo(c) => Some(c.clone()),
        DataSource::Files { .. } => None,
    })
}

/// One line naming the demo data's classes and ages.
#[must_use]
pub fn summary(c: &DemoConfig) -> String {
    let ages = c.ages.map_or_else(
        || "adults".to_string(),
        |a| format!("ages {:.0}-{:.0} y", a[0], a[1]),
    );
    format!(
        "{} subjects x {} classes ({}) x {} walks, {ages}",
        c.subjects,
        c.classes.classes().len(),
        c.classes.label(),
        c.trials
    )
}

/// Draws the settings (collapsed) when the project has demo data.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let Some(current) = project_demo(st) else {
        return;
    };
    let header = format!("Demo data: {}", summary(&current));
    let state = &mut st.panels.demo;
    if state.base.as_ref() != Some(&current) {
        state.base = Some(current.clone());
        state.draft = None;
    }
    egui::CollapsingHeader::new(header)
        .id_salt("demo-settings")
        .show(ui, |ui| {
            let d = st.panels.demo.draft.get_or_insert_with(|| current.clone());
            egui::Grid::new("demo-settings-grid")
                .num_columns(2)
                .show(ui, |ui| {
                    ui.label("Classes");
                    egui::ComboBox::from_id_salt("demo-classes")
                        .selected_text(d.classes.label())
                        .show_ui(ui, |ui| {
                            for c in [ClassSet::ReferenceSix, ClassSet::Extended] {
                                ui.selectable_value(&mut d.classes, c, c.label());
                            }
                        });
                    ui.end_row();
                    ui.label("Subjects");
                    ui.add(egui::DragValue::new(&mut d.subjects).range(1..=500));
                    ui.end_row();
                    ui.label("Walks per subject and class");
                    ui.add(egui::DragValue::new(&mut d.trials).range(1..=200));
                    ui.end_row();
                    ui.label("Ages");
                    ui.horizontal(|ui| {
                        let mut aged = d.ages.is_some();
                        ui.checkbox(&mut aged, "from age norms").on_hover_text(
                            "Body size, proportions, cadence, speed and stance follow \
                                 published age norms; subjects spread evenly over the range",
                        );
                        if aged {
                            let a = d.ages.get_or_insert([AGE_RANGE.0, AGE_RANGE.1]);
                            ui.add(
                                egui::DragValue::new(&mut a[0])
                                    .range(AGE_RANGE.0..=AGE_RANGE.1)
                                    .suffix(" y"),
                            );
                            ui.label("to");
                            ui.add(
                                egui::DragValue::new(&mut a[1])
                                    .range(AGE_RANGE.0..=AGE_RANGE.1)
                                    .suffix(" y"),
                            );
                        } else {
                            d.ages = None;
                            ui.label(RichText::new("adults, 1.55-1.90 m").weak());
                        }
                    });
                    ui.end_row();
                    ui.label("Festination");
                    ui.checkbox(
                        &mut d.festination,
                        "Parkinsonian walks of severity 0.7 or more",
                    );
                    ui.end_row();
                    ui.label("Seed");
                    ui.add(egui::DragValue::new(&mut d.seed));
                    ui.end_row();
                });
            let changed = *d != current;
            ui.horizontal(|ui| {
                let regenerate = ui
                    .add_enabled(changed, egui::Button::new("Regenerate demo data"))
                    .on_hover_text("Replaces the demo walks with these settings and reloads");
                if regenerate.clicked() {
                    st.commands.push(Command::SetDemo(d.clone()));
                }
                if changed && ui.button("Reset").clicked() {
                    *d = current.clone();
                }
            });
        });
}

/// The "New demo project" menu: the reference six or the extended set.
pub fn new_project_menu(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.menu_button("New demo project", |ui| {
        if ui
            .button("Reference six (adults)")
            .on_hover_text("The six classes of the Jun et al. 2020 Kinect dataset")
            .clicked()
        {
            st.commands.push(Command::NewProject(DemoConfig::default()));
            st.panels.demo.draft = None;
        }
        if ui
            .button("Extended (ten classes, ages 6-85)")
            .on_hover_text(
                "Adds Parkinsonian, crouch, hemiplegic and slow variable gait; subjects from \
                 children to older adults",
            )
            .clicked()
        {
            st.commands.push(Command::NewProject(extended()));
            st.panels.demo.draft = None;
        }
    });
}

/// The extended demo set as the studio offers it.
#[must_use]
pub fn extended() -> DemoConfig {
    DemoConfig {
        subjects: 8,
        classes: ClassSet::Extended,
        ages: Some([AGE_RANGE.0, AGE_RANGE.1]),
        festination: true,
        ..DemoConfig::default()
    }
}
