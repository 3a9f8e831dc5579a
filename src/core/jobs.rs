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

    /// `Err(Cancelled)` once cancelled: `cancel.check()?` between items.
    ///
    /// # Errors
    /// [`Cancelled`] when [`CancelToken::cancel`] was called.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Returned by work that stopped because its [`CancelToken`] was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Cores this process may use (1 when that cannot be read).
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `work(i, job)`, with a panic kept inside the job: it reports `lost()` instead of unwinding
/// into the caller (`std::thread::scope` and rayon would re-raise it there).
fn guarded<J, T, E>(
    work: &impl Fn(usize, &J) -> Result<T, E>,
    lost: &impl Fn() -> E,
    i: usize,
    job: &J,
) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(i, job)))
        .unwrap_or_else(|_| Err(lost()))
}

/// [`run_parallel`] on the process's long-lived worker pool (rayon's global pool, which the
/// CPU backend's own parallel kernels use too; named `pathogait-worker-N` when this is the
/// first use of it), for work handed out many times a second; results in job order, a
/// panicked job reports `lost()`.
///
/// Why: spawning fresh threads for every training step gave each step new thread-local
/// allocator heaps and stacks, and the kernel zeroed fresh pages for them; a second pool
/// beside the backend's would have its workers compete with it for the same cores.
pub fn run_pooled<J: Sync, T: Send, E: Send>(
    jobs: &[J],
    work: impl Fn(usize, &J) -> Result<T, E> + Sync,
    lost: impl Fn() -> E + Sync,
) -> Vec<Result<T, E>> {
    use rayon::prelude::*;
    static NAMED: std::sync::Once = std::sync::Once::new();
    NAMED.call_once(|| {
        // Fails (harmlessly) when the backend already started the pool unnamed.
        let _ = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("pathogait-worker-{i}"))
            .build_global();
    });
    if jobs.len() > 1 && cores() > 1 {
        jobs.par_iter()
            .enumerate()
            .map(|(i, j)| guarded(&work, &lost, i, j))
            .collect()
    } else {
        jobs.iter()
            .enumerate()
            .map(|(i, j)| guarded(&work, &lost, i, j))
            .collect()
    }
}

/// Runs `work(i, &jobs[i])` for every job on up to one named thread per core the process may
/// use (inline when there is one job or one core), each worker taking the next job as it
/// finishes one; the results come back in job order, so what is computed never depends on
/// the schedule. A job whose worker could not start or panicked reports `lost()`.
pub fn run_parallel<J: Sync, T: Send, E: Send>(
    jobs: &[J],
    thread_name: &str,
    work: impl Fn(usize, &J) -> Result<T, E> + Sync,
    lost: impl Fn() -> E + Sync,
) -> Vec<Result<T, E>> {
    let workers = cores().min(jobs.len());
    if workers <= 1 {
        return jobs
            .iter()
            .enumerate()
            .map(|(i, j)| guarded(&work, &lost, i, j))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<T, E>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (next, slots, work, lost) = (&next, &slots, &work, &lost);
            let spawned = std::thread::Builder::new()
                .name(format!("{thread_name}-{w}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(k) else { break };
                        let r = guarded(work, lost, k, job);
                        if let Ok(mut s) = slots[k].lock() {
                            *s = Some(r);
                        }
                    }
                });
            if spawned.is_err() {
                break; // the workers that did start take the remaining jobs
            }
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_else(|| Err(lost()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn both_runners_return_results_in_job_order_and_report_a_panicked_job_as_lost() {
        let jobs: Vec<u64> = (0..40).collect();
        let square = |_: usize, x: &u64| -> Result<u64, String> {
            assert!(*x != 13, "job 13 fails on purpose");
            Ok(x * x)
        };
        let pooled = run_pooled(&jobs, square, || "lost".to_string());
        let spawned = run_parallel(&jobs, "test-job", square, || "lost".to_string());
        for out in [pooled, spawned] {
            assert_eq!(out.len(), 40);
            for (i, r) in out.iter().enumerate() {
                let want = if i == 13 {
                    Err("lost".to_string())
                } else {
                    Ok((i * i) as u64)
                };
                assert_eq!(r, &want, "job {i}");
            }
        }
    }

    #[test]
    fn pooled_work_runs_on_threads_that_outlive_each_call() {
        // ThreadIds are never reused, so threads spawned per call would give new ids each time.
        let jobs = [0u8; 4];
        let mut seen = HashSet::new();
        for _ in 0..20 {
            for id in run_pooled(
                &jobs,
                |_, _| Ok::<_, ()>(std::thread::current().id()),
                || (),
            ) {
                seen.insert(id);
            }
        }
        let most = if cores() > 1 {
            rayon::current_num_threads()
        } else {
            1
        };
        assert!(
            seen.len() <= most,
            "{} threads over 20 calls, at most {most} expected",
            seen.len()
        );
    }
}
