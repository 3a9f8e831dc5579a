//! What the viewport draws, as plain data: an orbit camera and a list of capsule instances
//! (bones, joints, grid lines, foot-contact markers). Built on the CPU each frame from the
//! sequences on show; the wgpu renderer and the painter fallback both draw a [`Scene`].

use bytemuck::{Pod, Zeroable};
use nalgebra::{Matrix4, Point3, Vector3};

use crate::core::data::{CommonJoint, GaitSequence};
use crate::core::math::Vec3;

/// One capsule instance, laid out as the vertex buffer of `shaders/skeleton.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct Instance {
    /// Segment start (xyz) and radius in metres (w).
    pub a: [f32; 4],
    /// Segment end (xyz) and 1 for tube shading / 0 for flat colour (w).
    pub b: [f32; 4],
    /// RGBA colour, components 0..1 (as displayed).
    pub color: [f32; 4],
}

impl Instance {
    /// A shaded capsule from `a` to `b`.
    #[must_use]
    pub fn capsule(a: Vec3, b: Vec3, radius: f32, color: [f32; 4]) -> Self {
        Self {
            a: [a[0], a[1], a[2], radius],
            b: [b[0], b[1], b[2], 1.0],
            color,
        }
    }

    /// A flat-coloured line (grid, markers).
    #[must_use]
    pub fn flat(a: Vec3, b: Vec3, radius: f32, color: [f32; 4]) -> Self {
        Self {
            b: [b[0], b[1], b[2], 0.0],
            ..Self::capsule(a, b, radius, color)
        }
    }
}

/// The camera uniform of `shaders/skeleton.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct CameraUniform {
    /// Column-major view-projection matrix (wgpu clip space, depth 0..1).
    pub view_proj: [[f32; 4]; 4],
    /// Eye position.
    pub eye: [f32; 4],
    /// Camera right axis.
    pub right: [f32; 4],
    /// Camera up axis.
    pub up: [f32; 4],
}

/// An orbit camera around a target point, Z up (the canonical gait frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    /// Point looked at (metres).
    pub target: Vec3,
    /// Angle around Z, radians (0 looks along +Y, i.e. from the walker's right side).
    pub yaw: f32,
    /// Elevation, radians (clamped to avoid the poles).
    pub pitch: f32,
    /// Distance from the target, metres.
    pub distance: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            target: [0.0, 0.0, 0.9],
            yaw: -0.6,
            pitch: 0.25,
            distance: 4.5,
            fov_y: 45f32.to_radians(),
        }
    }
}

impl OrbitCamera {
    /// Eye position in world space.
    #[must_use]
    pub fn eye(&self) -> Vec3 {
        let (cp, sp) = (self.pitch.cos(), self.pitch.sin());
        let (cy, sy) = (self.yaw.cos(), self.yaw.sin());
        [
            self.target[0] + self.distance * cp * sy,
            self.target[1] - self.distance * cp * cy,
            self.target[2] + self.distance * sp,
        ]
    }

    /// Rotates by screen-space drag deltas (radians).
    pub fn orbit(&mut self, d_yaw: f32, d_pitch: f32) {
        self.yaw -= d_yaw;
        self.pitch = (self.pitch + d_pitch).clamp(-1.45, 1.45);
    }

    /// Moves the target in the view plane by `(dx, dy)` fractions of the view height.
    pub fn pan(&mut self, dx: f32, dy: f32) {
        let u = self.uniform(1.0);
        let h = 2.0 * self.distance * (0.5 * self.fov_y).tan();
        for k in 0..3 {
            self.target[k] += (-dx * u.right[k] + dy * u.up[k]) * h;
        }
    }

    /// Multiplies the distance (zoom in below 1).
    pub fn zoom(&mut self, factor: f32) {
        self.distance = (self.distance * factor).clamp(0.3, 60.0);
    }

    /// The shader uniform for a viewport of aspect ratio `aspect` (width / height).
    #[must_use]
    pub fn uniform(&self, aspect: f32) -> CameraUniform {
        let eye = self.eye();
        let e = Point3::new(eye[0], eye[1], eye[2]);
        let t = Point3::new(self.target[0], self.target[1], self.target[2]);
        let view = Matrix4::look_at_rh(&e, &t, &Vector3::z());
        let proj = perspective_wgpu(self.fov_y, aspect.max(1e-3), 0.05, 200.0);
        let vp = proj * view;
        // Rows 0 and 1 of the view matrix are the camera's right and up axes in world space.
        let right = [view[(0, 0)], view[(0, 1)], view[(0, 2)], 0.0];
        let up = [view[(1, 0)], view[(1, 1)], view[(1, 2)], 0.0];
        let mut cols = [[0.0; 4]; 4];
        for (c, col) in cols.iter_mut().enumerate() {
            for (r, v) in col.iter_mut().enumerate() {
                *v = vp[(r, c)];
            }
        }
        CameraUniform {
            view_proj: cols,
            eye: [eye[0], eye[1], eye[2], 1.0],
            right,
            up,
        }
    }

    /// Projects a world point to pixel coordinates of a `w x h` viewport (None behind the eye).
    #[must_use]
    pub fn project(&self, p: Vec3, w: f32, h: f32) -> Option<[f32; 2]> {
        let u = self.uniform(w / h.max(1.0));
        let m = u.view_proj;
        let clip: [f32; 4] =
            std::array::from_fn(|r| m[0][r] * p[0] + m[1][r] * p[1] + m[2][r] * p[2] + m[3][r]);
        (clip[3] > 1e-4).then(|| {
            [
                (clip[0] / clip[3] * 0.5 + 0.5) * w,
                (0.5 - clip[1] / clip[3] * 0.5) * h,
            ]
        })
    }
}

/// Right-handed perspective projection with wgpu's 0..1 depth range.
fn perspective_wgpu(fov_y: f32, aspect: f32, near: f32, far: f32) -> Matrix4<f32> {
    let f = 1.0 / (0.5 * fov_y).tan();
    let d = near - far;
    Matrix4::new(
        f / aspect,
        0.0,
        0.0,
        0.0, //
        0.0,
        f,
        0.0,
        0.0, //
        0.0,
        0.0,
        far / d,
        near * far / d, //
        0.0,
        0.0,
        -1.0,
        0.0,
    )
}

/// One sequence to draw.
#[derive(Debug, Clone)]
pub struct Layer<'a> {
    /// The sequence, in the canonical frame (Z up).
    pub seq: &'a GaitSequence,
    /// Colour of its bones.
    pub color: [f32; 4],
    /// Shift applied to every joint (side-by-side layouts).
    pub offset: Vec3,
    /// Per-joint value 0..1 (e.g. anomaly score / threshold, clamped) that colours the joints
    /// from cool to hot; `None` draws joints in a lighter shade of `color`.
    pub joint_values: Option<Vec<f32>>,
    /// Frames at which each foot is on the ground: `[left, right]` contact flags per frame.
    pub contacts: Option<[Vec<bool>; 2]>,
}

/// Everything the renderer needs for one frame.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    /// Capsules to draw.
    pub instances: Vec<Instance>,
    /// Background colour.
    pub clear: [f32; 4],
}

/// Bone radius, metres.
pub const BONE_RADIUS: f32 = 0.018;
/// Joint radius, metres.
pub const JOINT_RADIUS: f32 = 0.028;

/// Cool-to-hot colour map for values 0..1 (blue, green, yellow, red).
#[must_use]
pub fn heat(v: f32) -> [f32; 4] {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let stops = [
        [0.20, 0.45, 0.95],
        [0.20, 0.80, 0.45],
        [0.95, 0.85, 0.20],
        [0.95, 0.20, 0.15],
    ];
    let x = v * 3.0;
    let i = (x.floor() as usize).min(2);
    let t = x - i as f32;
    let c: [f32; 3] = std::array::from_fn(|k| stops[i][k] * (1.0 - t) + stops[i + 1][k] * t);
    [c[0], c[1], c[2], 1.0]
}

fn lighten(c: [f32; 4]) -> [f32; 4] {
    [0.5 + 0.5 * c[0], 0.5 + 0.5 * c[1], 0.5 + 0.5 * c[2], c[3]]
}

/// A ground grid of `half` metres each way around `(cx, cy)`, lines every `step` metres.
pub fn push_grid(out: &mut Vec<Instance>, cx: f32, cy: f32, half: f32, step: f32) {
    let n = (half / step).round() as i32;
    let (x0, y0) = ((cx / step).round() * step, (cy / step).round() * step);
    for i in -n..=n {
        let o = i as f32 * step;
        let major = i % 5 == 0;
        let col = if major {
            [0.42, 0.44, 0.48, 1.0]
        } else {
            [0.30, 0.31, 0.34, 1.0]
        };
        let r = if major { 0.006 } else { 0.004 };
        out.push(Instance::flat(
            [x0 + o, y0 - half, 0.0],
            [x0 + o, y0 + half, 0.0],
            r,
            col,
        ));
        out.push(Instance::flat(
            [x0 - half, y0 + o, 0.0],
            [x0 + half, y0 + o, 0.0],
            r,
            col,
        ));
    }
}

/// Frame of `seq` shown at time `t` seconds (looping handled by the caller).
#[must_use]
pub fn frame_at(seq: &GaitSequence, t: f32) -> usize {
    let n = seq.frames();
    if n == 0 {
        return 0;
    }
    ((t * seq.fps).floor().max(0.0) as usize).min(n - 1)
}

/// Adds one layer's skeleton at frame `f`: bones, joints and foot-contact markers.
pub fn push_layer(out: &mut Vec<Instance>, layer: &Layer<'_>, f: usize) {
    let seq = layer.seq;
    if f >= seq.frames() {
        return;
    }
    let off = layer.offset;
    let p = |j: usize| {
        let q = seq.pos(f, j);
        [q[0] + off[0], q[1] + off[1], q[2] + off[2]]
    };
    let ok = |v: Vec3| v.iter().all(|x| x.is_finite());
    for (a, b) in seq.skeleton.bones() {
        let (pa, pb) = (p(a), p(b));
        if ok(pa) && ok(pb) {
            out.push(Instance::capsule(pa, pb, BONE_RADIUS, layer.color));
        }
    }
    for j in 0..seq.skeleton.joint_count() {
        let pj = p(j);
        if !ok(pj) {
            continue;
        }
        let col = match &layer.joint_values {
            Some(v) => v.get(j).map_or(lighten(layer.color), |x| heat(*x)),
            None => lighten(layer.color),
        };
        out.push(Instance::capsule(pj, pj, JOINT_RADIUS, col));
    }
    if let Some(contacts) = &layer.contacts {
        for (side, joint) in [(0, CommonJoint::AnkleL), (1, CommonJoint::AnkleR)] {
            let on = contacts[side].get(f).copied().unwrap_or(false);
            let Some(src) = seq.skeleton.common_sources(joint) else {
                continue;
            };
            if !on || src.is_empty() {
                continue;
            }
            let q = p(src[0]);
            if ok(q) {
                let g = [q[0], q[1], 0.002];
                out.push(Instance::flat(g, g, 0.06, [0.98, 0.62, 0.15, 1.0]));
            }
        }
    }
}

/// Builds a frame: grid around the layers' pelvis position, then every layer at time `t`.
#[must_use]
pub fn build_scene(layers: &[Layer<'_>], t: f32, grid: bool) -> Scene {
    let mut instances = Vec::new();
    if grid {
        let (mut cx, mut cy, mut n) = (0.0, 0.0, 0.0);
        for l in layers {
            let f = frame_at(l.seq, t);
            if let Some(q) = (0..l.seq.skeleton.joint_count())
                .map(|j| l.seq.pos(f, j))
                .find(|q| q.iter().all(|x| x.is_finite()))
            {
                cx += q[0] + l.offset[0];
                cy += q[1] + l.offset[1];
                n += 1.0;
            }
        }
        if n > 0.0 {
            (cx, cy) = (cx / n, cy / n);
        }
        push_grid(&mut instances, cx, cy, 5.0, 0.5);
    }
    for l in layers {
        push_layer(&mut instances, l, frame_at(l.seq, t));
    }
    Scene {
        instances,
        clear: [0.11, 0.12, 0.14, 1.0],
    }
}

/// Foot-contact flags per frame from the walk's gait events (recorded with the file, else
/// detected): a foot is on the ground from heel strike to the following toe off.
#[must_use]
pub fn contact_flags(seq: &GaitSequence) -> [Vec<bool>; 2] {
    let ev = seq
        .events
        .clone()
        .unwrap_or_else(|| crate::core::biomech::events::detect(seq));
    let n = seq.frames();
    let side = |s: &crate::core::biomech::events::SideEvents| {
        let mut v = vec![false; n];
        for &hs in &s.heel_strikes {
            let to = s.toe_offs.iter().copied().find(|&t| t > hs).unwrap_or(n);
            for x in v.iter_mut().take(to.min(n)).skip(hs) {
                *x = true;
            }
        }
        v
    };
    [side(&ev.left), side(&ev.right)]
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact colour-map stops
mod tests {
    use super::*;

    #[test]
    fn camera_projects_target_to_centre_and_up_is_up() {
        let cam = OrbitCamera::default();
        let c = cam.project(cam.target, 800.0, 600.0).unwrap_or([0.0, 0.0]);
        assert!(
            (c[0] - 400.0).abs() < 0.5 && (c[1] - 300.0).abs() < 0.5,
            "{c:?}"
        );
        let above = [cam.target[0], cam.target[1], cam.target[2] + 0.5];
        let a = cam.project(above, 800.0, 600.0).unwrap_or([0.0, 1e9]);
        assert!(
            a[1] < c[1] - 10.0,
            "a point above the target must be higher on screen"
        );
        let behind = cam.eye();
        let back = [
            2.0 * behind[0] - cam.target[0],
            2.0 * behind[1] - cam.target[1],
            2.0 * behind[2] - cam.target[2],
        ];
        assert!(cam.project(back, 800.0, 600.0).is_none());
    }

    #[test]
    fn heat_map_ends() {
        assert_eq!(heat(0.0), [0.20, 0.45, 0.95, 1.0]);
        assert_eq!(heat(1.0), [0.95, 0.20, 0.15, 1.0]);
        assert_eq!(heat(f32::NAN), heat(0.0));
    }
}
