//! Background jobs: each long task (import, priors, training, generation, twin, export,
//! capture) runs on a named thread and reports through a bounded channel that the UI drains
//! once per frame, so the UI never waits on the core.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::core::jobs::{CancelToken, Progress};

/// Messages a worker sends. Progress counts are absolute, so a message dropped because the
/// channel is full costs nothing but one stale frame.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// A stage began.
    Stage {
        /// Description.
        name: String,
        /// Items in the stage.
        total: u64,
    },
    /// Items done so far in the stage, and the last item's description.
    Advance {
        /// Done so far.
        done: u64,
        /// Last item.
        item: String,
    },
    /// Named measurements (losses) at a step of the current stage.
    Metrics {
        /// Stage the step belongs to.
        stage: String,
        /// Step.
        step: u64,
        /// Values.
        values: Vec<(String, f64)>,
    },
}

enum Msg<T> {
    Event(JobEvent),
    Done(Result<T, String>),
}

/// The progress sink a worker gets: forwards to the channel without ever blocking.
struct ChannelProgress<T> {
    tx: Sender<Msg<T>>,
    done: AtomicU64,
    stage: Mutex<String>,
}

impl<T: Send> ChannelProgress<T> {
    fn send(&self, e: JobEvent) {
        match self.tx.try_send(Msg::Event(e)) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }
}

impl<T: Send> Progress for ChannelProgress<T> {
    fn start(&self, stage: &str, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.to_string();
        }
        self.send(JobEvent::Stage {
            name: stage.to_string(),
            total,
        });
    }

    fn advance(&self, n: u64, item: &str) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        self.send(JobEvent::Advance {
            done,
            item: item.to_string(),
        });
    }

    fn finish(&self) {}

    fn metrics(&self, step: u64, values: &[(&str, f64)]) {
        // A poisoned lock (a panicked job) only loses the stage name of a chart label.
        let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
        self.send(JobEvent::Metrics {
            stage,
            step,
            values: values.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
        });
    }
}

/// Channel capacity: enough for a few seconds of per-step messages between UI frames.
const CAPACITY: usize = 4096;

/// A running (or finished) background job as the UI sees it.
pub struct Job<T> {
    /// Unique id.
    pub id: u64,
    /// What it does, for the jobs bar.
    pub title: String,
    /// Current stage.
    pub stage: String,
    /// Items in the stage.
    pub total: u64,
    /// Items done.
    pub done: u64,
    /// Last item description.
    pub item: String,
    /// When the current stage started (for the ETA).
    pub stage_started: Instant,
    /// When the job started.
    pub started: Instant,
    /// Logged metrics: `"stage / name"` -> `(step, value)` points, for live plots.
    pub metrics: BTreeMap<String, Vec<[f64; 2]>>,
    cancel: CancelToken,
    rx: Receiver<Msg<T>>,
    thread: Option<JoinHandle<()>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a thread named `pathogait-<name>`.
    ///
    /// # Errors
    /// The OS refused to start a thread.
    pub fn spawn(
        name: &str,
        title: impl Into<String>,
        work: impl FnOnce(&dyn Progress, &CancelToken) -> Result<T, String> + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = bounded(CAPACITY);
        let cancel = CancelToken::new();
        let worker_cancel = cancel.clone();
        let thread = std::thread::Builder::new()
            .name(format!("pathogait-{name}"))
            .spawn(move || {
                let sink = ChannelProgress {
                    tx: tx.clone(),
                    done: AtomicU64::new(0),
                    stage: Mutex::new(String::new()),
                };
                // A panic in the core must reach the user as an error, not kill the studio.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(&sink, &worker_cancel)
                }))
                .unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    Err(format!("internal error: {msg}"))
                });
                // The final message must arrive: block until there is room.
                let _ = tx.send(Msg::Done(r));
            })?;
        let now = Instant::now();
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            title: title.into(),
            stage: "starting".into(),
            total: 0,
            done: 0,
            item: String::new(),
            stage_started: now,
            started: now,
            metrics: BTreeMap::new(),
            cancel,
            rx,
            thread: Some(thread),
        })
    }

    /// Asks the worker to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// True once cancellation was requested.
    #[must_use]
    pub fn is_cancelling(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Applies pending messages; returns the result once the worker finished.
    pub fn poll(&mut self) -> Option<Result<T, String>> {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Event(JobEvent::Stage { name, total }) => {
                    self.stage = name;
                    self.total = total;
                    self.done = 0;
                    self.item.clear();
                    self.stage_started = Instant::now();
                }
                Msg::Event(JobEvent::Advance { done, item }) => {
                    self.done = done;
                    self.item = item;
                }
                Msg::Event(JobEvent::Metrics {
                    stage,
                    step,
                    values,
                }) => {
                    for (k, v) in values {
                        if v.is_finite() {
                            self.metrics
                                .entry(format!("{stage} / {k}"))
                                .or_default()
                                .push([step as f64, v]);
                        }
                    }
                }
                Msg::Done(r) => {
                    if let Some(t) = self.thread.take() {
                        let _ = t.join();
                    }
                    return Some(r);
                }
            }
        }
        None
    }

    /// Fraction done in the current stage (0 when unknown).
    #[must_use]
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f32 / self.total as f32).clamp(0.0, 1.0)
        }
    }

    /// Estimated time left in the current stage, from its rate so far.
    #[must_use]
    pub fn eta(&self) -> Option<Duration> {
        if self.done == 0 || self.total <= self.done {
            return None;
        }
        let per = self.stage_started.elapsed().as_secs_f64() / self.done as f64;
        Some(Duration::from_secs_f64(
            per * (self.total - self.done) as f64,
        ))
    }

    /// Waits for the worker (tests and shutdown); returns its result.
    #[must_use]
    pub fn wait(mut self, timeout: Duration) -> Option<Result<T, String>> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(r) = self.poll() {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_reports_progress_metrics_and_result_on_a_named_thread() {
        let job = Job::spawn("test", "test job", |p, _c| {
            let name = std::thread::current().name().map(str::to_string);
            p.start("counting", 3);
            p.advance(1, "a");
            p.metrics(1, &[("loss", 0.5)]);
            p.advance(2, "c");
            Ok(name)
        })
        .unwrap();
        let mut job = job;
        let mut result = None;
        for _ in 0..1000 {
            if let Some(r) = job.poll() {
                result = Some(r);
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(result, Some(Ok(Some("pathogait-test".to_string()))));
        assert_eq!(
            (job.stage.as_str(), job.done, job.total),
            ("counting", 3, 3)
        );
        assert_eq!(job.metrics["counting / loss"], vec![[1.0, 0.5]]);
    }

    #[test]
    fn cancel_reaches_the_worker_and_panics_become_errors() {
        let job = Job::spawn("spin", "spin", |_p, c| {
            while !c.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err::<(), _>("cancelled".to_string())
        })
        .unwrap();
        job.cancel();
        assert_eq!(
            job.wait(Duration::from_secs(5)),
            Some(Err("cancelled".into()))
        );
        let job = Job::spawn("boom", "boom", |_p, _c| -> Result<(), String> {
            panic!("bad input")
        })
        .unwrap();
        let r = job.wait(Duration::from_secs(5));
        assert!(
            matches!(r, Some(Err(ref m)) if m.contains("bad input")),
            "{r:?}"
        );
    }
}
