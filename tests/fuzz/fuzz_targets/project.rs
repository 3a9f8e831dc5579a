#![no_main]
//! Project files (RON) must load or fail, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = std::env::temp_dir().join(format!("pathogait-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&d).is_err() {
        return;
    }
    let p = d.join("project.ron");
    if std::fs::write(&p, data).is_ok() {
        let _ = pathogait::core::project::Project::load(&p);
    }
});
