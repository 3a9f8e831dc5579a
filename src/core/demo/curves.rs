//! Joint-angle curves over the gait cycle for the demo generator.
//!
//! Normal adult sagittal/frontal curves as keyframes (percent of cycle, degrees), shaped after
//! the textbook curves of Perry & Burnfield and Winter, interpolated with a periodic
//! Catmull-Rom spline. Pathologies edit keyframes of the affected side.

use serde::{Deserialize, Serialize};

/// A periodic curve through `(percent, degrees)` keyframes; the value at 100 % equals 0 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Keyframes with strictly increasing percent in `[0, 100)`.
    pub keys: Vec<(f32, f32)>,
}

impl Curve {
    /// A curve from keyframes.
    #[must_use]
    pub fn new(keys: &[(f32, f32)]) -> Self {
        Self {
            keys: keys.to_vec(),
        }
    }

    /// Value at `phase` in `[0, 1)` (wrapped).
    #[must_use]
    pub fn at(&self, phase: f32) -> f32 {
        let n = self.keys.len();
        if n == 0 {
            return 0.0;
        }
        if n == 1 {
            return self.keys[0].1;
        }
        let x = phase.rem_euclid(1.0) * 100.0;
        // Segment i spans keys[i] -> keys[i + 1] (wrapping with +100 %).
        let key = |i: isize| -> (f32, f32) {
            let len = n as isize;
            let wraps = i.div_euclid(len);
            let (p, v) = self.keys[i.rem_euclid(len) as usize];
            (p + 100.0 * wraps as f32, v)
        };
        let mut i: isize = n as isize - 1;
        for (k, (p, _)) in self.keys.iter().enumerate() {
            if *p <= x {
                i = k as isize;
            }
        }
        if x < self.keys[0].0 {
            i = -1;
        }
        let (p0, v0) = key(i - 1);
        let (p1, v1) = key(i);
        let (p2, v2) = key(i + 1);
        let (p3, v3) = key(i + 2);
        let t = (x - p1) / (p2 - p1);
        // Non-uniform Catmull-Rom tangents (finite differences over neighbouring keys).
        let m1 = (v2 - v0) / (p2 - p0) * (p2 - p1);
        let m2 = (v3 - v1) / (p3 - p1) * (p2 - p1);
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * v1
            + (t3 - 2.0 * t2 + t) * m1
            + (-2.0 * t3 + 3.0 * t2) * v2
            + (t3 - t2) * m2
    }

    /// Range (max - min) sampled at 1000 points.
    #[must_use]
    pub fn range(&self) -> f32 {
        let v: Vec<f32> = (0..1000).map(|i| self.at(i as f32 / 1000.0)).collect();
        v.iter().copied().fold(f32::MIN, f32::max) - v.iter().copied().fold(f32::MAX, f32::min)
    }

    /// Adds `delta` degrees to keys within `[from, to]` percent.
    pub fn add(&mut self, from: f32, to: f32, delta: f32) {
        for k in &mut self.keys {
            if k.0 >= from && k.0 <= to {
                k.1 += delta;
            }
        }
    }

    /// Scales deviations from `pivot` by `factor` at every key.
    pub fn scale_about(&mut self, pivot: f32, factor: f32) {
        for k in &mut self.keys {
            k.1 = pivot + (k.1 - pivot) * factor;
        }
    }
}

/// The curves of one leg (and that side's share of pelvis and trunk motion), indexed by the
/// canonical phase where stance is 0-60 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideCurves {
    /// Hip flexion (+).
    pub hip_flexion: Curve,
    /// Knee flexion (+).
    pub knee_flexion: Curve,
    /// Ankle dorsiflexion (+).
    pub ankle_dorsiflexion: Curve,
    /// Hip adduction (+), relative to the pelvis.
    pub hip_adduction: Curve,
    /// Elevation of this side of the pelvis (+ up).
    pub pelvic_obliquity: Curve,
    /// Trunk lean toward this side (+).
    pub trunk_lateral: Curve,
    /// Trunk forward lean contributed by this side's cycle (+ forward).
    pub trunk_forward: Curve,
    /// This side's arm: shoulder flexion (+ forward) of the upper arm relative to the trunk,
    /// over the *opposite* leg's cycle, so arm swing is phase-locked to the opposite leg.
    #[serde(default = "normal_shoulder")]
    pub shoulder_flexion: Curve,
    /// This side's elbow flexion (+), over the opposite leg's cycle.
    #[serde(default = "normal_elbow")]
    pub elbow_flexion: Curve,
}

/// Normal arm swing over the opposite leg's cycle: the arm is furthest forward at that leg's
/// heel strike and furthest back half a cycle later, about 30 degrees of shoulder and 20 of
/// elbow range at comfortable speed (Murray et al. 1967, J Bone Joint Surg Am 49:272; Meyns,
/// Bruijn & Duysens 2013, Hum Mov Sci 32:1141).
fn normal_shoulder() -> Curve {
    Curve::new(&[
        (0.0, 12.0),
        (10.0, 10.0),
        (25.0, 0.0),
        (42.0, -15.0),
        (55.0, -18.0),
        (70.0, -9.0),
        (85.0, 5.0),
        (94.0, 11.5),
    ])
}

/// Normal elbow flexion over the opposite leg's cycle, most flexed as the arm swings forward.
fn normal_elbow() -> Curve {
    Curve::new(&[(0.0, 36.0), (25.0, 26.0), (50.0, 16.0), (75.0, 26.0)])
}

impl SideCurves {
    /// Typical adult curves.
    #[must_use]
    pub fn normal() -> Self {
        Self {
            // Thigh inclination from vertical: the clinical hip flexion curve minus ~10 deg
            // of anterior pelvic tilt, as skeleton hip angles are measured (see angles.rs).
            hip_flexion: Curve::new(&[
                (0.0, 20.0),
                (10.0, 17.0),
                (20.0, 9.0),
                (30.0, -1.0),
                (40.0, -11.0),
                (50.0, -19.0),
                (60.0, -8.0),
                (70.0, 5.0),
                (80.0, 16.0),
                (88.0, 22.0),
                (95.0, 20.5),
            ]),
            knee_flexion: Curve::new(&[
                (0.0, 4.0),
                (6.0, 11.0),
                (15.0, 18.0),
                (25.0, 12.0),
                (35.0, 6.0),
                (42.0, 5.0),
                (50.0, 10.0),
                (60.0, 36.0),
                (68.0, 55.0),
                (73.0, 60.0),
                (80.0, 50.0),
                (90.0, 20.0),
                (96.0, 5.0),
            ]),
            ankle_dorsiflexion: Curve::new(&[
                (0.0, 0.0),
                (7.0, -6.0),
                (15.0, 0.0),
                (30.0, 7.0),
                (45.0, 10.0),
                (52.0, 5.0),
                (60.0, -12.0),
                (65.0, -17.0),
                (72.0, -8.0),
                (80.0, -2.0),
                (90.0, 0.0),
            ]),
            hip_adduction: Curve::new(&[
                (0.0, 2.0),
                (12.0, 8.0),
                (30.0, 5.0),
                (50.0, 0.0),
                (62.0, -5.0),
                (75.0, -6.0),
                (90.0, -1.0),
            ]),
            pelvic_obliquity: Curve::new(&[
                (0.0, 0.0),
                (12.0, 4.0),
                (25.0, 4.5),
                (45.0, 1.0),
                (55.0, -2.0),
                (65.0, -4.5),
                (80.0, -3.5),
                (92.0, -1.0),
            ]),
            trunk_lateral: Curve::new(&[(0.0, 0.0), (20.0, 1.5), (50.0, 0.0), (70.0, -1.5)]),
            trunk_forward: Curve::new(&[(0.0, 0.0), (50.0, 0.0)]),
            shoulder_flexion: normal_shoulder(),
            elbow_flexion: normal_elbow(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spline_passes_through_keys_and_wraps() {
        let c = SideCurves::normal().knee_flexion;
        assert!((c.at(0.73) - 60.0).abs() < 1e-3);
        assert!((c.at(0.0) - 4.0).abs() < 1e-3);
        assert!((c.at(0.999_99) - c.at(0.0)).abs() < 0.01);
        assert!((c.at(1.25) - c.at(0.25)).abs() < 1e-4);
    }

    #[test]
    fn normal_ranges_are_textbook() {
        let n = SideCurves::normal();
        let knee = n.knee_flexion.range();
        let hip = n.hip_flexion.range();
        let ankle = n.ankle_dorsiflexion.range();
        assert!((54.0..62.0).contains(&knee), "{knee}");
        assert!((40.0..46.0).contains(&hip), "{hip}");
        assert!((25.0..32.0).contains(&ankle), "{ankle}");
    }
}
