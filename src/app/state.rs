//! The studio's model of an open project: the project file, the walks loaded from its sources
//! and generated sets, priors, selection, twin results and per-walk caches. No egui here:
//! panels read it and send [`crate::app::commands::Command`]s to change it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::core::biomech::priors::PriorSet;
use crate::core::biomech::{GaitAnalysis, NormativeBands, analyse};
use crate::core::data::preprocess::normalize_frame;
use crate::core::data::{Dataset, GaitSequence};
use crate::core::io::ImportReport;
use crate::core::project::Project;
use crate::core::twin::{TwinModel, TwinResult};

use super::catalog::{Catalog, GeneratedWalks, LoadedWalks};
use super::render::scene::contact_flags;

/// Source of [`Workspace::generation`] values: unique across workspaces, so a view cached
/// for one project can never be taken for another's.
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

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
    /// Recorded walks from the project's sources (demo or files), shared with the jobs that
    /// read them (priors) instead of copied: at 100,000 walks a copy takes seconds.
    pub recorded: Arc<Vec<GaitSequence>>,
    /// Import reports of the file sources (per-file warnings and errors).
    pub reports: Vec<ImportReport>,
    /// Walks of the project's generated sets.
    pub generated: Vec<GaitSequence>,
    /// Problems met loading generated sets (file, message).
    pub load_problems: Vec<String>,
    /// Priors of the recorded walks, once computed.
    pub priors: Option<Arc<PriorSet>>,
    /// The prompt vocabulary of those priors (see `actions::priors_vocab`): built by the
    /// priors job, or by the prompt composer when priors came without it.
    pub priors_vocab: Option<Arc<crate::core::model::vocab::Vocab>>,
    /// External normative bands named by the project, if loaded.
    pub external_bands: Option<NormativeBands>,
    /// Selected walk ids, in selection order (the first is the "current" walk). Change it
    /// with [`Workspace::select`] and [`Workspace::toggle`], which keep the lookup set.
    pub selection: Vec<String>,
    /// The selection as a set: the browser asks each visible row whether it is selected.
    selected: HashSet<String>,
    /// The trained normative twin, if any.
    pub twin: Option<Arc<TwinModel>>,
    /// Twin results by walk id.
    pub twin_results: BTreeMap<String, TwinResult>,
    /// Evaluations read back (run here, or opened), the last shown first in the panel.
    pub evaluations: Vec<Arc<crate::core::eval::scarcity::EvalRun>>,
    /// True once the project's data finished loading.
    pub loaded: bool,
    /// Changes whenever the walks, their problems or the priors change (unique across
    /// workspaces): views built from them (the browser's rows, the priors plot) are cached
    /// until it moves.
    pub generation: u64,
    /// Changes whenever a curation entry changes (the curation table's counts are cached).
    pub curation_rev: u64,
    /// Every walk's display row (built with the indices).
    catalog: Catalog,
    /// Walk id -> (generated, index into `recorded` or `generated`), built once per change so
    /// a lookup by id never scans the walks.
    index: HashMap<String, (bool, usize)>,
    /// Walk id -> import warnings and analysis failure, built once per change (the table asked
    /// for each row every frame, scanning every file report: quadratic in the walks).
    problems: HashMap<String, Vec<String>>,
    /// Walk id -> import warnings of its file.
    file_problems: HashMap<String, Vec<String>>,
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

    /// A path the project names: relative ones against [`Self::base_dir`], absolute ones as
    /// they are (`Path::join` keeps an absolute path whole).
    #[must_use]
    pub fn resolve(&self, p: &Path) -> PathBuf {
        self.base_dir().join(p)
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

    /// Rebuilds each walk's problems: import warnings, then analysis failures.
    fn index_problems(&mut self) {
        let mut problems = self.file_problems.clone();
        if let Some(p) = &self.priors {
            for (id, why) in &p.failed {
                problems.entry(id.clone()).or_default().push(why.clone());
            }
        }
        self.problems = problems;
        self.generation = next_generation();
    }

    /// Sets the priors of the recorded walks (their failures become problems). The walks did
    /// not change, so only the problems are rebuilt.
    pub fn set_priors(&mut self, priors: Arc<PriorSet>) {
        self.priors = Some(priors);
        // Built from the priors: the priors job sets it again, the prompt composer otherwise.
        self.priors_vocab = None;
        self.index_problems();
        self.catalog.set_problems(&self.problems);
    }

    /// Index of a walk's row in [`Workspace::catalog`].
    #[must_use]
    pub fn row_of(&self, id: &str) -> Option<usize> {
        match *self.index.get(id)? {
            (false, i) => Some(i),
            (true, i) => Some(self.recorded.len() + i),
        }
    }

    /// Every walk's display row, recorded first, then generated.
    #[must_use]
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Sets a walk's curation entry.
    pub fn curate(&mut self, id: String, entry: crate::core::export::CurationEntry) {
        self.project.curation.insert(id, entry);
        self.dirty = true;
        self.curation_rev = next_generation();
    }

    /// A copy of the recorded walks as a dataset (what training and the twin take along).
    #[must_use]
    pub fn recorded_dataset(&self) -> Dataset {
        Dataset::new(self.project.name.clone(), self.recorded.to_vec())
    }

    /// Distinct subjects among the recorded walks (counted once per change).
    #[must_use]
    pub fn subject_count(&self) -> usize {
        self.catalog.recorded_subjects
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
        self.catalog.recorded_classes.clone()
    }

    /// True when there are recorded walks and every one is synthetic (the demo data).
    #[must_use]
    pub fn synthetic_recorded(&self) -> bool {
        self.catalog.synthetic_recorded
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

    /// Replaces the loaded data and clears caches (building the indices here; the studio's
    /// load job builds them on its own thread, see [`LoadedWalks`]).
    pub fn set_data(
        &mut self,
        recorded: Vec<GaitSequence>,
        reports: Vec<ImportReport>,
        generated: Vec<GaitSequence>,
        problems: Vec<String>,
    ) {
        self.set_loaded(LoadedWalks::new(recorded, reports, generated, problems));
    }

    /// Takes in loaded walks with their indices: a move, whatever their number. The walks
    /// they replace are freed on a thread of their own (freeing 100,000 walks takes longer
    /// than a frame).
    pub fn set_loaded(&mut self, w: LoadedWalks) {
        let old = (
            std::mem::replace(&mut self.recorded, Arc::new(w.recorded)),
            std::mem::replace(&mut self.generated, w.generated),
            std::mem::take(&mut self.display),
            std::mem::take(&mut self.analyses),
        );
        if !old.0.is_empty() || !old.1.is_empty() {
            let _ = std::thread::Builder::new()
                .name("pathogait-free".into())
                .spawn(move || drop(old));
        }
        self.reports = w.reports;
        self.load_problems = w.load_problems;
        self.index = w.index;
        self.file_problems = w.file_problems;
        self.catalog = w.catalog;
        self.priors = None;
        self.priors_vocab = None;
        self.loaded = true;
        self.index_problems();
        let index = &self.index;
        let mut kept: Vec<String> = self
            .selection
            .iter()
            .filter(|s| index.contains_key(*s))
            .cloned()
            .collect();
        if kept.is_empty()
            && let Some(first) = self.walks().next()
        {
            kept.push(first.id.clone());
        }
        self.select(kept);
    }

    /// Selects `ids`, in this order.
    pub fn select(&mut self, ids: Vec<String>) {
        self.selected = ids.iter().cloned().collect();
        self.selection = ids;
    }

    /// Adds `id` to the selection, or removes it when it is selected.
    pub fn toggle(&mut self, id: String) {
        if self.selected.remove(&id) {
            self.selection.retain(|s| *s != id);
        } else {
            self.selected.insert(id.clone());
            self.selection.push(id);
        }
    }

    /// True when `id` is selected (a set lookup).
    #[must_use]
    pub fn is_selected(&self, id: &str) -> bool {
        self.selected.contains(id)
    }

    /// Adds generated walks: the indices and rows grow by the new walks only.
    pub fn add_generated(&mut self, walks: Vec<GaitSequence>) {
        self.add_generated_built(GeneratedWalks::new(walks));
    }

    /// Adds generated walks whose rows were built beforehand (on the generation job's
    /// thread).
    pub fn add_generated_built(&mut self, g: GeneratedWalks) {
        let base = self.generated.len();
        self.index.reserve(g.walks.len());
        for (i, w) in g.walks.iter().enumerate() {
            self.index.insert(w.id.clone(), (true, base + i));
        }
        self.catalog.extend(g.rows);
        self.generated.extend(g.walks);
        self.generation = next_generation();
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
