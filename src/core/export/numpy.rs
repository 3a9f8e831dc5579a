//! NumPy `.npz` export (and read-back, for round-trip checks and reuse):
//!
//! | array | dtype | shape | meaning |
//! |---|---|---|---|
//! | `positions` | `<f4` | `[N, T, J, 3]` | metres, Z up, +X walking; frames past a walk's end are NaN |
//! | `lengths` | `<i4` | `[N]` | frames per walk |
//! | `fps` | `<f4` | `[N]` | frame rate per walk |
//! | `labels` | `<i4` | `[N]` | index into `label_names`, -1 when unlabelled |
//! | `subjects` | `<i4` | `[N]` | index into `subject_names` |
//! | `synthetic` | `<i4` | `[N]` | 1 for generated or demo walks, 0 for recordings |
//! | `ids`, `label_names`, `subject_names`, `joint_names` | `<U..` | | names |

use std::io;
use std::path::Path;
use std::str::FromStr as _;

use npyz::WriterBuilder as _;
use npyz::npz::{NpzArchive, NpzWriter};

use crate::core::math::Vec3;

/// Arrays of an exported set, in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NpzSet {
    /// `[N][T * J]` positions, NaN-padded to the longest walk.
    pub positions: Vec<Vec<Vec3>>,
    /// Frames `T` of the padded array.
    pub max_frames: usize,
    /// Joints `J`.
    pub joints: usize,
    /// Frames per walk.
    pub lengths: Vec<i32>,
    /// Frame rate per walk.
    pub fps: Vec<f32>,
    /// Label index per walk (-1 = none).
    pub labels: Vec<i32>,
    /// Subject index per walk.
    pub subjects: Vec<i32>,
    /// 1 = synthetic.
    pub synthetic: Vec<i32>,
    /// Walk ids.
    pub ids: Vec<String>,
    /// Label names.
    pub label_names: Vec<String>,
    /// Subject names.
    pub subject_names: Vec<String>,
    /// Joint names.
    pub joint_names: Vec<String>,
}

fn opts() -> zip::write::FileOptions {
    // Deflate: positions compress about 2x and numpy reads it natively.
    zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

fn write_strings<W: io::Write + io::Seek>(
    npz: &mut NpzWriter<W>,
    name: &str,
    values: &[String],
) -> io::Result<()> {
    let width = values
        .iter()
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(1)
        .max(1);
    let dtype = npyz::DType::Plain(
        npyz::TypeStr::from_str(&format!("<U{width}"))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
    );
    let mut w = npz
        .array::<str>(name, opts())?
        .dtype(dtype)
        .shape(&[values.len() as u64])
        .begin_nd()?;
    for v in values {
        w.push(v.as_str())?;
    }
    w.finish()
}

fn write_i32<W: io::Write + io::Seek>(
    npz: &mut NpzWriter<W>,
    name: &str,
    values: &[i32],
) -> io::Result<()> {
    let mut w = npz
        .array::<i32>(name, opts())?
        .default_dtype()
        .shape(&[values.len() as u64])
        .begin_nd()?;
    w.extend(values.iter().copied())?;
    w.finish()
}

/// Writes the set to `path` (the caller makes it atomic by writing to a temporary name).
///
/// # Errors
/// I/O failures.
pub fn write_npz(path: &Path, set: &NpzSet) -> io::Result<()> {
    let mut npz = NpzWriter::create(path)?;
    let n = set.positions.len() as u64;
    {
        let mut w = npz
            .array::<f32>("positions", opts())?
            .default_dtype()
            .shape(&[n, set.max_frames as u64, set.joints as u64, 3])
            .begin_nd()?;
        for walk in &set.positions {
            w.extend(walk.iter().flat_map(|p| p.iter().copied()))?;
        }
        w.finish()?;
    }
    write_i32(&mut npz, "lengths", &set.lengths)?;
    {
        let mut w = npz
            .array::<f32>("fps", opts())?
            .default_dtype()
            .shape(&[n])
            .begin_nd()?;
        w.extend(set.fps.iter().copied())?;
        w.finish()?;
    }
    write_i32(&mut npz, "labels", &set.labels)?;
    write_i32(&mut npz, "subjects", &set.subjects)?;
    write_i32(&mut npz, "synthetic", &set.synthetic)?;
    write_strings(&mut npz, "ids", &set.ids)?;
    write_strings(&mut npz, "label_names", &set.label_names)?;
    write_strings(&mut npz, "subject_names", &set.subject_names)?;
    write_strings(&mut npz, "joint_names", &set.joint_names)?;
    drop(npz); // the zip's central directory is written on drop
    Ok(())
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn array<T: npyz::Deserialize>(
    npz: &mut NpzArchive<io::BufReader<std::fs::File>>,
    name: &str,
) -> io::Result<(Vec<u64>, Vec<T>)> {
    let a = npz
        .by_name(name)?
        .ok_or_else(|| bad(format!("array '{name}' is missing")))?;
    let shape = a.shape().to_vec();
    Ok((shape, a.into_vec::<T>()?))
}

/// Reads a set written by [`write_npz`].
///
/// # Errors
/// I/O failures, missing arrays, or inconsistent shapes.
pub fn read_npz(path: &Path) -> io::Result<NpzSet> {
    let mut npz = NpzArchive::open(path)?;
    let (shape, flat) = array::<f32>(&mut npz, "positions")?;
    let [n, t, j, three] = shape[..] else {
        return Err(bad("positions must be 4-dimensional"));
    };
    if three != 3 {
        return Err(bad("positions must end in 3 coordinates"));
    }
    let (n, t, j) = (n as usize, t as usize, j as usize);
    let positions: Vec<Vec<Vec3>> = flat
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect::<Vec<Vec3>>()
        .chunks(t * j)
        .map(<[Vec3]>::to_vec)
        .collect();
    let strings = |npz: &mut NpzArchive<_>, name: &str| -> io::Result<Vec<String>> {
        Ok(array::<String>(npz, name)?.1)
    };
    let set = NpzSet {
        max_frames: t,
        joints: j,
        lengths: array::<i32>(&mut npz, "lengths")?.1,
        fps: array::<f32>(&mut npz, "fps")?.1,
        labels: array::<i32>(&mut npz, "labels")?.1,
        subjects: array::<i32>(&mut npz, "subjects")?.1,
        synthetic: array::<i32>(&mut npz, "synthetic")?.1,
        ids: strings(&mut npz, "ids")?,
        label_names: strings(&mut npz, "label_names")?,
        subject_names: strings(&mut npz, "subject_names")?,
        joint_names: strings(&mut npz, "joint_names")?,
        positions,
    };
    if set.positions.len() != n || set.lengths.len() != n || set.ids.len() != n {
        return Err(bad("per-walk arrays disagree in length"));
    }
    Ok(set)
}
