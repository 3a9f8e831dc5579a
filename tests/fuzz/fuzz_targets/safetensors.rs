#![no_main]
//! GPT-2 weights in safetensors must load or fail, never panic.
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use pathogait::core::model::gpt::GptConfig;

fuzz_target!(|data: &[u8]| {
    let d = std::env::temp_dir().join(format!("pathogait-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&d).is_err() {
        return;
    }
    let p = d.join("w.safetensors");
    if std::fs::write(&p, data).is_err() {
        return;
    }
    let gpt = GptConfig {
        vocab: 10,
        context: 8,
        width: 4,
        layers: 1,
        heads: 2,
        dropout: 0.0,
    }
    .init(&Device::flex());
    let _ = gpt.load_gpt2(&p);
});
