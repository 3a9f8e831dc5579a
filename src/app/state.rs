//! The studio's model of an open project: the project file, the walks loaded from its sources
//! and generated sets, priors, selection, twin results and per-walk caches. No egui here:
//! panels read it and send [`crate::app::commands::Command`]s to change it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::core::biomech::priors::PriorSet;
use crate::core::biomech::{GaitAnalysis, NormativeBands, analyse};
use crate::core::data::preprocess::normalize_frame;
use crate::core::data::{Dataset, GaitSequence};
use crate::core::io::ImportReport;
use crate::core::project::Project;
use crate::core::twin::{TwinModel, TwinResult};

use super::render::scene::contact_flags;

/// A walk prepared for display: canonical frame (Z up, walking along +X) and foot contacts.
#[derive(Debug, Clone)]
pub struct DisplayWalk {
    /// The walk in the canonical frame.
    pub seq: GaitSequence,
    /// Foot-contact flags per frame, `[left, right]`.
    pub contacts: [Vec<bool>; 2],
}

/// The open project and everything loaded for it.
#[derive(Default)]
pub struct Workspace {
    /// The project as saved.
    pub project: Project,
    /// Its file (`None` until saved).
    pub path: Option<PathBuf>,
    /// Changed since the last save.
    pub dirty: bool,
    /// Recorded walks from the project's sources (demo or files).
    pub recorded: Vec<GaitSequence>,
    /// Import reports of the file sources (per-file warnings and errors).
    pub reports: Vec<ImportReport>,
    /// Walks of the project's generated sets.
    pub generated: Vec<GaitSequence>,
    /// Problems met loading generated sets (file, message).
    pub load_problems: Vec<String>,
    /// Priors of the recorded walks, once computed.
    pub priors: Option<Arc<PriorSet>>,
    /// External normative bands named by the project, if loaded.
    pub external_bands: Option<NormativeBands>,
    /// Selected walk ids, in selection order (the first is the "current" walk).
    pub selection: Vec<String>,
    /// The trained normative twin, if any.
    pub twin: Option<Arc<TwinModel>>,
    /// Twin results by walk id.
    pub twin_results: BTreeMap<String, TwinResult>,
    /// True once the project's data finished loading.
    pub loaded: bool,
    display: HashMap<String, Arc<DisplayWalk>>,
    analyses: HashMap<String, Arc<Result<GaitAnalysis, String>>>,
}

impl Workspace {
    /// A workspace for `project` stored at `path`, with no data loaded yet.
    #[must_use]
    pub fn new(project: Project, path: Option<PathBuf>) -> Self {
        Self {
            project,
            path,
            ..Self::default()
        }
    }

    /// Folder relative paths in the project resolve against.
    #[must_use]
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Folder for generated data and models (`<stem>.data` beside the project file, or
    /// `projects/untitled.data` for an unsaved project).
    #[must_use]
    pub fn data_dir(&self) -> PathBuf {
        Project::data_dir(
            self.path
                .as_deref()
                .unwrap_or(Path::new("projects/untitled.ron")),
        )
    }

    /// Every walk: recorded first, then generated.
    pub fn walks(&self) -> impl Iterator<Item = &GaitSequence> {
        self.recorded.iter().chain(self.generated.iter())
    }

    /// A walk by id.
    #[must_use]
    pub fn walk(&self, id: &str) -> Option<&GaitSequence> {
        self.walks().find(|s| s.id == id)
    }

    /// The recorded walks as a dataset (what priors, training and the twin use).
    #[must_use]
    pub fn recorded_dataset(&self) -> Dataset {
        Dataset::new(self.project.name.clone(), self.recorded.clone())
    }

    /// Distinct subjects among the recorded walks (no copy of the walks: called every frame).
    #[must_use]
    pub fn subject_count(&self) -> usize {
        let mut v: Vec<&str> = self.recorded.iter().map(|s| s.subject.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }

    /// The class treated as normal: the project's setting, else the priors' choice.
    #[must_use]
    pub fn normal_class(&self) -> Option<String> {
        self.project
            .normal_class
            .clone()
            .or_else(|| self.priors.as_ref().and_then(|p| p.normal_class.clone()))
    }

    /// Class labels of the recorded walks.
    #[must_use]
    pub fn classes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .recorded
            .iter()
            .filter_map(|s| s.label.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The walk prepared for display (cached).
    pub fn display(&mut self, id: &str) -> Option<Arc<DisplayWalk>> {
        if let Some(d) = self.display.get(id) {
            return Some(d.clone());
        }
        let mut seq = self.walk(id)?.clone();
        if !seq.canonical {
            normalize_frame(&mut seq);
        }
        let contacts = contact_flags(&seq);
        let d = Arc::new(DisplayWalk { seq, contacts });
        self.display.insert(id.to_string(), d.clone());
        Some(d)
    }

    /// Stores a walk's twin result and drops display copies of an earlier one.
    pub fn set_twin_result(&mut self, id: String, r: TwinResult) {
        for suffix in ["#original", "#twin"] {
            self.display.remove(&format!("{id}{suffix}"));
        }
        self.twin_results.insert(id, r);
    }

    /// The cached display copy stored under `key`, if any.
    #[must_use]
    pub fn cached_display(&self, key: &str) -> Option<Arc<DisplayWalk>> {
        self.display.get(key).cloned()
    }

    /// A twin-result sequence prepared for display under a synthetic id.
    pub fn display_of(&mut self, key: &str, seq: &GaitSequence) -> Arc<DisplayWalk> {
        if let Some(d) = self.display.get(key) {
            return d.clone();
        }
        let contacts = contact_flags(seq);
        let d = Arc::new(DisplayWalk {
            seq: seq.clone(),
            contacts,
        });
        self.display.insert(key.to_string(), d.clone());
        d
    }

    /// Gait analysis of a walk (cached; the error text when it cannot be analysed).
    pub fn analysis(&mut self, id: &str) -> Option<Arc<Result<GaitAnalysis, String>>> {
        if let Some(a) = self.analyses.get(id) {
            return Some(a.clone());
        }
        let a = Arc::new(analyse(self.walk(id)?).map_err(|e| e.to_string()));
        self.analyses.insert(id.to_string(), a.clone());
        Some(a)
    }

    /// Replaces the loaded data (after a load job) and clears caches.
    pub fn set_data(
        &mut self,
        recorded: Vec<GaitSequence>,
        reports: Vec<ImportReport>,
        generated: Vec<GaitSequence>,
        problems: Vec<String>,
    ) {
        self.recorded = recorded;
        self.reports = reports;
        self.generated = generated;
        self.load_problems = problems;
        self.display.clear();
        self.analyses.clear();
        self.priors = None;
        self.loaded = true;
        let ids: Vec<String> = self.walks().map(|s| s.id.clone()).collect();
        self.selection.retain(|s| ids.contains(s));
        if self.selection.is_empty()
            && let Some(first) = ids.first()
        {
            self.selection.push(first.clone());
        }
    }

    /// Adds generated walks (after generation) without touching the rest.
    pub fn add_generated(&mut self, walks: Vec<GaitSequence>) {
        self.generated.extend(walks);
    }

    /// Problems found in a walk, for the dataset table: import warnings or analysis failure.
    #[must_use]
    pub fn problems_of(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .reports
            .iter()
            .flat_map(|r| r.files.iter())
            .filter(|f| f.sequences.iter().any(|s| s == id))
            .flat_map(|f| f.warnings.iter().cloned())
            .collect();
        if let Some(p) = &self.priors
            && let Some((_, why)) = p.failed.iter().find(|(i, _)| i == id)
        {
            out.push(why.clone());
        }
        out
    }
}
