//! The per-walk files of an export: file names (unique, and the reference dataset's Kinect
//! layout), the bytes of each format, and the PATHOGAIT group a C3D file carries.

use std::collections::BTreeSet;

use super::{ExportFormat, ManifestItem, bvh_write};
use crate::core::data::{CommonJoint, GaitSequence};
use crate::core::io::c3d_params::{Group, Param};
use crate::core::io::c3d_write::{C3dTrial, to_bytes};
use crate::core::io::{kinect_csv, trc};
use crate::core::math::Vec3;

/// File-safe version of an id.
fn stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The 25 Kinect v2 joints for a walk: its own if on the Kinect rig, else the common joints
/// (arms included) placed where Kinect has them, hands continued from the forearm, and NaN
/// (untracked) for the joints the walk does not have.
fn kinect_positions(seq: &GaitSequence) -> (Vec<Vec3>, bool) {
    if seq.skeleton.joint_count() == 25 && seq.skeleton.name == "kinect_v2" {
        return (seq.positions.clone(), false);
    }
    let k = crate::core::data::Skeleton::kinect_v2();
    let slots: Vec<(usize, CommonJoint)> = CommonJoint::EVERY
        .iter()
        .filter_map(|c| {
            k.common_sources(*c)
                .and_then(|s| s.first())
                .map(|&i| (i, *c))
        })
        .collect();
    let mut out = vec![[f32::NAN; 3]; seq.frames() * 25];
    for f in 0..seq.frames() {
        for &(slot, c) in &slots {
            if let Some(p) = seq.common(f, c) {
                out[f * 25 + slot] = p;
            }
        }
        // Spine shoulder lies on the neck-to-mid-spine line, 0.16 of the way down (the
        // demo body's proportions), so a rig without it still has a whole trunk.
        let (neck, mid) = (out[f * 25 + 2], out[f * 25 + 1]);
        if neck.iter().chain(&mid).all(|v| v.is_finite()) && !out[f * 25 + 20][0].is_finite() {
            out[f * 25 + 20] = std::array::from_fn(|i| neck[i] + 0.16 * (mid[i] - neck[i]));
        }
        // Hand, hand tip and thumb continue the forearm (Winter: hand centre 0.34 and hand
        // tip 0.51 forearm lengths beyond the wrist), so a rig with wrists has whole arms.
        for (elbow, wrist, hand, tip, thumb) in [(5, 6, 7, 21, 22), (9, 10, 11, 23, 24)] {
            let (e, w) = (out[f * 25 + elbow], out[f * 25 + wrist]);
            if e.iter().chain(&w).all(|v| v.is_finite()) {
                let along = |k: f32| std::array::from_fn(|i| w[i] + k * (w[i] - e[i]));
                out[f * 25 + hand] = along(0.34);
                out[f * 25 + tip] = along(0.51);
                out[f * 25 + thumb] = along(0.3);
            }
        }
    }
    (out, true)
}

/// File names handed out so far: walks whose ids differ only in characters a file name cannot
/// hold must not share files, and Kinect names must stay unique per subject and class.
#[derive(Default)]
pub(super) struct FileNames {
    stems: BTreeSet<String>,
    kinect: BTreeSet<String>,
}

impl FileNames {
    pub(super) fn stem(&mut self, id: &str) -> String {
        let base = stem(id);
        let mut id = base.clone();
        let mut n = 2;
        while !self.stems.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        id
    }

    /// `<base>/<base>_SkeletonData<M>.csv` as the reference dataset names recordings: the
    /// walk's own name when its id already follows it, `humanN_<gait>K` when its subject and
    /// class fit that scheme, else its file stem.
    pub(super) fn kinect(&mut self, s: &GaitSequence, stem_id: &str) -> String {
        let gait = s.label.as_deref().map(str::to_ascii_lowercase);
        let fits = s
            .subject
            .strip_prefix("human")
            .is_some_and(|n| n.parse::<u32>().is_ok())
            && gait
                .as_deref()
                .is_some_and(|g| kinect_csv::GAITS.contains(&g));
        let (base, recording) = match kinect_csv::parse_layout_name(&s.id) {
            Some(k) => (
                format!("{}_{}{}", k.subject, k.gait, k.trial),
                k.recording.unwrap_or(1),
            ),
            None if fits => {
                let g = gait.unwrap_or_default();
                // One of the first n + 1 trial numbers is free.
                let k = (1..=self.kinect.len() + 1)
                    .find(|k| {
                        !self
                            .kinect
                            .contains(&format!("{}_{g}{k}_SkeletonData1", s.subject))
                    })
                    .unwrap_or(1);
                (format!("{}_{g}{k}", s.subject), 1)
            }
            None => (stem_id.to_string(), 1),
        };
        let mut m = recording;
        while !self.kinect.insert(format!("{base}_SkeletonData{m}")) {
            m += 1;
        }
        format!("{base}/{base}_SkeletonData{m}.csv")
    }
}

/// The bytes of one per-walk file.
pub(super) fn walk_file(
    f: ExportFormat,
    s: &GaitSequence,
    item: &ManifestItem,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, String> {
    match f {
        ExportFormat::C3d => {
            let names: Vec<String> = s.skeleton.joints.iter().map(|j| j.name.clone()).collect();
            let trial = C3dTrial {
                names: &names,
                positions: &s.positions,
                fps: s.fps,
                events: &item.events,
                subject: &s.subject,
                extra: vec![walk_group(item)?],
            };
            to_bytes(&trial).map_err(|e| e.to_string())
        }
        ExportFormat::Trc => Ok(trc::opensim_text(&format!("{}.trc", stem(&s.id)), s).into_bytes()),
        ExportFormat::Bvh => bvh_write::to_bvh_text(s).map(String::into_bytes),
        ExportFormat::Kinect => {
            let (pos, filled) = kinect_positions(s);
            if filled && pos.iter().any(|p| p.iter().any(|v| !v.is_finite())) {
                notes.push(
                    "Kinect layout: walks not recorded on the Kinect rig carry their common \
                     joints; the joints they do not have (arms and hands on rigs without \
                     arms) are written as nan (untracked)"
                        .into(),
                );
            }
            // The reference dataset's axes: walking along +Y towards the camera.
            let pos = kinect_csv::from_canonical(&pos, 25);
            Ok(kinect_csv::to_text(&pos, s.fps, 0.0).into_bytes())
        }
        ExportFormat::Npz | ExportFormat::Csv => Ok(Vec::new()),
    }
}

/// The C3D group carrying what the file's standard groups cannot: id, class, severity,
/// whether the walk is synthetic, its provenance (JSON in 80-character lines) and where its
/// events came from.
fn walk_group(item: &ManifestItem) -> Result<Group, String> {
    let provenance = serde_json::to_string(&item.provenance).map_err(|e| e.to_string())?;
    let lines: Vec<String> = provenance
        .as_bytes()
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut params = vec![
        Param::string("ID", &item.id, "Walk id"),
        Param::string("CLASS", item.label.as_deref().unwrap_or(""), "Gait class"),
        Param::int(
            "SYNTHETIC",
            i16::from(item.synthetic),
            "1: generated or demo data",
        ),
        Param::strings("PROVENANCE", &lines, "JSON, in 80-character lines"),
        Param::string("EVENT_SOURCE", &format!("{:?}", item.event_source), ""),
    ];
    if let Some(sev) = item.severity {
        params.push(Param::float("SEVERITY", sev, "0..1"));
    }
    Ok(Group::new("PATHOGAIT", "PathoGait Studio walk", params))
}
