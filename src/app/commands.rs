//! What panels ask the studio to do ([`Command`]) and what background jobs hand back
//! ([`Output`]). Panels never mutate the project directly; the studio applies commands after
//! the frame's panels ran, in order.

use std::path::PathBuf;

use crate::core::biomech::priors::PriorSet;
use crate::core::demo::DemoConfig;
use crate::core::export::{CurationEntry, ExportOptions};
use crate::core::model::bundle::TrainPlan;
use crate::core::model::generate::Sampling;
use crate::core::model::prompt::Prompt;
use crate::core::model::vocab::Vocab;
use crate::core::project::{GeneratedSet, ModelRef, Project, SavedPrompt};
use crate::core::report::ReportFormat;
use crate::core::report::pages::Paper;
use crate::core::twin::{TwinModel, TwinResult};

use super::catalog::{GeneratedWalks, LoadedWalks};
use crate::core::eval::EvalConfig;
use crate::core::eval::scarcity::EvalRun;
use crate::core::project::EvaluationRef;

/// Which walks an export or report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkSet {
    /// The current selection.
    Selected,
    /// Recorded walks.
    Recorded,
    /// Generated walks.
    Generated,
    /// Both.
    All,
}

/// A request from a panel.
#[derive(Debug, Clone)]
pub enum Command {
    /// Replace the project by a new one on the embedded demo data of these settings.
    NewProject(DemoConfig),
    /// Replace the project's demo data source by these settings and reload.
    SetDemo(DemoConfig),
    /// Open a project file.
    OpenProject(PathBuf),
    /// Save to the current file (asks for one when unsaved: see `SaveProjectAs`).
    SaveProject,
    /// Save under a new file name.
    SaveProjectAs(PathBuf),
    /// Add files or a folder as a data source and reload.
    Import(PathBuf),
    /// Select exactly these walks.
    Select(Vec<String>),
    /// Add or remove one walk from the selection.
    ToggleSelect(String),
    /// Compute priors of the recorded walks.
    ComputePriors,
    /// Train a generator.
    Train {
        /// Plan (boxed: the largest of the commands by far).
        plan: Box<TrainPlan>,
        /// Model name (also its folder name).
        name: String,
    },
    /// Generate a batch and store it as a generated set.
    Generate {
        /// Model index in the project.
        model: usize,
        /// Prompt.
        prompt: Prompt,
        /// Sampling.
        sampling: Sampling,
        /// Set name.
        set_name: String,
    },
    /// Save a prompt into the project.
    SavePrompt(SavedPrompt),
    /// Set the curation entry of a walk.
    Curate(String, CurationEntry),
    /// Export walks.
    Export {
        /// Which walks.
        which: WalkSet,
        /// Formats etc.
        options: ExportOptions,
        /// Output folder.
        out: PathBuf,
    },
    /// Train the normative twin on the normal class.
    TrainTwin,
    /// Run the twin on a walk.
    AnalyseTwin(String),
    /// Make the gait report of the selection: write it (when the spec names a folder) and
    /// hand back its page images for the preview.
    Report(ReportSpec),
    /// Run an evaluation of the recorded walks in the background.
    Evaluate(Box<EvalSpec>),
    /// Read a finished evaluation's folder into the Evaluation panel.
    OpenEvaluation(PathBuf),
    /// Save the viewport as PNG.
    CapturePng(PathBuf),
    /// Save the playback as GIF (`true`) or numbered PNGs into a folder (`false`).
    CapturePlayback(PathBuf, bool),
    /// Cancel a job by id.
    Cancel(u64),
    /// Set the project's normal class.
    SetNormalClass(Option<String>),
}

/// What a gait report from the studio covers and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Folder to write `report.<ext>` into; `None`: preview only.
    pub dir: Option<PathBuf>,
    /// File format.
    pub format: ReportFormat,
    /// Paper of the pages (PDF and preview).
    pub paper: Paper,
    /// With two walks selected: report on the first, compared with the second.
    pub compare: bool,
    /// Add the trained normative twin's flags and curves.
    pub twin: bool,
}

/// One rendered report page: width, height, RGBA bytes.
pub type PageImage = (u32, u32, Vec<u8>);

/// An evaluation the Evaluation panel asks for.
#[derive(Debug, Clone)]
pub struct EvalSpec {
    /// Name (its folder under the project's data folder).
    pub name: String,
    /// Settings.
    pub config: EvalConfig,
    /// Real-subject cuts of a scarcity curve (`None`: all); empty: one plain run.
    pub cuts: Vec<Option<usize>>,
}

/// What a finished job hands back.
pub enum Output {
    /// A project's data.
    Loaded {
        /// The project the data belongs to (so a stale load cannot land on another one).
        project: Box<Project>,
        /// Its file.
        path: Option<PathBuf>,
        /// Recorded and generated walks, import reports and problems, indexed on the job's
        /// thread.
        walks: Box<LoadedWalks>,
    },
    /// Priors.
    /// Priors, with the prompt vocabulary they give before any model exists (built on the
    /// job's thread: it takes every walk's priors).
    Priors(Box<PriorSet>, Box<Vocab>),
    /// A trained model saved in the project's data folder.
    Trained(ModelRef, String),
    /// A generated set with its walks.
    Generated(GeneratedSet, Box<GeneratedWalks>),
    /// A trained twin.
    Twin(Box<TwinModel>),
    /// A twin result for a walk.
    TwinResult(String, Box<TwinResult>),
    /// A finished task with a message for the user.
    Message(String),
    /// A finished evaluation read back from its folder, and its record for the project (`None`
    /// when an existing folder was only opened).
    Evaluation(Box<EvalRun>, Option<EvaluationRef>),
    /// A gait report: what was done, the report's title and its pages as images.
    Report {
        /// Message for the user.
        message: String,
        /// Report title.
        title: String,
        /// Page images.
        pages: Vec<PageImage>,
    },
}

/// The panels' command sender: commands queued during a frame, applied by the studio after
/// the panels ran (so a panel never changes what another panel of the same frame reads).
#[derive(Debug, Default)]
pub struct CommandQueue {
    queue: Vec<Command>,
}

impl CommandQueue {
    /// Queues a command.
    pub fn push(&mut self, c: Command) {
        self.queue.push(c);
    }

    /// Takes every queued command, in order.
    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.queue)
    }

    /// Number of queued commands.
    #[must_use]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
