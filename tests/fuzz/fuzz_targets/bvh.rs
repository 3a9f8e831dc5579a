#![no_main]
//! BVH text (hierarchy, channels, motion) must parse or fail, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pathogait::core::io::bvh::parse(&text, std::path::Path::new("fuzz.bvh"), None);
});
