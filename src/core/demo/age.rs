//! Age norms of the demo generator: body size and proportions, cadence, speed and stance from
//! about 6 to 85 years, from published reference data (each row names its sources).
//!
//! Values are means of girls/women and boys/men; a virtual subject draws around them. Between
//! rows the norms are interpolated linearly; outside 6-85 they are held at the end rows.

use serde::{Deserialize, Serialize};

/// Norms at one age.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AgeNorms {
    /// Age, years.
    pub age_years: f32,
    /// Standing height, m.
    pub height_m: f32,
    /// Sitting height / standing height; the rest of the stature is leg.
    pub sitting_height_ratio: f32,
    /// Comfortable cadence, steps/min.
    pub cadence_steps_min: f32,
    /// Comfortable walking speed, m/s.
    pub speed_m_s: f32,
    /// Stance, % of the stride.
    pub stance_pct: f32,
}

impl AgeNorms {
    /// Stride length implied by speed and cadence, m.
    #[must_use]
    pub fn stride_length_m(&self) -> f32 {
        self.speed_m_s * 120.0 / self.cadence_steps_min
    }

    /// Leg length relative to the adult proportions the body model was built on (Winter's
    /// table, sitting height ratio 0.52): below 1 for children, whose legs are shorter for
    /// their stature.
    #[must_use]
    pub fn leg_scale(&self) -> f32 {
        (1.0 - self.sitting_height_ratio) / (1.0 - ADULT_SITTING_HEIGHT_RATIO)
    }
}

/// The sitting height ratio of the adult body model.
pub const ADULT_SITTING_HEIGHT_RATIO: f32 = 0.52;

/// `(age, height m, sitting height ratio, cadence steps/min, speed m/s, stance %)`.
///
/// Sources, by column:
/// - height 6-18: CDC 2000 growth charts, 50th percentile (Kuczmarski et al. 2002, Vital
///   Health Stat 11(246)); 20-85: NHANES 2015-2018 (Fryar et al. 2021, Vital Health Stat
///   3(46)), the loss of stature with age included;
/// - sitting height ratio: Fredriks et al. 2005 (Arch Dis Child 90:807), Dutch references,
///   0.555 at 6 years falling to the adult 0.52 by 14;
/// - cadence and speed 6-14: Dusing & Thorpe 2007 (Gait Posture 25:135, `GAITRite` norms of
///   children) and Sutherland et al. 1980 (J Bone Joint Surg Am 62:336); 20-85 speed:
///   Bohannon & Williams Andrews 2011 (Physiotherapy 97:182, meta-analysis by decade); cadence
///   20-79: Oberg et al. 1993 (J Rehabil Res Dev 30:210), 80-85: Hollman et al. 2011 (Gait
///   Posture 34:111);
/// - stance: about 60 % from childhood through middle age (Sutherland 1980; Oberg 1993),
///   rising with the double support of older adults (Hollman 2011: double support 26-30 % in
///   the 70s and 80s).
const TABLE: [(f32, f32, f32, f32, f32, f32); 12] = [
    (6.0, 1.155, 0.555, 145.0, 1.15, 60.0),
    (8.0, 1.275, 0.540, 136.0, 1.20, 60.0),
    (10.0, 1.385, 0.530, 128.0, 1.25, 60.0),
    (12.0, 1.505, 0.522, 122.0, 1.28, 60.0),
    (14.0, 1.620, 0.520, 117.0, 1.30, 60.0),
    (18.0, 1.700, 0.520, 113.0, 1.34, 60.0),
    (30.0, 1.690, 0.520, 113.0, 1.37, 60.0),
    (50.0, 1.685, 0.520, 112.0, 1.39, 60.5),
    (65.0, 1.670, 0.522, 111.0, 1.29, 61.5),
    (75.0, 1.655, 0.524, 109.0, 1.19, 62.5),
    (80.0, 1.645, 0.525, 107.0, 1.08, 63.5),
    (85.0, 1.635, 0.526, 103.0, 0.96, 64.5),
];

/// Youngest and oldest age of the norms, years.
pub const AGE_RANGE: (f32, f32) = (6.0, 85.0);

/// Norms at `age` years (interpolated; held at the ends of 6-85).
#[must_use]
pub fn norms(age: f32) -> AgeNorms {
    let row = |r: &(f32, f32, f32, f32, f32, f32)| AgeNorms {
        age_years: r.0,
        height_m: r.1,
        sitting_height_ratio: r.2,
        cadence_steps_min: r.3,
        speed_m_s: r.4,
        stance_pct: r.5,
    };
    let age = if age.is_finite() { age } else { 30.0 };
    let first = row(&TABLE[0]);
    if age <= first.age_years {
        return first;
    }
    for w in TABLE.windows(2) {
        let (a, b) = (row(&w[0]), row(&w[1]));
        if age <= b.age_years {
            let t = (age - a.age_years) / (b.age_years - a.age_years);
            let lerp = |x: f32, y: f32| x + (y - x) * t;
            return AgeNorms {
                age_years: age,
                height_m: lerp(a.height_m, b.height_m),
                sitting_height_ratio: lerp(a.sitting_height_ratio, b.sitting_height_ratio),
                cadence_steps_min: lerp(a.cadence_steps_min, b.cadence_steps_min),
                speed_m_s: lerp(a.speed_m_s, b.speed_m_s),
                stance_pct: lerp(a.stance_pct, b.stance_pct),
            };
        }
    }
    row(&TABLE[TABLE.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_interpolate_and_hold_at_the_ends() {
        assert!((norms(6.0).height_m - 1.155).abs() < 1e-6);
        assert!((norms(3.0).height_m - 1.155).abs() < 1e-6);
        assert!((norms(95.0).cadence_steps_min - 103.0).abs() < 1e-6);
        let n = norms(7.0);
        assert!((n.height_m - 1.215).abs() < 1e-4);
        assert!((n.cadence_steps_min - 140.5).abs() < 1e-4);
        // Children have proportionally shorter legs; adults are the body model's own.
        assert!(norms(6.0).leg_scale() < 0.95);
        assert!((norms(30.0).leg_scale() - 1.0).abs() < 1e-6);
        // Stride grows with age through childhood and shortens in old age.
        assert!(norms(6.0).stride_length_m() < norms(30.0).stride_length_m());
        assert!(norms(85.0).stride_length_m() < norms(30.0).stride_length_m());
        for w in TABLE.windows(2) {
            assert!(w[0].0 < w[1].0, "ages must increase");
        }
    }
}
