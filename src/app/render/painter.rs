//! Painter fallback for the viewport: draws the same [`Scene`] with egui shapes when the wgpu
//! renderer is not available (the glow backend does not run egui-wgpu paint callbacks).
//! Capsules are sorted back to front (painter's algorithm), which is enough for skeletons.

use egui::{Color32, Painter, Pos2, Rect, Stroke};

use super::scene::{OrbitCamera, Scene};
use crate::core::math::{norm, sub};

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    norm(sub(a, b))
}

fn color(c: [f32; 4]) -> Color32 {
    let b = |x: f32| (x.clamp(0.0, 1.0) * 255.0).round() as u8;
    Color32::from_rgba_unmultiplied(b(c[0]), b(c[1]), b(c[2]), b(c[3]))
}

/// Draws `scene` seen from `camera` into `rect`.
pub fn paint_scene(painter: &Painter, rect: Rect, scene: &Scene, camera: &OrbitCamera) {
    painter.rect_filled(rect, 0.0, color(scene.clear));
    let (w, h) = (rect.width(), rect.height());
    let eye = camera.eye();
    // Pixels per metre at unit distance: the projection's focal length in pixels.
    let focal = 0.5 * h / (0.5 * camera.fov_y).tan();
    let mut items: Vec<(f32, usize)> = scene
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let m = [
                0.5 * (inst.a[0] + inst.b[0]),
                0.5 * (inst.a[1] + inst.b[1]),
                0.5 * (inst.a[2] + inst.b[2]),
            ];
            (dist(m, eye), i)
        })
        .collect();
    items.sort_by(|a, b| b.0.total_cmp(&a.0));
    let to_pos = |p: [f32; 2]| Pos2::new(rect.min.x + p[0], rect.min.y + p[1]);
    for (d, i) in items {
        let inst = &scene.instances[i];
        let a = [inst.a[0], inst.a[1], inst.a[2]];
        let b = [inst.b[0], inst.b[1], inst.b[2]];
        let (Some(pa), Some(pb)) = (camera.project(a, w, h), camera.project(b, w, h)) else {
            continue;
        };
        let r_px = (inst.a[3] * focal / d.max(0.05)).max(0.6);
        let c = color(inst.color);
        if dist(a, b) < 1e-6 {
            painter.circle_filled(to_pos(pa), r_px, c);
        } else {
            painter.line_segment([to_pos(pa), to_pos(pb)], Stroke::new(2.0 * r_px, c));
        }
    }
}
