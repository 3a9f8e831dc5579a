#![no_main]
//! Kinect v2 skeleton CSV must parse or fail, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pathogait::core::io::kinect_csv::parse(&text, std::path::Path::new("fuzz.csv"));
});
