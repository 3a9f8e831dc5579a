#![no_main]
//! A model bundle's manifest (RON) must parse or fail, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ron::from_str::<pathogait::core::model::bundle::Manifest>(text);
    }
});
