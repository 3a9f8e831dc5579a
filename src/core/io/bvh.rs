//! BVH (Biovision hierarchy) reader: any channel order, cm or m, forward kinematics to joint
//! positions. End sites become joints named `<Parent>_End` so toe tips and head tops are kept.

use std::path::Path;

use super::{ImportError, read_text};
use crate::core::data::skeleton::{Axis, CommonJoint, JointDef, Skeleton, Units};
use crate::core::math::Vec3;

/// One channel of a BVH joint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Pos(usize),
    Rot(usize),
}

#[derive(Debug, Clone)]
struct BvhJoint {
    name: String,
    parent: Option<usize>,
    offset: [f64; 3],
    channels: Vec<Channel>,
}

/// A parsed BVH file: hierarchy, raw channel values, and positions by forward kinematics.
#[derive(Debug, Clone)]
pub struct BvhMotion {
    /// Rig (end sites included), up axis detected from the rest pose.
    pub skeleton: Skeleton,
    /// Frames per second (1 / Frame Time).
    pub fps: f32,
    /// `frames * joints` positions in metres.
    pub positions: Vec<Vec3>,
}

struct Tokens<'a> {
    items: Vec<(usize, &'a str)>,
    pos: usize,
    path: &'a Path,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        let items = text
            .lines()
            .enumerate()
            .flat_map(|(i, l)| l.split_whitespace().map(move |t| (i + 1, t)))
            .collect();
        Self {
            items,
            pos: 0,
            path,
        }
    }

    fn line(&self) -> usize {
        self.items
            .get(self.pos)
            .or(self.items.last())
            .map_or(1, |t| t.0)
    }

    fn next(&mut self, what: &str) -> Result<&'a str, ImportError> {
        let t = self.items.get(self.pos).ok_or_else(|| {
            ImportError::parse(
                self.path,
                self.line(),
                format!("unexpected end of file, expected {what}"),
            )
        })?;
        self.pos += 1;
        Ok(t.1)
    }

    fn peek(&self) -> Option<&'a str> {
        self.items.get(self.pos).map(|t| t.1)
    }

    fn expect(&mut self, word: &str) -> Result<(), ImportError> {
        let line = self.line();
        let t = self.next(word)?;
        if t.eq_ignore_ascii_case(word) {
            Ok(())
        } else {
            Err(ImportError::parse(
                self.path,
                line,
                format!("expected '{word}', found '{t}'"),
            ))
        }
    }

    /// `{ OFFSET x y z`: the opening of a joint or end-site block.
    fn block_offset(&mut self) -> Result<[f64; 3], ImportError> {
        self.expect("{")?;
        self.expect("OFFSET")?;
        Ok([
            self.number("OFFSET x")?,
            self.number("OFFSET y")?,
            self.number("OFFSET z")?,
        ])
    }

    fn number(&mut self, what: &str) -> Result<f64, ImportError> {
        let line = self.line();
        let t = self.next(what)?;
        t.parse::<f64>().map_err(|_| {
            ImportError::parse(
                self.path,
                line,
                format!("expected a number for {what}, found '{t}'"),
            )
        })
    }
}

/// Reads and parses a BVH file. `units` overrides unit detection (by leg length).
///
/// # Errors
/// Syntax errors with the line number, frame rows with the wrong number of values, non-finite
/// values, a missing MOTION section, or zero frames.
pub fn read(path: &Path, units: Option<Units>) -> Result<BvhMotion, ImportError> {
    parse(&read_text(path)?, path, units)
}

/// Parses BVH text (`path` is used in messages).
///
/// # Errors
/// As [`read`].
pub fn parse(text: &str, path: &Path, units: Option<Units>) -> Result<BvhMotion, ImportError> {
    let mut tk = Tokens::new(text, path);
    tk.expect("HIERARCHY")?;
    let mut joints: Vec<BvhJoint> = Vec::new();
    let line = tk.line();
    let root = tk.next("ROOT")?;
    if !root.eq_ignore_ascii_case("ROOT") {
        return Err(ImportError::parse(
            path,
            line,
            format!("expected 'ROOT', found '{root}'"),
        ));
    }
    parse_joint(&mut tk, &mut joints, None)?;
    if tk.peek().is_some_and(|t| t.eq_ignore_ascii_case("ROOT")) {
        return Err(ImportError::parse(
            path,
            tk.line(),
            "several ROOT hierarchies are not supported",
        ));
    }
    tk.expect("MOTION")?;
    tk.expect("Frames:")?;
    let frames_line = tk.line();
    let frames = tk.number("frame count")?;
    if frames < 1.0 || frames.fract() != 0.0 {
        return Err(ImportError::parse(
            path,
            frames_line,
            format!("invalid frame count {frames}"),
        ));
    }
    let frames = frames as usize;
    tk.expect("Frame")?;
    tk.expect("Time:")?;
    let ft_line = tk.line();
    let frame_time = tk.number("frame time")?;
    if !(frame_time > 0.0 && frame_time.is_finite()) {
        return Err(ImportError::parse(
            path,
            ft_line,
            format!("invalid frame time {frame_time}"),
        ));
    }
    let n_channels: usize = joints.iter().map(|j| j.channels.len()).sum();
    let data_start = tk.pos;
    let data: Vec<(usize, &str)> = tk.items[data_start..].to_vec();
    // Validate row by row so a short line is reported where it is, not at the end.
    let mut values = Vec::with_capacity(frames * n_channels);
    let mut by_line: Vec<(usize, Vec<&str>)> = Vec::new();
    for (ln, t) in data {
        match by_line.last_mut() {
            Some((l, v)) if *l == ln => v.push(t),
            _ => by_line.push((ln, vec![t])),
        }
    }
    if by_line.len() < frames {
        return Err(ImportError::invalid(
            path,
            format!(
                "header says {frames} frames but only {} frame rows follow",
                by_line.len()
            ),
        ));
    }
    for (f, (ln, row)) in by_line.iter().take(frames).enumerate() {
        if row.len() != n_channels {
            return Err(ImportError::parse(
                path,
                *ln,
                format!(
                    "frame {f}: expected {n_channels} channel values, found {}",
                    row.len()
                ),
            ));
        }
        for t in row {
            let v: f64 = t.parse().map_err(|_| {
                ImportError::parse(path, *ln, format!("frame {f}: '{t}' is not a number"))
            })?;
            if !v.is_finite() {
                return Err(ImportError::parse(
                    path,
                    *ln,
                    format!("frame {f}: non-finite value '{t}'"),
                ));
            }
            values.push(v);
        }
    }
    let units = units.unwrap_or_else(|| detect_units(&joints));
    let scale = f64::from(units.to_metres());
    let positions = forward_kinematics(&joints, &values, frames, n_channels, scale);
    let defs = joints
        .iter()
        .map(|j| JointDef {
            name: j.name.clone(),
            parent: j.parent,
        })
        .collect();
    let name = format!("bvh:{}", joints.first().map_or("", |j| j.name.as_str()));
    let mut skeleton = Skeleton::new(name, defs, Axis::PosY, units);
    skeleton.up = rest_up_axis(&joints, &skeleton);
    Ok(BvhMotion {
        skeleton,
        fps: (1.0 / frame_time) as f32,
        positions,
    })
}

fn parse_joint(
    tk: &mut Tokens<'_>,
    joints: &mut Vec<BvhJoint>,
    parent: Option<usize>,
) -> Result<(), ImportError> {
    let name = tk.next("joint name")?.to_string();
    let offset = tk.block_offset()?;
    tk.expect("CHANNELS")?;
    let line = tk.line();
    let n = tk.number("channel count")?;
    if !(0.0..=6.0).contains(&n) || n.fract() != 0.0 {
        return Err(ImportError::parse(
            tk.path,
            line,
            format!("invalid channel count {n}"),
        ));
    }
    let mut channels = Vec::new();
    for _ in 0..n as usize {
        let line = tk.line();
        let c = tk.next("channel name")?;
        let ch = match c.to_ascii_lowercase().as_str() {
            "xposition" => Channel::Pos(0),
            "yposition" => Channel::Pos(1),
            "zposition" => Channel::Pos(2),
            "xrotation" => Channel::Rot(0),
            "yrotation" => Channel::Rot(1),
            "zrotation" => Channel::Rot(2),
            _ => {
                return Err(ImportError::parse(
                    tk.path,
                    line,
                    format!("unknown channel '{c}'"),
                ));
            }
        };
        channels.push(ch);
    }
    let me = joints.len();
    joints.push(BvhJoint {
        name: name.clone(),
        parent,
        offset,
        channels,
    });
    loop {
        let line = tk.line();
        let t = tk.next("JOINT, End Site or '}'")?;
        if t == "}" {
            return Ok(());
        } else if t.eq_ignore_ascii_case("JOINT") {
            parse_joint(tk, joints, Some(me))?;
        } else if t.eq_ignore_ascii_case("End") {
            tk.expect("Site")?;
            let offset = tk.block_offset()?;
            tk.expect("}")?;
            joints.push(BvhJoint {
                name: format!("{name}_End"),
                parent: Some(me),
                offset,
                channels: Vec::new(),
            });
        } else {
            return Err(ImportError::parse(
                tk.path,
                line,
                format!("expected JOINT, End Site or '}}', found '{t}'"),
            ));
        }
    }
}

/// Longest root-to-leaf chain of offsets: a human leg plus trunk is ~1.5 m, so > 300 means
/// millimetres and > 3 means centimetres.
fn detect_units(joints: &[BvhJoint]) -> Units {
    let mut depth = vec![0.0f64; joints.len()];
    for (i, j) in joints.iter().enumerate() {
        // The root's offset is its placement in the world, not a bone.
        depth[i] = j.parent.map_or(0.0, |p| {
            depth[p] + j.offset.iter().map(|v| v * v).sum::<f64>().sqrt()
        });
    }
    let longest = depth.iter().copied().fold(0.0, f64::max);
    if longest > 300.0 {
        Units::Millimetres
    } else if longest > 3.0 {
        Units::Centimetres
    } else {
        Units::Metres
    }
}

/// Up axis from the rest pose: the dominant axis of head minus ankles when the rig has them
/// (a T-pose is wider than tall, so extents alone mislead), else the axis of largest extent.
fn rest_up_axis(joints: &[BvhJoint], skeleton: &Skeleton) -> Axis {
    let mut pos = vec![[0.0f64; 3]; joints.len()];
    for (i, j) in joints.iter().enumerate() {
        pos[i] = match j.parent {
            Some(p) => [
                pos[p][0] + j.offset[0],
                pos[p][1] + j.offset[1],
                pos[p][2] + j.offset[2],
            ],
            None => [0.0; 3],
        };
    }
    let first = |c: CommonJoint| skeleton.common_sources(c).and_then(|v| v.first().copied());
    let top = first(CommonJoint::Head).or_else(|| first(CommonJoint::Neck));
    let v = match (top, first(CommonJoint::AnkleL), first(CommonJoint::AnkleR)) {
        (Some(h), Some(l), Some(r)) => [0, 1, 2].map(|k| pos[h][k] - 0.5 * (pos[l][k] + pos[r][k])),
        _ => [0, 1, 2].map(|k| {
            let lo = pos.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
            let hi = pos.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
            hi - lo
        }),
    };
    let a = v.map(f64::abs);
    if a[2] > a[1] && a[2] > a[0] {
        Axis::PosZ
    } else if a[0] > a[1] {
        Axis::PosX
    } else {
        Axis::PosY
    }
}

type Mat3 = [[f64; 3]; 3];

fn matmul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

fn matvec(a: &Mat3, v: [f64; 3]) -> [f64; 3] {
    [
        a[0][0] * v[0] + a[0][1] * v[1] + a[0][2] * v[2],
        a[1][0] * v[0] + a[1][1] * v[1] + a[1][2] * v[2],
        a[2][0] * v[0] + a[2][1] * v[1] + a[2][2] * v[2],
    ]
}

/// Rotation about axis `k` (0 = X, 1 = Y, 2 = Z) by `deg` degrees.
fn axis_rotation(k: usize, deg: f64) -> Mat3 {
    let (s, c) = deg.to_radians().sin_cos();
    match k {
        0 => [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]],
        1 => [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
        _ => [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
    }
}

/// Local transform = translate(offset, or position channels) * R1 * R2 * R3 in the order the
/// channels are listed (the BVH convention: intrinsic rotations applied left to right).
fn forward_kinematics(
    joints: &[BvhJoint],
    values: &[f64],
    frames: usize,
    n_channels: usize,
    scale: f64,
) -> Vec<Vec3> {
    let nj = joints.len();
    let mut out = Vec::with_capacity(frames * nj);
    let mut rot: Vec<Mat3> = vec![[[0.0; 3]; 3]; nj];
    let mut pos: Vec<[f64; 3]> = vec![[0.0; 3]; nj];
    for f in 0..frames {
        let row = &values[f * n_channels..(f + 1) * n_channels];
        let mut c = 0;
        for (i, j) in joints.iter().enumerate() {
            let mut t = j.offset;
            let mut r: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
            for ch in &j.channels {
                match *ch {
                    Channel::Pos(k) => t[k] = row[c],
                    Channel::Rot(k) => r = matmul(&r, &axis_rotation(k, row[c])),
                }
                c += 1;
            }
            if let Some(p) = j.parent {
                let d = matvec(&rot[p], t);
                pos[i] = [pos[p][0] + d[0], pos[p][1] + d[1], pos[p][2] + d[2]];
                rot[i] = matmul(&rot[p], &r);
            } else {
                pos[i] = t;
                rot[i] = r;
            }
            out.push([
                (pos[i][0] * scale) as f32,
                (pos[i][1] * scale) as f32,
                (pos[i][2] * scale) as f32,
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_LINK: &str = "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n JOINT LeftUpLeg\n {\n  OFFSET 10 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 -40 0\n  }\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.02\n0 100 0 0 0 0 0 0 0\n0 100 0 0 0 0 0 90 0\n";

    #[test]
    fn forward_kinematics_rotates_children() {
        let m = parse(TWO_LINK, Path::new("t.bvh"), None).unwrap();
        assert_eq!(m.skeleton.joint_count(), 3);
        assert_eq!(m.skeleton.joints[2].name, "LeftUpLeg_End");
        assert_eq!(m.skeleton.source_units, Units::Centimetres);
        assert!((m.fps - 50.0).abs() < 1e-3);
        // Frame 0: end site straight below the hip, 0.4 m.
        let e0 = m.positions[2];
        assert!((e0[1] - 0.6).abs() < 1e-5 && (e0[0] - 0.1).abs() < 1e-5);
        // Frame 1: X rotation of 90 deg swings (0,-40,0) to (0,0,-40).
        let e1 = m.positions[5];
        assert!((e1[1] - 1.0).abs() < 1e-5, "{e1:?}");
        assert!((e1[2] + 0.4).abs() < 1e-5, "{e1:?}");
    }

    #[test]
    fn short_frame_row_names_its_line() {
        let bad = TWO_LINK.replace("0 100 0 0 0 0 0 90 0", "0 100 0 0 0");
        let err = parse(&bad, Path::new("bad.bvh"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.bvh:20"), "{err}");
        assert!(err.contains("expected 9 channel values, found 5"), "{err}");
    }

    #[test]
    fn truncated_hierarchy_is_an_error() {
        let err = parse(
            "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0",
            Path::new("t.bvh"),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unexpected end of file"), "{err}");
    }
}
