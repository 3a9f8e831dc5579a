//! The 3D points of a C3D file, read from the header, the parameter section and the data
//! blocks. The importer reads points through `c3dio` first; this reader takes over when c3dio
//! fails on a valid file: c3dio reads every event's time from the header's 18-slot event
//! table and runs off the end of the header block with 52 or more events (a walk of about a
//! minute), so a long walk exported by this program would not import otherwise.

use super::c3d_params::{self, Group, Processor};

/// Points as stored: labels, rate, units and `frames * points` positions in file units
/// (NaN where the residual marks the sample invalid).
#[derive(Debug, Clone, PartialEq)]
pub struct RawPoints {
    /// Point labels (trimmed).
    pub labels: Vec<String>,
    /// Point frame rate.
    pub rate: f32,
    /// `POINT:UNITS` ("mm" when absent).
    pub units: String,
    /// Frames.
    pub frames: usize,
    /// Positions in file units.
    pub positions: Vec<[f32; 3]>,
}

/// An unsigned 16-bit count stored in a signed word (or a float for long trials).
fn count(groups: &[Group], group: &str, name: &str) -> Option<usize> {
    let p = c3d_params::find(groups, group, name)?;
    let v = *p.as_f32().first()?;
    match p.data {
        c3d_params::ParamData::Int16(_) => Some(usize::from(v as i16 as u16)),
        _ => (v >= 0.0).then_some(v as usize),
    }
}

/// The parameter section of a C3D file's bytes, located by the header's first byte and sized by
/// the section's own block count.
///
/// # Errors
/// A header that does not point at a parameter section.
pub fn parameter_section(bytes: &[u8]) -> Result<&[u8], String> {
    let start = usize::from(*bytes.first().unwrap_or(&0)).saturating_sub(1) * 512;
    if bytes.len() < 512 || start == 0 || start + 4 > bytes.len() {
        return Err("not a C3D file: the header does not point at a parameter section".into());
    }
    let blocks = usize::from(bytes[start + 2]).max(1);
    Ok(&bytes[start..(start + blocks * 512).min(bytes.len())])
}

/// Reads the points of a C3D file from its bytes.
///
/// # Errors
/// A header that does not point at a parameter section, a malformed section, or data blocks
/// shorter than the frames they announce.
pub fn read_points(bytes: &[u8]) -> Result<RawPoints, String> {
    let (proc, groups) =
        c3d_params::decode(parameter_section(bytes)?).map_err(|e| e.to_string())?;
    let word = |w: usize| u16::from_le_bytes([bytes[2 * w - 2], bytes[2 * w - 1]]);
    let word = |w: usize| match proc {
        Processor::Mips => word(w).swap_bytes(),
        Processor::Intel | Processor::Dec => word(w),
    };
    let n = count(&groups, "POINT", "USED").unwrap_or(usize::from(word(2)));
    let frames = count(&groups, "POINT", "FRAMES")
        .unwrap_or_else(|| usize::from(word(5).saturating_sub(word(4))) + 1);
    let scale = c3d_params::find(&groups, "POINT", "SCALE")
        .and_then(|p| p.as_f32().first().copied())
        .unwrap_or(-1.0);
    let rate = c3d_params::find(&groups, "POINT", "RATE")
        .and_then(|p| p.as_f32().first().copied())
        .unwrap_or(0.0);
    let data_start = count(&groups, "POINT", "DATA_START").unwrap_or(usize::from(word(9)));
    // Analog samples interleaved after each frame's points, all channels together.
    let analog = usize::from(word(3));
    let float = scale < 0.0;
    let width = if float { 4 } else { 2 };
    let frame_bytes = (4 * n + analog) * width;
    let data = data_start.saturating_sub(1) * 512;
    // Counts come from the file: a damaged one must not overflow.
    let need = frames
        .checked_mul(frame_bytes)
        .and_then(|b| b.checked_add(data))
        .unwrap_or(usize::MAX);
    if data == 0 || need > bytes.len() {
        return Err(format!(
            "{frames} frames of {n} points need {need} bytes; the file has {}",
            bytes.len()
        ));
    }
    let value = |at: usize| -> f32 {
        if float {
            proc.f32([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        } else {
            f32::from(proc.i16([bytes[at], bytes[at + 1]]))
        }
    };
    let k = if float { 1.0 } else { scale.abs() };
    let mut positions = Vec::with_capacity(frames * n);
    for f in 0..frames {
        for m in 0..n {
            let at = data + f * frame_bytes + 4 * m * width;
            let residual = value(at + 3 * width);
            positions.push(if residual < 0.0 {
                [f32::NAN; 3]
            } else {
                [
                    value(at) * k,
                    value(at + width) * k,
                    value(at + 2 * width) * k,
                ]
            });
        }
    }
    let labels = c3d_params::find(&groups, "POINT", "LABELS").map_or_else(Vec::new, |p| {
        p.as_strings()
            .iter()
            .map(|s| s.trim().to_string())
            .collect()
    });
    let units = c3d_params::find(&groups, "POINT", "UNITS")
        .and_then(|p| p.as_strings().into_iter().next())
        .unwrap_or_else(|| "mm".into());
    Ok(RawPoints {
        labels,
        rate,
        units,
        frames,
        positions,
    })
}
