//! Gait events from kinematics (Zeni et al. 2008, Gait & Posture 27:710-714).
//!
//! Heel strike = local maximum of the foot's forward position relative to the pelvis; toe off =
//! local minimum of the toe's forward position relative to the pelvis. "Forward" follows the
//! pelvis' smoothed walking direction per frame, so curved paths work too. The ankle stands in
//! for the heel marker, which skeleton rigs do not have.

pub use crate::core::data::events::{Cycle, GaitEvents, SideEvents};
use crate::core::data::preprocess::{along, heading_track};
use crate::core::data::{CommonJoint, GaitSequence, Side};
use crate::core::math::{median, quantile};

/// Detects heel strikes and toe offs on a canonical (and preferably smoothed) sequence.
/// Returns empty event lists for rigs without the required joints.
#[must_use]
pub fn detect(seq: &GaitSequence) -> GaitEvents {
    let Some(pelvis) = seq.common_track(CommonJoint::Pelvis) else {
        return GaitEvents::default();
    };
    if pelvis.len() < 3 {
        return GaitEvents::default();
    }
    let heading = heading_track(&pelvis, seq.fps);
    let min_gap = ((0.45 * seq.fps) as usize).max(2);
    let side_events = |ankle: CommonJoint, toe: CommonJoint| -> SideEvents {
        let (Some(a), Some(t)) = (seq.common_track(ankle), seq.common_track(toe)) else {
            return SideEvents::default();
        };
        let heel: Vec<f64> = (0..a.len())
            .map(|f| f64::from(along(a[f], pelvis[f], heading[f])))
            .collect();
        let toe_neg: Vec<f64> = (0..t.len())
            .map(|f| -f64::from(along(t[f], pelvis[f], heading[f])))
            .collect();
        SideEvents {
            heel_strikes: find_peaks(&heel, min_gap),
            toe_offs: find_peaks(&toe_neg, min_gap),
        }
    };
    GaitEvents {
        left: side_events(CommonJoint::AnkleL, CommonJoint::ToeL),
        right: side_events(CommonJoint::AnkleR, CommonJoint::ToeR),
    }
}

/// Local maxima that dominate a window of `min_gap` frames each side and rise above the
/// signal's middle by a fifth of its 5-95% range. End frames are excluded: a maximum there is
/// usually the signal leaving the recording, not an event.
#[must_use]
pub fn find_peaks(x: &[f64], min_gap: usize) -> Vec<usize> {
    let n = x.len();
    let (Some(lo), Some(hi), Some(mid)) = (quantile(x, 0.05), quantile(x, 0.95), median(x)) else {
        return Vec::new();
    };
    let threshold = mid + 0.2 * (hi - lo);
    let half = (min_gap / 2).max(1);
    let mut peaks: Vec<usize> = Vec::new();
    for i in 2..n.saturating_sub(2) {
        if x[i].partial_cmp(&threshold) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let a = i.saturating_sub(half);
        let b = (i + half + 1).min(n);
        // Exact ties on a plateau go to the first sample, so equality is intended here.
        #[allow(clippy::float_cmp)]
        let is_max = (a..b).all(|k| k == i || x[k] < x[i] || (x[k] == x[i] && k > i));
        if !is_max {
            continue;
        }
        match peaks.last() {
            Some(&p) if i - p < min_gap => {
                if x[i] > x[p] {
                    peaks.pop();
                    peaks.push(i);
                }
            }
            _ => peaks.push(i),
        }
    }
    peaks
}

/// Splits a walk into its gait cycles of one side (heel strike to the next heel strike, both
/// frames included), each a sequence of its own with the id suffixed `#L1`, `#L2`, ...
/// `events` must come from the same (canonical) sequence, e.g. [`super::GaitAnalysis::events`].
#[must_use]
pub fn segment_cycles(seq: &GaitSequence, events: &GaitEvents, side: Side) -> Vec<GaitSequence> {
    events
        .cycles(side)
        .iter()
        .enumerate()
        .filter(|(_, c)| c.end < seq.frames())
        .map(|(i, c)| {
            let mut s = seq.slice_frames(c.start, c.end + 1);
            s.id = format!("{}#{}{}", seq.id, side.letter(), i + 1);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_of_a_sine_are_found_once_each() {
        let fps = 60.0;
        let x: Vec<f64> = (0..300)
            .map(|f| (2.0 * std::f64::consts::PI * f64::from(f) / fps).sin())
            .collect();
        let p = find_peaks(&x, 27);
        assert_eq!(p, vec![15, 75, 135, 195, 255]);
    }

    #[test]
    fn noise_ripples_do_not_make_extra_peaks() {
        let x: Vec<f64> = (0..240)
            .map(|f| {
                let t = f64::from(f) / 60.0;
                (2.0 * std::f64::consts::PI * t).sin()
                    + 0.05 * (2.0 * std::f64::consts::PI * 13.0 * t).sin()
            })
            .collect();
        assert_eq!(find_peaks(&x, 27).len(), 4);
    }
}
