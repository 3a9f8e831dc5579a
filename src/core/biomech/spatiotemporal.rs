//! Spatio-temporal parameters per side, and symmetry indices.
//!
//! Symmetry index (Robinson et al. 1987), reported as an absolute percentage:
//! `SI = 100 * |L - R| / (0.5 * (L + R))`; 0 is perfect symmetry.

use serde::{Deserialize, Serialize};

use super::events::{Cycle, GaitEvents};
use crate::core::data::preprocess::heading_track;
use crate::core::data::{CommonJoint, GaitSequence, Side};
use crate::core::math::{Vec3, dot, mean, norm, sub};

/// Parameters of one side, each the mean over that side's valid cycles or steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SideParams {
    /// Complete cycles used.
    pub cycles: usize,
    /// Heel strike to next heel strike of the same foot, seconds.
    pub stride_time_s: f64,
    /// Distance the foot travels over a stride, metres.
    pub stride_length_m: f64,
    /// Stance as % of the stride.
    pub stance_pct: f64,
    /// Swing as % of the stride.
    pub swing_pct: f64,
    /// Both feet on the ground, % of this side's stride.
    pub double_support_pct: f64,
    /// Other foot's heel strike to this foot's heel strike, seconds.
    pub step_time_s: f64,
    /// Forward distance from the other foot to this foot at this foot's heel strike, metres.
    pub step_length_m: f64,
    /// Lateral distance between the feet at this foot's heel strike, metres.
    pub step_width_m: f64,
}

/// Spatio-temporal parameters of a walk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpatioTemporal {
    /// Left side.
    pub left: SideParams,
    /// Right side.
    pub right: SideParams,
    /// Steps per minute: 120 / mean stride time over both sides.
    pub cadence_steps_min: f64,
    /// Pelvis horizontal path length over time between the first and last heel strike, m/s.
    pub speed_m_s: f64,
}

impl SpatioTemporal {
    /// Parameters of one side.
    #[must_use]
    pub fn side(&self, side: Side) -> &SideParams {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// Mean of a per-side quantity over both sides (NaN sides ignored).
    #[must_use]
    pub fn both(&self, f: impl Fn(&SideParams) -> f64) -> f64 {
        mean(&[f(&self.left), f(&self.right)]).unwrap_or(f64::NAN)
    }
}

/// `100 * |l - r| / (0.5 * (l + r))`; NaN when undefined (non-finite or zero sum).
#[must_use]
pub fn symmetry_index(l: f64, r: f64) -> f64 {
    let m = 0.5 * (l + r);
    if !l.is_finite() || !r.is_finite() || m.abs() < 1e-12 {
        return f64::NAN;
    }
    100.0 * (l - r).abs() / m.abs()
}

fn contact_mask(n: usize, cycles_hs: &[usize], toe_offs: &[usize]) -> Vec<Option<bool>> {
    // Contact from each heel strike to the next toe off; swing from toe off to heel strike.
    // Outside the first and last event the state is unknown.
    let mut ev: Vec<(usize, bool)> = cycles_hs
        .iter()
        .map(|&f| (f, true))
        .chain(toe_offs.iter().map(|&f| (f, false)))
        .collect();
    ev.sort_unstable();
    let mut mask = vec![None; n];
    for w in ev.windows(2) {
        for m in mask.iter_mut().take(w[1].0.min(n)).skip(w[0].0) {
            *m = Some(w[0].1);
        }
    }
    mask
}

/// Computes spatio-temporal parameters from events on a canonical sequence.
#[must_use]
pub fn compute(
    seq: &GaitSequence,
    events: &GaitEvents,
    cycles: &[Vec<Cycle>; 2],
) -> SpatioTemporal {
    let dt = 1.0 / f64::from(seq.fps);
    let track = |j| seq.common_track(j).unwrap_or_default();
    let pelvis = track(CommonJoint::Pelvis);
    let (al, ar) = (track(CommonJoint::AnkleL), track(CommonJoint::AnkleR));
    if pelvis.is_empty() || al.is_empty() || ar.is_empty() {
        return SpatioTemporal::default();
    }
    let heading = heading_track(&pelvis, seq.fps);
    let n = pelvis.len();
    let masks = [
        contact_mask(n, &events.left.heel_strikes, &events.left.toe_offs),
        contact_mask(n, &events.right.heel_strikes, &events.right.toe_offs),
    ];
    let mut sides = [SideParams::default(), SideParams::default()];
    for (si, side) in Side::BOTH.into_iter().enumerate() {
        let (me, other): (&[Vec3], &[Vec3]) = if side == Side::Left {
            (&al, &ar)
        } else {
            (&ar, &al)
        };
        let cyc = &cycles[si];
        let times: Vec<f64> = cyc.iter().map(|c| (c.end - c.start) as f64 * dt).collect();
        let stance: Vec<f64> = cyc
            .iter()
            .map(|c| 100.0 * (c.toe_off - c.start) as f64 / (c.end - c.start) as f64)
            .collect();
        let lengths: Vec<f64> = cyc
            .iter()
            .map(|c| {
                let d = sub(me[c.end], me[c.start]);
                f64::from(norm([d[0], d[1], 0.0]))
            })
            .collect();
        let ds: Vec<f64> = cyc
            .iter()
            .filter_map(|c| {
                let (mut both, mut known) = (0usize, 0usize);
                for (l, r) in masks[0][c.start..c.end]
                    .iter()
                    .zip(&masks[1][c.start..c.end])
                {
                    if let (Some(a), Some(b)) = (*l, *r) {
                        known += 1;
                        both += usize::from(a && b);
                    }
                }
                (known * 10 >= (c.end - c.start) * 9).then(|| 100.0 * both as f64 / known as f64)
            })
            .collect();
        let my_hs = &events.side(side).heel_strikes;
        let other_hs = &events.side(side.other()).heel_strikes;
        let mut step_t = Vec::new();
        let mut step_l = Vec::new();
        let mut step_w = Vec::new();
        for &h in my_hs {
            if let Some(&prev) = other_hs.iter().rev().find(|&&o| o < h) {
                let t = (h - prev) as f64 * dt;
                // A step longer than a typical stride means an event was missed in between.
                if t < 2.0 {
                    step_t.push(t);
                }
            }
            let d = sub(me[h], other[h]);
            let fwd = heading[h];
            let lat: Vec3 = [-fwd[1], fwd[0], 0.0];
            step_l.push(f64::from(dot(d, fwd)));
            step_w.push(f64::from(dot(d, lat)).abs());
        }
        let m = |v: &[f64]| mean(v).unwrap_or(f64::NAN);
        let stance_pct = m(&stance);
        sides[si] = SideParams {
            cycles: cyc.len(),
            stride_time_s: m(&times),
            stride_length_m: m(&lengths),
            stance_pct,
            swing_pct: 100.0 - stance_pct,
            double_support_pct: m(&ds),
            step_time_s: m(&step_t),
            step_length_m: m(&step_l),
            step_width_m: m(&step_w),
        };
    }
    let strides: Vec<f64> = cycles
        .iter()
        .flatten()
        .map(|c| (c.end - c.start) as f64 * dt)
        .collect();
    let cadence = mean(&strides).map_or(f64::NAN, |s| 120.0 / s);
    let all_hs: Vec<usize> = events
        .left
        .heel_strikes
        .iter()
        .chain(&events.right.heel_strikes)
        .copied()
        .collect();
    let speed = match (all_hs.iter().min(), all_hs.iter().max()) {
        (Some(&a), Some(&b)) if b > a => {
            let path: f32 = (a..b)
                .map(|f| {
                    let d = sub(pelvis[f + 1], pelvis[f]);
                    norm([d[0], d[1], 0.0])
                })
                .sum();
            f64::from(path) / ((b - a) as f64 * dt)
        }
        _ => f64::NAN,
    };
    let [left, right] = sides;
    SpatioTemporal {
        left,
        right,
        cadence_steps_min: cadence,
        speed_m_s: speed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetry_index_formula() {
        assert!((symmetry_index(0.6, 0.5) - 100.0 * 0.1 / 0.55).abs() < 1e-12);
        assert!(symmetry_index(1.0, 1.0).abs() < 1e-12);
        assert!(symmetry_index(0.0, 0.0).is_nan());
    }
}
