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
    /// Bumped whenever the walks, their problems or the priors change: views built from them
    /// (the browser's rows) are cached until it moves.
    pub generation: u64,
    /// Walk id -> (generated, index into `recorded` or `generated`), built once per change so
    /// a lookup by id never scans the walks.
    index: HashMap<String, (bool, usize)>,
    /// Walk id -> import warnings and analysis failure, built once per change (the table asked
    /// for each row every frame, scanning every file report: quadratic in the walks).
    problems: HashMap<String, Vec<String>>,
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
        match *self.index.get(id)? {
            (false, i) => self.recorded.get(i),
            (true, i) => self.generated.get(i),
        }
    }

    /// Rebuilds the id index and the problems after the walks or the priors changed.
    fn reindex(&mut self) {
        self.index = self
            .recorded
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), (false, i)))
            .chain(
                self.generated
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.id.clone(), (true, i))),
            )
            .collect();
        let mut problems: HashMap<String, Vec<String>> = HashMap::new();
        for f in self.reports.iter().flat_map(|r| r.files.iter()) {
            if f.warnings.is_empty() {
                continue;
            }
            for id in &f.sequences {
                problems
                    .entry(id.clone())
                    .or_default()
                    .extend(f.warnings.iter().cloned());
            }
        }
        if let Some(p) = &self.priors {
            for (id, why) in &p.failed {
                problems.entry(id.clone()).or_default().push(why.clone());
            }
        }
        self.problems = problems;
        self.generation += 1;
    }

    /// Sets the priors of the recorded walks (their failures become problems).
    pub fn set_priors(&mut self, priors: Arc<PriorSet>) {
        self.priors = Some(priors);
        self.reindex();
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
        self.reindex();
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
        self.reindex();
    }

    /// Problems found in a walk, for the dataset table: import warnings or analysis failure
    /// (a lookup in the index built when the data or priors changed).
    #[must_use]
    pub fn problems_of(&self, id: &str) -> &[String] {
        self.problems.get(id).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{DemoConfig, demo_dataset};
    use crate::core::io::import::FileReport;
    use crate::core::jobs::{CancelToken, NoProgress};

    /// 7,200 walks (the reference dataset's size), one file report each, every tenth with a
    /// warning, half of them generated: lookups by id and problems come from the indices.
    #[test]
    fn walks_and_problems_are_found_by_id_at_reference_size() {
        let cfg = DemoConfig {
            subjects: 1,
            trials: 1,
            duration_s: 2.0,
            ..DemoConfig::default()
        };
        let demo = demo_dataset(&cfg, &NoProgress, &CancelToken::new()).unwrap();
        let walk = |i: usize| {
            let mut w = demo.sequences[i % demo.sequences.len()].clone();
            w.id = format!("walk{i}");
            w
        };
        let files = (0..3600)
            .map(|i| FileReport {
                path: PathBuf::from(format!("f{i}.csv")),
                sequences: vec![format!("walk{i}")],
                warnings: if i % 10 == 0 {
                    vec![format!("repaired f{i}")]
                } else {
                    Vec::new()
                },
                error: None,
            })
            .collect();
        let mut ws = Workspace::default();
        let report = ImportReport {
            files,
            ..ImportReport::default()
        };
        ws.set_data(
            (0..3600).map(walk).collect(),
            vec![report],
            Vec::new(),
            Vec::new(),
        );
        let g0 = ws.generation;
        ws.add_generated((3600..7200).map(walk).collect());
        assert!(ws.generation > g0, "views rebuild after new walks");
        assert_eq!(ws.walk("walk7199").map(|w| w.id.as_str()), Some("walk7199"));
        assert_eq!(ws.walk("walk17").map(|w| w.id.as_str()), Some("walk17"));
        assert!(ws.walk("nobody").is_none());
        assert_eq!(ws.problems_of("walk30"), ["repaired f30".to_string()]);
        assert!(ws.problems_of("walk31").is_empty());
        assert!(ws.problems_of("walk7190").is_empty(), "generated: no file");
        let with_problems = ws
            .walks()
            .filter(|w| !ws.problems_of(&w.id).is_empty())
            .count();
        assert_eq!(with_problems, 360);
    }
}
