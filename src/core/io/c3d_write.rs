//! C3D writer following the C3D.org specification, for the readers of the field (ezc3d under
//! OpenSim and biorbd, the `c3d` Python package, Mokka, `Visual3D`). `c3dio` 0.8 (the newest
//! release) writes files these readers refuse (no `POINT:SCALE`, `RATE` or `DATA_START`, a
//! zero last frame in the header), so the file is laid out here; `c3dio` still reads.
//!
//! The file: a 512-byte header, the parameter section ([`super::c3d_params`]) from block 2, then
//! the 3D data as IEEE floats (negative scale): per frame and point x, y, z in millimetres and a
//! residual word, 0 for a valid computed point and -1 for a missing one. Events go into the
//! EVENT group with the contexts and labels Vicon Nexus, Mokka and pyCGM2 use; an event at
//! sequence frame `i` has time `i / rate` s (frame 1 of the file is time 0).

use super::c3d_params::{Group, Param, ParamError, encode};
use crate::core::data::{GaitEvents, Side};
use crate::core::math::Vec3;

/// C3D event label of a heel strike.
pub const FOOT_STRIKE: &str = "Foot Strike";
/// C3D event label of a toe off.
pub const FOOT_OFF: &str = "Foot Off";

/// What goes into one C3D file.
#[derive(Debug, Clone)]
pub struct C3dTrial<'a> {
    /// Point labels (joint names).
    pub names: &'a [String],
    /// `frames * names` positions in metres (non-finite: missing).
    pub positions: &'a [Vec3],
    /// Frame rate.
    pub fps: f32,
    /// Gait events to store (empty for none).
    pub events: &'a GaitEvents,
    /// Subject name (SUBJECTS:NAMES and every event's subject).
    pub subject: &'a str,
    /// Extra groups (e.g. the walk's class and provenance).
    pub extra: Vec<Group>,
}

/// Context name of a side in the EVENT group.
#[must_use]
pub fn context_name(side: Side) -> &'static str {
    match side {
        Side::Left => "Left",
        Side::Right => "Right",
    }
}

fn event_group(trial: &C3dTrial<'_>) -> Result<Group, ParamError> {
    let timeline = trial.events.timeline();
    if timeline.len() > 255 {
        return Err(ParamError::TooLarge {
            group: "EVENT".into(),
            name: "USED".into(),
            what: format!(
                "{} events (a C3D event array holds at most 255)",
                timeline.len()
            ),
        });
    }
    let n = timeline.len();
    let (mut contexts, mut labels, mut descriptions, mut times, mut icons) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(side, frame, strike) in &timeline {
        contexts.push(context_name(side).to_string());
        labels.push(if strike { FOOT_STRIKE } else { FOOT_OFF }.to_string());
        descriptions.push(
            if strike {
                "The instant the heel strikes the ground"
            } else {
                "The instant the toe leaves the ground"
            }
            .to_string(),
        );
        // TIMES is [minutes, seconds] per event; minutes stay 0 so seconds read directly.
        times.extend([0.0, frame as f32 / trial.fps]);
        icons.push(if strike { 1 } else { 2 });
    }
    Ok(Group::new(
        "EVENT",
        "Gait events",
        vec![
            Param::int("USED", n as i16, "Number of events"),
            Param::strings("CONTEXTS", &contexts, "Side of each event"),
            Param::strings("LABELS", &labels, "Event names"),
            Param::strings("DESCRIPTIONS", &descriptions, "Event descriptions"),
            Param::strings("SUBJECTS", &vec![trial.subject.to_string(); n], "Subject"),
            Param::floats(
                "TIMES",
                vec![2, n as u8],
                times,
                "Minutes and seconds from the first frame",
            ),
            Param::ints("ICON_IDS", icons, ""),
            Param::ints("GENERIC_FLAGS", vec![0; n], ""),
        ],
    ))
}

/// POINT: the points, their scale (negative: float data), rate, first data block, frame count,
/// labels and units.
fn point_group(trial: &C3dTrial<'_>, frames: usize, data_start: u16) -> Group {
    let n = trial.names.len();
    // POINT:FRAMES is a 16-bit word read as unsigned; longer trials store it as a float
    // (C3D.org, "Maintaining C3D frame count compatibility").
    let frames_param = match u16::try_from(frames) {
        Ok(f) => Param::int("FRAMES", f as i16, "Number of frames"),
        Err(_) => Param::float("FRAMES", frames as f32, "Number of frames"),
    };
    Group::new(
        "POINT",
        "3D point parameters",
        vec![
            Param::int("USED", n as i16, "Number of points"),
            Param::float("SCALE", -1.0, "Negative: float data"),
            Param::float("RATE", trial.fps, "Frames per second"),
            Param::int("DATA_START", data_start as i16, "First block of 3D data"),
            frames_param,
            Param::strings("LABELS", trial.names, "Point labels"),
            Param::strings("DESCRIPTIONS", trial.names, "Joint centres"),
            Param::string("UNITS", "mm", "Distance units"),
            Param::string("X_SCREEN", "+X", ""),
            Param::string("Y_SCREEN", "+Z", ""),
        ],
    )
}

/// `ANALOG` and `FORCE_PLATFORM` (none), and `TRIAL` (the frame range and camera rate).
fn acquisition_groups(trial: &C3dTrial<'_>, frames: usize) -> [Group; 3] {
    let analog = Group::new(
        "ANALOG",
        "Analog data parameters",
        vec![
            Param::int("USED", 0, "Number of analog channels"),
            Param::strings("LABELS", &[], ""),
            Param::strings("DESCRIPTIONS", &[], ""),
            Param::float("GEN_SCALE", 1.0, ""),
            Param::floats("SCALE", vec![0], Vec::new(), ""),
            Param::ints("OFFSET", Vec::new(), ""),
            Param::strings("UNITS", &[], ""),
            Param::float("RATE", 0.0, "No analog data"),
        ],
    );
    let force = Group::new(
        "FORCE_PLATFORM",
        "Force platforms",
        vec![Param::int("USED", 0, "")],
    );
    let trial_g = Group::new(
        "TRIAL",
        "",
        vec![
            Param::ints(
                "ACTUAL_START_FIELD",
                vec![1, 0],
                "First frame (low, high word)",
            ),
            Param::ints(
                "ACTUAL_END_FIELD",
                vec![
                    (frames & 0xffff) as u16 as i16,
                    (frames >> 16) as u16 as i16,
                ],
                "Last frame (low, high word)",
            ),
            Param::float("CAMERA_RATE", trial.fps, ""),
        ],
    );
    [analog, force, trial_g]
}

/// `EVENT_CONTEXT` (Left, Right, General), `SUBJECTS` and `MANUFACTURER`.
fn context_groups(trial: &C3dTrial<'_>) -> [Group; 3] {
    let contexts = Group::new(
        "EVENT_CONTEXT",
        "Event contexts",
        vec![
            Param::int("USED", 3, ""),
            Param::ints("ICON_IDS", vec![0, 1, 2], ""),
            Param::strings(
                "LABELS",
                &["Left".into(), "Right".into(), "General".into()],
                "",
            ),
            Param::strings(
                "DESCRIPTIONS",
                &[
                    "Left side".into(),
                    "Right side".into(),
                    "For other events".into(),
                ],
                "",
            ),
            Param {
                dims: vec![3, 3],
                ..Param::ints("COLOURS", vec![255, 0, 0, 0, 143, 0, 0, 0, 255], "")
            },
        ],
    );
    let subjects = Group::new(
        "SUBJECTS",
        "",
        vec![
            Param::int("USED", 1, ""),
            Param::strings("NAMES", &[trial.subject.to_string()], ""),
            Param::strings("LABEL_PREFIXES", &[String::new()], ""),
            Param::int("IS_STATIC", 0, ""),
        ],
    );
    let maker = Group::new(
        "MANUFACTURER",
        "",
        vec![
            Param::string("COMPANY", "PathoGait Studio", ""),
            Param::string("SOFTWARE", "pathogait", ""),
            Param::string("VERSION_LABEL", env!("CARGO_PKG_VERSION"), ""),
        ],
    );
    [contexts, subjects, maker]
}

/// Every parameter group of the file, in the order writers of the field use.
fn groups(trial: &C3dTrial<'_>, frames: usize, data_start: u16) -> Result<Vec<Group>, ParamError> {
    let [analog, force, trial_g] = acquisition_groups(trial, frames);
    let [contexts, subjects, maker] = context_groups(trial);
    let mut out = vec![
        point_group(trial, frames, data_start),
        analog,
        force,
        trial_g,
        event_group(trial)?,
        contexts,
        subjects,
        maker,
    ];
    out.extend(trial.extra.iter().cloned());
    Ok(out)
}

/// Encodes a whole C3D file.
///
/// # Errors
/// More than 255 points or events, names over 127 characters, or a parameter section over 255
/// blocks.
pub fn to_bytes(trial: &C3dTrial<'_>) -> Result<Vec<u8>, ParamError> {
    let n = trial.names.len();
    if n == 0 || n > 255 {
        return Err(ParamError::TooLarge {
            group: "POINT".into(),
            name: "USED".into(),
            what: format!("{n} points (1 to 255 supported)"),
        });
    }
    let frames = trial.positions.len() / n;
    // The parameter size depends on DATA_START only through its value: encode once to learn
    // the block count, then again with the final data start.
    let blocks = encode(&groups(trial, frames, 0)?)?.len() / 512;
    let data_start = 2 + blocks as u16;
    let params = encode(&groups(trial, frames, data_start)?)?;
    let mut out = header(n, frames, trial.fps, data_start);
    out.extend(params);
    out.reserve(frames * n * 16);
    for p in trial.positions.iter().take(frames * n) {
        let (xyz, residual) = if p.iter().all(|v| v.is_finite()) {
            ([p[0] * 1000.0, p[1] * 1000.0, p[2] * 1000.0], 0.0f32)
        } else {
            ([0.0; 3], -1.0)
        };
        for v in xyz.into_iter().chain([residual]) {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let pad = out.len().div_ceil(512) * 512;
    out.resize(pad, 0);
    Ok(out)
}

/// The 512-byte header (16-bit words, Intel order).
fn header(points: usize, frames: usize, fps: f32, data_start: u16) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    let mut word = |w: usize, v: u16| h[2 * (w - 1)..2 * w].copy_from_slice(&v.to_le_bytes());
    word(2, points as u16);
    word(3, 0); // analog samples per 3D frame, all channels
    word(4, 1); // first frame
    word(5, frames.clamp(1, 65535) as u16); // last frame (longer trials: TRIAL group)
    word(6, 0); // maximum interpolation gap
    word(9, data_start);
    word(10, 0); // analog samples per frame
    word(150, 0x3039); // 4-character event labels supported
    word(151, 0); // no header events: they live in the EVENT group
    h[0] = 2; // parameter section starts at block 2
    h[1] = 0x50;
    h[12..16].copy_from_slice(&(-1.0f32).to_le_bytes());
    h[20..24].copy_from_slice(&fps.to_le_bytes());
    h
}
