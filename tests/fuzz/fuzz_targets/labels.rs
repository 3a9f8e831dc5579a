#![no_main]
//! Label tables (CSV with file, subject, label, severity, side) must load or fail, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = std::env::temp_dir().join(format!("pathogait-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&d).is_err() {
        return;
    }
    let p = d.join("labels.csv");
    if std::fs::write(&p, data).is_ok() {
        let _ = pathogait::core::io::LabelTable::load(&p);
    }
});
