//! BVH export: joint rotations solved from positions.
//!
//! The rig is the sequence's own (parents as imported). Rest offsets point along each bone's
//! direction in the first complete frame, with the bone's median length, so frame 0 is close
//! to the identity pose. Per frame, a joint with one child is swung from its parent's carried
//! orientation onto the bone (no invented twist); a joint with several children (pelvis,
//! chest) gets the best-fit rotation of all its bones (Kabsch). Leaf joints keep their
//! parent's orientation and end in a zero-length `End Site`. Output is Y-up centimetres (the
//! BVH convention) with `Zrotation Yrotation Xrotation` channels.

use std::fmt::Write as _;

use nalgebra::{Matrix3, Rotation3, UnitQuaternion, Vector3};

use crate::core::data::GaitSequence;
use crate::core::math::median;

/// Our Z-up (x forward, y left) to BVH Y-up: (x, y, z) -> (x, z, -y), a proper rotation.
fn to_bvh(p: [f32; 3]) -> Vector3<f64> {
    Vector3::new(f64::from(p[0]), f64::from(p[2]), -f64::from(p[1])) * 100.0
}

fn children(seq: &GaitSequence) -> Vec<Vec<usize>> {
    let mut c = vec![Vec::new(); seq.skeleton.joint_count()];
    for (i, j) in seq.skeleton.joints.iter().enumerate() {
        if let Some(p) = j.parent {
            c[p].push(i);
        }
    }
    c
}

/// Best rotation taking rest vectors onto current vectors (Kabsch, reflection-corrected).
fn kabsch(rest: &[Vector3<f64>], cur: &[Vector3<f64>]) -> UnitQuaternion<f64> {
    let mut h = Matrix3::zeros();
    for (a, b) in rest.iter().zip(cur) {
        h += b * a.transpose();
    }
    let svd = h.svd(true, true);
    let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
        return UnitQuaternion::identity();
    };
    let d = (u * vt).determinant().signum();
    let r = u * Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, d)) * vt;
    UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(r))
}

/// BVH text of a sequence. Frames with missing (NaN) joints repeat the previous frame's pose.
///
/// # Errors
/// A rig without joints, or no complete frame to take the rest pose from.
pub fn to_bvh_text(seq: &GaitSequence) -> Result<String, String> {
    let n = seq.skeleton.joint_count();
    let frames = seq.frames();
    if n == 0 || frames == 0 {
        return Err("no joints or no frames".into());
    }
    let complete = |f: usize| seq.frame(f).iter().all(|p| p.iter().all(|v| v.is_finite()));
    let first = (0..frames)
        .find(|&f| complete(f))
        .ok_or("no frame has every joint tracked")?;
    let kids = children(seq);
    let root = seq
        .skeleton
        .joints
        .iter()
        .position(|j| j.parent.is_none())
        .ok_or("the rig has no root joint")?;
    // Rest offsets: first complete frame's direction, median length.
    let mut offset = vec![Vector3::zeros(); n];
    for (j, def) in seq.skeleton.joints.iter().enumerate() {
        let Some(p) = def.parent else { continue };
        let lengths: Vec<f64> = (0..frames)
            .filter(|&f| complete(f))
            .map(|f| (to_bvh(seq.pos(f, j)) - to_bvh(seq.pos(f, p))).norm())
            .collect();
        let len = median(&lengths).unwrap_or(0.0);
        let d = to_bvh(seq.pos(first, j)) - to_bvh(seq.pos(first, p));
        offset[j] = if d.norm() > 1e-9 {
            d.normalize() * len
        } else {
            d
        };
    }
    let mut h = String::from("HIERARCHY\n");
    write_joint(&mut h, seq, &kids, &offset, root, 0, true);
    let _ = write!(
        h,
        "MOTION\nFrames: {frames}\nFrame Time: {:.6}\n",
        1.0 / f64::from(seq.fps.max(1e-3))
    );
    let order = preorder(&kids, root);
    let mut last = first;
    for f in 0..frames {
        if complete(f) {
            last = f;
        }
        let pos = |j: usize| to_bvh(seq.pos(last, j));
        let mut global = vec![UnitQuaternion::identity(); n];
        let mut line = String::new();
        for &j in &order {
            let parent_g = seq.skeleton.joints[j]
                .parent
                .map_or_else(UnitQuaternion::identity, |p| global[p]);
            let ks = &kids[j];
            global[j] = match ks.len() {
                0 => parent_g,
                1 => {
                    let rest = parent_g * offset[ks[0]];
                    let cur = pos(ks[0]) - pos(j);
                    UnitQuaternion::rotation_between(&rest, &cur)
                        .map_or(parent_g, |swing| swing * parent_g)
                }
                _ => {
                    let rest: Vec<Vector3<f64>> = ks.iter().map(|&k| offset[k]).collect();
                    let cur: Vec<Vector3<f64>> = ks.iter().map(|&k| pos(k) - pos(j)).collect();
                    kabsch(&rest, &cur)
                }
            };
            let local = parent_g.inverse() * global[j];
            let (rx, ry, rz) = local.euler_angles(); // R = Rz * Ry * Rx
            if j == root {
                let p = pos(j);
                let _ = write!(line, "{:.4} {:.4} {:.4} ", p.x, p.y, p.z);
            }
            let _ = write!(
                line,
                "{:.4} {:.4} {:.4} ",
                rz.to_degrees(),
                ry.to_degrees(),
                rx.to_degrees()
            );
        }
        h.push_str(line.trim_end());
        h.push('\n');
    }
    Ok(h)
}

fn preorder(kids: &[Vec<usize>], root: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(kids.len());
    let mut stack = vec![root];
    while let Some(j) = stack.pop() {
        out.push(j);
        stack.extend(kids[j].iter().rev());
    }
    out
}

fn write_joint(
    h: &mut String,
    seq: &GaitSequence,
    kids: &[Vec<usize>],
    offset: &[Vector3<f64>],
    j: usize,
    depth: usize,
    root: bool,
) {
    let pad = "  ".repeat(depth);
    let name = seq.skeleton.joints[j]
        .name
        .replace(char::is_whitespace, "_");
    let o = offset[j];
    if root {
        let _ = writeln!(h, "ROOT {name}\n{{");
        let _ = writeln!(h, "{pad}  OFFSET 0.0000 0.0000 0.0000");
        let _ = writeln!(
            h,
            "{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation"
        );
    } else {
        let _ = writeln!(h, "{pad}JOINT {name}\n{pad}{{");
        let _ = writeln!(h, "{pad}  OFFSET {:.4} {:.4} {:.4}", o.x, o.y, o.z);
        let _ = writeln!(h, "{pad}  CHANNELS 3 Zrotation Yrotation Xrotation");
    }
    if kids[j].is_empty() {
        let _ = writeln!(
            h,
            "{pad}  End Site\n{pad}  {{\n{pad}    OFFSET 0.0000 0.0000 0.0000\n{pad}  }}"
        );
    }
    for &k in &kids[j] {
        write_joint(h, seq, kids, offset, k, depth + 1, false);
    }
    let _ = writeln!(h, "{pad}}}");
}
