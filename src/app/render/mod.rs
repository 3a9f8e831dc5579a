//! The viewport's renderers: a wgpu skeleton renderer (WGSL in `shaders/`) drawn inside egui
//! through a paint callback, an egui-painter fallback, and offscreen capture to PNG/GIF.

pub mod capture;
pub mod gpu;
pub mod painter;
pub mod scene;

pub use gpu::{SkeletonRenderer, ViewportCallback, headless_device};
pub use scene::{Layer, OrbitCamera, Scene, build_scene};
