//! Gait events as frame indices: heel strikes ("Foot Strike") and toe offs ("Foot Off") per
//! side, either recorded with a file (a C3D EVENT group) or detected from kinematics by
//! `biomech::events`. They live with the data model so a sequence can carry its recorded
//! events through import, trimming and resampling.

use serde::{Deserialize, Serialize};

use crate::core::math::median;

/// Body side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Left.
    Left,
    /// Right.
    Right,
}

impl Side {
    /// Both sides, left first.
    pub const BOTH: [Self; 2] = [Self::Left, Self::Right];

    /// The other side.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Left => Self::Right,
            Self::Right => Self::Left,
        }
    }

    /// "L" or "R".
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            Self::Left => "L",
            Self::Right => "R",
        }
    }

    /// Parses "left"/"l"/"right"/"r" (any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "l" | "left" => Some(Self::Left),
            "r" | "right" => Some(Self::Right),
            _ => None,
        }
    }
}

/// Heel strikes and toe offs of one side, as frame indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideEvents {
    /// Heel-strike frames, ascending.
    pub heel_strikes: Vec<usize>,
    /// Toe-off frames, ascending.
    pub toe_offs: Vec<usize>,
}

/// Where a walk's events came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EventSource {
    /// Recorded with the source file (a C3D EVENT group).
    Recorded,
    /// Detected from the kinematics (Zeni et al. 2008).
    #[default]
    Detected,
    /// Recorded on one side, detected on the other (the file had one side's events only).
    Mixed,
}

impl EventSource {
    /// Plain words for reports and terminal output.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Recorded => "events recorded with the file",
            Self::Detected => "events detected from the kinematics",
            Self::Mixed => "events recorded on one side, detected on the other",
        }
    }
}

/// One gait cycle of one side: heel strike to the next heel strike of the same foot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// First frame (heel strike).
    pub start: usize,
    /// Toe off within the cycle.
    pub toe_off: usize,
    /// Next heel strike (inclusive end).
    pub end: usize,
}

/// Events for both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaitEvents {
    /// Left foot.
    pub left: SideEvents,
    /// Right foot.
    pub right: SideEvents,
}

impl GaitEvents {
    /// Events of one side.
    #[must_use]
    pub fn side(&self, side: Side) -> &SideEvents {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// Complete cycles of one side: consecutive heel strikes with one toe off between them,
    /// and a duration within 0.6-1.6x the side's median stride (a missed or spurious event
    /// would otherwise produce a half or double stride).
    #[must_use]
    pub fn cycles(&self, side: Side) -> Vec<Cycle> {
        let ev = self.side(side);
        let raw: Vec<Cycle> = ev
            .heel_strikes
            .windows(2)
            .filter_map(|w| {
                let to: Vec<usize> = ev
                    .toe_offs
                    .iter()
                    .copied()
                    .filter(|&t| t > w[0] && t < w[1])
                    .collect();
                (to.len() == 1).then(|| Cycle {
                    start: w[0],
                    toe_off: to[0],
                    end: w[1],
                })
            })
            .collect();
        let lens: Vec<f64> = raw.iter().map(|c| (c.end - c.start) as f64).collect();
        let Some(m) = median(&lens) else { return raw };
        raw.into_iter()
            .filter(|c| {
                let l = (c.end - c.start) as f64;
                l >= 0.6 * m && l <= 1.6 * m
            })
            .collect()
    }
}

impl SideEvents {
    /// Events mapped through `f` (dropping those it maps to `None`), kept ascending.
    fn map(&self, f: impl Fn(usize) -> Option<usize>) -> Self {
        let m = |v: &[usize]| {
            let mut out: Vec<usize> = v.iter().filter_map(|&x| f(x)).collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        Self {
            heel_strikes: m(&self.heel_strikes),
            toe_offs: m(&self.toe_offs),
        }
    }
}

impl GaitEvents {
    /// True when neither side has an event.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        [&self.left, &self.right]
            .iter()
            .all(|s| s.heel_strikes.is_empty() && s.toe_offs.is_empty())
    }

    /// The events within frames `start..end`, renumbered from `start` (for a trimmed walk).
    #[must_use]
    pub fn slice(&self, start: usize, end: usize) -> Self {
        let f = |x: usize| (x >= start && x < end).then(|| x - start);
        Self {
            left: self.left.map(f),
            right: self.right.map(f),
        }
    }

    /// The events of a walk of `from` frames resampled to `to` frames over the same duration
    /// (nearest frame).
    #[must_use]
    pub fn resampled(&self, from: usize, to: usize) -> Self {
        if from < 2 || to < 2 {
            return self.clone();
        }
        let k = (to - 1) as f64 / (from - 1) as f64;
        let f = |x: usize| Some(((x as f64 * k).round() as usize).min(to - 1));
        Self {
            left: self.left.map(f),
            right: self.right.map(f),
        }
    }

    /// Every event as `(side, frame, is_foot_strike)`, in time order (foot strikes first on a
    /// tie).
    #[must_use]
    pub fn timeline(&self) -> Vec<(Side, usize, bool)> {
        let mut out = Vec::new();
        for side in Side::BOTH {
            let s = self.side(side);
            out.extend(s.heel_strikes.iter().map(|&f| (side, f, true)));
            out.extend(s.toe_offs.iter().map(|&f| (side, f, false)));
        }
        out.sort_by_key(|&(side, f, strike)| (f, !strike, side == Side::Right));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> GaitEvents {
        GaitEvents {
            left: SideEvents {
                heel_strikes: vec![2, 30],
                toe_offs: vec![20],
            },
            right: SideEvents {
                heel_strikes: vec![16],
                toe_offs: vec![6, 34],
            },
        }
    }

    #[test]
    fn slicing_keeps_the_events_inside_renumbered() {
        let s = ev().slice(5, 31);
        assert_eq!(s.left.heel_strikes, vec![25]);
        assert_eq!(s.left.toe_offs, vec![15]);
        assert_eq!(s.right.toe_offs, vec![1]);
        assert_eq!(s.right.heel_strikes, vec![11]);
    }

    #[test]
    fn resampling_scales_frames_over_the_same_duration() {
        let r = ev().resampled(41, 81);
        assert_eq!(r.left.heel_strikes, vec![4, 60]);
        assert_eq!(r.right.toe_offs, vec![12, 68]);
    }

    #[test]
    fn timeline_is_in_time_order() {
        let t = ev().timeline();
        let frames: Vec<usize> = t.iter().map(|e| e.1).collect();
        assert_eq!(frames, vec![2, 6, 16, 20, 30, 34]);
        assert_eq!(t[0], (Side::Left, 2, true));
        assert!(!ev().is_empty() && GaitEvents::default().is_empty());
    }
}
