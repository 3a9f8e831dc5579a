//! indicatif progress bars behind the core's [`Progress`] sink. When stderr is not a terminal
//! (batch jobs, GPU servers, CI logs) the bars are hidden and each stage prints one line when
//! it starts and one when it ends, with its duration, so a log still shows where a run is.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use pathogait::core::jobs::Progress;

/// One bar per stage.
#[derive(Default)]
pub struct Bars {
    bar: Mutex<Option<(ProgressBar, String, Instant)>>,
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {wide_msg} ETA {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_string());
        if !std::io::stderr().is_terminal() {
            eprintln!("{stage}: {total} steps");
        }
        if let Ok(mut b) = self.bar.lock() {
            *b = Some((bar, stage.to_string(), Instant::now()));
        }
    }

    fn advance(&self, n: u64, _item: &str) {
        if let Ok(b) = self.bar.lock()
            && let Some((b, _, _)) = b.as_ref()
        {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some((b, stage, t0)) = b.take()
        {
            if !std::io::stderr().is_terminal() {
                eprintln!("{stage}: done in {:.1} s", t0.elapsed().as_secs_f64());
            }
            b.finish_and_clear();
        }
    }
}
