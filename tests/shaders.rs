//! Every WGSL shader in `shaders/` parses and validates with naga (the compiler wgpu uses),
//! and the renderer embeds exactly these files.

use std::path::Path;

#[test]
fn every_wgsl_shader_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders folder") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("read shader");
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        v.validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        for ep in ["vs_main", "fs_main"] {
            assert!(
                module.entry_points.iter().any(|e| e.name == ep),
                "{}: no entry point {ep}",
                path.display()
            );
        }
        n += 1;
    }
    assert!(n >= 2, "expected the skeleton and blit shaders, found {n}");
    assert_eq!(
        pathogait::app::render::gpu::SKELETON_WGSL,
        std::fs::read_to_string(dir.join("skeleton.wgsl")).expect("skeleton.wgsl")
    );
    assert_eq!(
        pathogait::app::render::gpu::BLIT_WGSL,
        std::fs::read_to_string(dir.join("blit.wgsl")).expect("blit.wgsl")
    );
}
