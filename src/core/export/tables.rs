//! The CSV files of an export, written through the `csv` crate so ids, subjects, labels and
//! tags holding commas, quotes or newlines are quoted and read back unchanged:
//! `dataset.csv` (one row per walk, frame and joint), `walks.csv` (one row per walk),
//! `events.csv` (one row per gait event) and the Kinect layout's `index.csv` label table.

use super::ManifestItem;
use super::numpy::NpzSet;
use crate::core::data::Side;
use crate::core::io::c3d_write::{FOOT_OFF, FOOT_STRIKE, context_name};

/// The bytes a CSV writer wrote to memory.
pub(super) fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, String> {
    w.into_inner().map_err(|e| e.to_string())
}

/// Long CSV of the npz arrays: `id,subject,label,synthetic,frame,time_s,joint,x,y,z` (metres).
///
/// # Errors
/// When the CSV writer fails (it writes to memory, so only on a broken invariant).
pub fn dataset_csv(set: &NpzSet) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record([
        "id",
        "subject",
        "label",
        "synthetic",
        "frame",
        "time_s",
        "joint",
        "x",
        "y",
        "z",
    ])
    .map_err(e)?;
    for (i, walk) in set.positions.iter().enumerate() {
        let name = |names: &[String], k: i32| {
            usize::try_from(k)
                .ok()
                .and_then(|k| names.get(k))
                .cloned()
                .unwrap_or_default()
        };
        let label = name(&set.label_names, set.labels[i]);
        let subject = name(&set.subject_names, set.subjects[i]);
        let synthetic = set.synthetic[i].to_string();
        for f in 0..set.lengths[i].max(0) as usize {
            let time = format!("{:.5}", f as f32 / set.fps[i].max(1e-3));
            let frame = f.to_string();
            for (k, joint) in set.joint_names.iter().enumerate() {
                let p = walk[f * set.joints + k];
                let [x, y, z] = p.map(|v| format!("{v:.6}"));
                w.write_record([
                    set.ids[i].as_str(),
                    &subject,
                    &label,
                    &synthetic,
                    &frame,
                    &time,
                    joint,
                    &x,
                    &y,
                    &z,
                ])
                .map_err(e)?;
            }
        }
    }
    finish(w)
}

/// One row per walk: id, subject, label, severity, synthetic, frames, fps, curation decision,
/// tags (a JSON array, so tags may hold any character), note, event source and files.
///
/// # Errors
/// As [`dataset_csv`].
pub fn walks_csv(items: &[ManifestItem]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record([
        "id",
        "subject",
        "label",
        "severity",
        "synthetic",
        "frames",
        "fps",
        "decision",
        "tags",
        "note",
        "events",
        "files",
    ])
    .map_err(e)?;
    for it in items {
        let tags = serde_json::to_string(&it.curation.tags).map_err(|e| e.to_string())?;
        w.write_record([
            it.id.clone(),
            it.subject.clone(),
            it.label.clone().unwrap_or_default(),
            it.severity.map(|s| s.to_string()).unwrap_or_default(),
            u8::from(it.synthetic).to_string(),
            it.frames.to_string(),
            it.fps.to_string(),
            format!("{:?}", it.curation.decision),
            tags,
            it.curation.note.clone(),
            format!("{:?}", it.event_source),
            it.files.join(";"),
        ])
        .map_err(e)?;
    }
    finish(w)
}

/// One row per gait event: `id,subject,context,label,frame,time_s` with the C3D names
/// (`Left`/`Right`, `Foot Strike`/`Foot Off`); frame 0 is the walk's first frame, time 0 s.
///
/// # Errors
/// As [`dataset_csv`].
pub fn events_csv(items: &[ManifestItem]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record(["id", "subject", "context", "label", "frame", "time_s"])
        .map_err(e)?;
    for it in items {
        for (side, frame, strike) in it.events.timeline() {
            w.write_record([
                it.id.as_str(),
                &it.subject,
                context_name(side),
                if strike { FOOT_STRIKE } else { FOOT_OFF },
                &frame.to_string(),
                &format!("{:.5}", frame as f32 / it.fps.max(1e-3)),
            ])
            .map_err(e)?;
        }
    }
    finish(w)
}

/// The label table the importer finds beside Kinect files (`kinect/index.csv`): file (relative
/// to the table), subject, label, severity, side and the walk's id.
///
/// # Errors
/// As [`dataset_csv`].
pub fn kinect_index_csv(rows: &[(String, &ManifestItem, Option<Side>)]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record(["file", "subject", "label", "severity", "side", "id"])
        .map_err(e)?;
    for (file, it, side) in rows {
        w.write_record([
            file.as_str(),
            &it.subject,
            it.label.as_deref().unwrap_or(""),
            &it.severity.map(|s| s.to_string()).unwrap_or_default(),
            side.map_or("", Side::letter),
            &it.id,
        ])
        .map_err(e)?;
    }
    finish(w)
}
