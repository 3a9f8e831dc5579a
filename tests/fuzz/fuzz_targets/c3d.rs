#![no_main]
//! C3D: the parameter section, the own point reader and the full reader (c3dio first).
use libfuzzer_sys::fuzz_target;
use pathogait::core::io::{c3d, c3d_params, c3d_points};

fuzz_target!(|data: &[u8]| {
    let _ = c3d_params::decode(data);
    let _ = c3d_points::read_points(data);
    if let Ok(dir) = tempfile_dir() {
        let p = dir.join("fuzz.c3d");
        if std::fs::write(&p, data).is_ok() {
            let _ = c3d::read(&p);
        }
    }
});

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("pathogait-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
