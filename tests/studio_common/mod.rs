//! Helpers shared by the studio's UI tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use pathogait::app::Studio;

/// Copies `projects/demo.ron` into `dir` as `name` (tests never touch the shipped file).
pub fn demo_copy(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo.ron");
    let dst = dir.join(name);
    std::fs::copy(src, &dst).expect("copy demo project");
    dst
}

/// Steps the UI until `cond` holds (jobs run on their own threads meanwhile); fails after
/// `limit` with the studio's errors.
pub fn wait(
    h: &mut Harness<'_, Studio>,
    limit: Duration,
    what: &str,
    cond: impl Fn(&Studio) -> bool,
) {
    let end = Instant::now() + limit;
    while !cond(h.state()) {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}; errors: {:?}",
            h.state().notes.errors()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}
