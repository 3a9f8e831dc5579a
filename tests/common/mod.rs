//! Shared helpers for integration tests.

use std::path::PathBuf;

/// `../shared/data` next to the checkout (or `$PATHOGAIT_SHARED_DATA`), if present. CI has it;
/// a user's clone does not, and tests that need it print why they skip.
#[allow(dead_code)] // Not every test binary that includes this module needs it.
pub fn shared_data() -> Option<PathBuf> {
    let p = std::env::var_os("PATHOGAIT_SHARED_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        PathBuf::from,
    );
    if p.join("msk-neuro-bvh/index.csv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: shared data not found at {} (set PATHOGAIT_SHARED_DATA)",
            p.display()
        );
        None
    }
}

/// The synthetic demo set with `subjects` virtual subjects walking each class once.
#[allow(dead_code)] // Not every test binary that includes this module needs it.
pub fn small_demo(subjects: usize) -> pathogait::core::data::Dataset {
    use pathogait::core::demo::{DemoConfig, demo_dataset};
    use pathogait::core::jobs::{CancelToken, NoProgress};
    demo_dataset(
        &DemoConfig {
            subjects,
            trials: 1,
            ..DemoConfig::default()
        },
        &NoProgress,
        &CancelToken::new(),
    )
    .expect("the demo generator makes any number of subjects")
}

/// Runs the `pathogait` binary: (success, stdout, stderr).
#[allow(dead_code)] // Not every test binary that includes this module needs it.
pub fn pathogait(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pathogait"))
        .args(args)
        .output()
        .expect("the pathogait binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
