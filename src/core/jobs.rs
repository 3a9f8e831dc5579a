//! Progress reporting and cancellation shared by the CLI (progress bars) and the studio.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress from long-running core work. Implementations must be cheap: the core
/// calls `advance` once per item.
pub trait Progress: Send + Sync {
    /// Starts a stage of `total` items with a short description.
    fn start(&self, stage: &str, total: u64);
    /// Marks `n` more items done; `item` names the last one (e.g. a file name).
    fn advance(&self, n: u64, item: &str);
    /// Ends the current stage.
    fn finish(&self);
    /// Named measurements at `step` of the current stage (losses, perplexity), for live plots.
    /// Sinks that only show progress ignore them.
    fn metrics(&self, _step: u64, _values: &[(&str, f64)]) {}
}

/// A progress sink that ignores everything (tests, library callers that do not care).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _stage: &str, _total: u64) {}
    fn advance(&self, _n: u64, _item: &str) {}
    fn finish(&self) {}
}

/// Cooperative cancellation flag, cloned into worker threads and checked between items.
#[derive(Debug, Default, Clone)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, not-cancelled token.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelToken::cancel`] was called on any clone.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Returned by work that stopped because its [`CancelToken`] was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;
