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

/// Starts rayon's global pool (named `pathogait-worker-N`) if nothing has yet. Threads inherit
/// their creator's CPU priority, so the pool must not first be started by a worker that
/// [`with_idle_workers`] lowered: every later training step would then run at that priority.
fn pool_ready() {
    static NAMED: std::sync::Once = std::sync::Once::new();
    NAMED.call_once(|| {
        // Fails (harmlessly) when the backend already started the pool unnamed.
        let _ = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("pathogait-worker-{i}"))
            .build_global();
    });
}

/// Lowers the calling thread's CPU priority to the lowest there is (Linux: nice 19), so the
/// kernel gives it only time that threads of normal priority leave idle. True when it could;
/// elsewhere nothing changes (there the call would set the whole process's priority).
fn lower_own_priority() -> bool {
    #[cfg(target_os = "linux")]
    {
        // PRIO_PROCESS with no id is the calling thread on Linux (nice values are per thread).
        rustix::process::setpriority_process(None, 19).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Runs `foreground()` on this thread while `background(w)` runs on `workers` named threads of
/// the lowest CPU priority, and returns `foreground`'s value once every background worker has
/// returned. Background work gets only CPU time the foreground leaves idle (a fold's generator
/// keeps about 1.8 of 2 cores busy; of 16 cores, 4-5). The foreground still shares caches and
/// memory with it: a fold's generator ran 3-6 % slower beside it on 2 cores. A panicking
/// background worker ends there; it does not unwind into the caller (whatever it did not
/// finish, the caller's own bookkeeping must notice).
pub fn with_idle_workers<T>(
    workers: usize,
    thread_name: &str,
    background: impl Fn(usize) + Sync,
    foreground: impl FnOnce() -> T,
) -> T {
    pool_ready();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let background = &background;
            // A worker that cannot start leaves its share to the others (or to the caller).
            let _ = std::thread::Builder::new()
                .name(format!("{thread_name}-{w}"))
                .spawn_scoped(scope, move || {
                    lower_own_priority();
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        background(w);
                    }));
                });
        }
        foreground()
    })
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
    pool_ready();
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

    /// The nice value of the calling thread (field 19 of `/proc/thread-self/stat`).
    #[cfg(target_os = "linux")]
    fn own_nice() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name (field 2) may hold spaces; fields after its closing parenthesis.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn idle_workers_run_beside_the_foreground_at_the_lowest_priority_and_keep_panics() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::mpsc;
        let ran = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<()>();
        let tx = std::sync::Mutex::new(tx);
        #[cfg(target_os = "linux")]
        let before = own_nice();
        let out = with_idle_workers(
            3,
            "test-idle",
            |w| {
                #[cfg(target_os = "linux")]
                assert_eq!(own_nice(), 19, "worker {w} runs at the lowest priority");
                ran.fetch_add(1, Ordering::SeqCst);
                tx.lock().unwrap().send(()).unwrap();
                assert!(w != 1, "worker 1 fails on purpose");
            },
            || {
                // The foreground sees the background run while it is still running.
                for _ in 0..3 {
                    rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
                }
                42
            },
        );
        assert_eq!(out, 42);
        assert_eq!(ran.load(Ordering::SeqCst), 3);
        #[cfg(target_os = "linux")]
        {
            assert_eq!(own_nice(), before, "the caller keeps its priority");
            // The shared pool was started at normal priority, not by a lowered worker.
            let pool: Vec<i64> = run_pooled(&[0u8; 4], |_, _| Ok::<_, ()>(own_nice()), || ())
                .into_iter()
                .flatten()
                .collect();
            assert!(
                pool.iter().all(|n| *n == before),
                "pool nice values {pool:?}"
            );
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
