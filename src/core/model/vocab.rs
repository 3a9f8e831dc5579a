//! Gait-language vocabulary: gait codes (spatial, temporal, pathological), prompt descriptors
//! (binned priors), classes and control tokens share one token space (G2L), and generated
//! tokens map back to codebook entries (L2G).
//!
//! Layout: `PAD BOS SEP EOS | classes | side L/R/none | severity bins | descriptor bins ... |
//! spatial codes | temporal codes | pathological codes`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::data::Side;
use crate::core::math::quantile;

/// Padding.
pub const PAD: usize = 0;
/// Start of sequence.
pub const BOS: usize = 1;
/// End of prompt, start of gait tokens.
pub const SEP: usize = 2;
/// End of gait tokens.
pub const EOS: usize = 3;
/// Bins per descriptor and for severity.
pub const BINS: usize = 5;

/// Prior features used as prompt descriptors (keys of `biomech::priors::FEATURES`), with
/// their names in prompts. New vocabularies use all of them; a vocabulary keeps its own list
/// ([`Vocab::descriptors`]), so models trained before a descriptor was added still load.
pub const DESCRIPTORS: [(&str, &str); 9] = [
    ("knee_rom_deg", "knee ROM"),
    ("hip_rom_deg", "hip ROM"),
    ("stance_pct", "stance"),
    ("cadence_steps_min", "cadence"),
    ("asymmetry_pct", "asymmetry"),
    ("stride_length_m", "stride length"),
    ("step_width_m", "step width"),
    ("stride_time_cv_pct", "stride variability"),
    ("arm_swing_rom_deg", "arm swing"),
];

/// How many of [`DESCRIPTORS`] vocabularies had before step width, stride variability and
/// arm swing were added (models saved then carry no descriptor list).
pub const LEGACY_DESCRIPTORS: usize = 6;

fn legacy_descriptors() -> Vec<String> {
    DESCRIPTORS[..LEGACY_DESCRIPTORS]
        .iter()
        .map(|(k, _)| (*k).to_string())
        .collect()
}

/// The prompt name of a descriptor key ("arm swing" for `arm_swing_rom_deg`).
#[must_use]
pub fn descriptor_label(key: &str) -> &str {
    DESCRIPTORS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, l)| l)
}

/// The three codebooks a gait token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeKind {
    /// Body-part configuration.
    Spatial,
    /// Motion between frames.
    Temporal,
    /// Pathology cues.
    Pathological,
}

impl CodeKind {
    /// Token order within one latent step.
    pub const ORDER: [Self; 3] = [Self::Spatial, Self::Temporal, Self::Pathological];
}

/// Binned prompt values for one sequence or request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptValues {
    /// Class index into [`Vocab::classes`].
    pub class: usize,
    /// Affected side.
    pub side: Option<Side>,
    /// Severity bin `0..BINS`.
    pub severity_bin: usize,
    /// Descriptor bins `0..BINS`, in [`Vocab::descriptors`] order.
    pub bins: Vec<usize>,
}

/// The vocabulary and the statistics that bin values into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocab {
    /// Class names.
    pub classes: Vec<String>,
    /// Descriptor keys, in prompt order (the first [`LEGACY_DESCRIPTORS`] of [`DESCRIPTORS`]
    /// for models saved before the list was recorded).
    #[serde(default = "legacy_descriptors")]
    pub descriptors: Vec<String>,
    /// Bin edges (BINS - 1 quantiles) per descriptor, in [`Vocab::descriptors`] order.
    pub edges: Vec<Vec<f64>>,
    /// Per-class medians of each descriptor (for prompt expansion).
    pub class_medians: BTreeMap<String, Vec<f64>>,
    /// The normal class, if any.
    pub normal_class: Option<String>,
    /// Codebook sizes: spatial, temporal, pathological.
    pub codes: [usize; 3],
    /// Per class, how many training walks had the left, the right or no affected side. A
    /// prompt that names no side draws one per walk from these, because a class whose
    /// walks always have a side never showed the model its "no side" token (empty in models
    /// from before it was recorded: the side then stays unspecified).
    #[serde(default)]
    pub class_sides: BTreeMap<String, [usize; 3]>,
}

/// Quantile edges that split `values` into `BINS` equally populated bins.
#[must_use]
pub fn quantile_edges(values: &[f64]) -> Vec<f64> {
    (1..BINS)
        .map(|i| quantile(values, i as f64 / BINS as f64).unwrap_or(0.0))
        .collect()
}

/// Bin of `v` given edges (`BINS` bins); NaN goes to the middle bin.
#[must_use]
pub fn bin_of(v: f64, edges: &[f64]) -> usize {
    if !v.is_finite() {
        return BINS / 2;
    }
    edges.iter().take_while(|e| v > **e).count()
}

impl Vocab {
    /// The vocabulary for `classes` from dataset priors: descriptor bin edges are quantiles
    /// over all analysed walks, class medians come from the class priors. Also used without a
    /// model, to preview how a prompt expands on a dataset.
    #[must_use]
    pub fn from_priors(
        priors: &crate::core::biomech::priors::PriorSet,
        classes: Vec<String>,
        codes: [usize; 3],
    ) -> Self {
        let descriptors: Vec<String> = DESCRIPTORS.iter().map(|(k, _)| (*k).to_string()).collect();
        let edges = descriptors
            .iter()
            .map(|k| quantile_edges(&priors.column(k)))
            .collect();
        let class_medians = priors
            .classes
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    descriptors
                        .iter()
                        .map(|k| c.features.get(k).map_or(f64::NAN, |s| s.q50))
                        .collect(),
                )
            })
            .collect();
        Self {
            classes,
            descriptors,
            edges,
            class_medians,
            normal_class: priors.normal_class.clone(),
            codes,
            class_sides: BTreeMap::new(),
        }
    }

    /// Counts each class's walks by affected side (left, right, none) into
    /// [`Self::class_sides`].
    pub fn count_sides<'a>(
        &mut self,
        walks: impl IntoIterator<Item = &'a crate::core::data::GaitSequence>,
    ) {
        self.class_sides.clear();
        for s in walks {
            let Some(label) = &s.label else { continue };
            let slot = match s.side {
                Some(Side::Left) => 0,
                Some(Side::Right) => 1,
                None => 2,
            };
            if let Some(c) = self.class_sides.get_mut(label) {
                c[slot] += 1;
            } else {
                let mut c = [0; 3];
                c[slot] = 1;
                self.class_sides.insert(label.clone(), c);
            }
        }
    }

    /// Probabilities of left, right and no side for a prompt of `class` that names no side;
    /// `None` when the class's walks have no side or the counts are unknown.
    #[must_use]
    pub fn side_draw(&self, class: &str) -> Option<[f64; 3]> {
        let c = self.class_sides.get(class)?;
        let total = c.iter().sum::<usize>();
        (c[0] + c[1] > 0).then(|| c.map(|n| n as f64 / total as f64))
    }

    /// Classes follow the four control tokens.
    const CLASS_BASE: usize = 4;

    fn side_base(&self) -> usize {
        Self::CLASS_BASE + self.classes.len()
    }
    fn severity_base(&self) -> usize {
        self.side_base() + 3
    }
    fn descriptor_base(&self, d: usize) -> usize {
        self.severity_base() + BINS + d * BINS
    }
    fn code_base(&self, kind: CodeKind) -> usize {
        let first = self.descriptor_base(self.descriptors.len());
        match kind {
            CodeKind::Spatial => first,
            CodeKind::Temporal => first + self.codes[0],
            CodeKind::Pathological => first + self.codes[0] + self.codes[1],
        }
    }

    /// Total number of tokens.
    #[must_use]
    pub fn size(&self) -> usize {
        self.code_base(CodeKind::Pathological) + self.codes[2]
    }

    /// Token of a gait code.
    #[must_use]
    pub fn gait_token(&self, kind: CodeKind, code: usize) -> usize {
        self.code_base(kind) + code
    }

    /// Token range `[start, end)` of a code kind (for constrained sampling).
    #[must_use]
    pub fn code_range(&self, kind: CodeKind) -> (usize, usize) {
        let b = self.code_base(kind);
        let n = match kind {
            CodeKind::Spatial => self.codes[0],
            CodeKind::Temporal => self.codes[1],
            CodeKind::Pathological => self.codes[2],
        };
        (b, b + n)
    }

    /// L2G: the codebook entry a token stands for, if it is a gait token.
    #[must_use]
    pub fn decode_gait(&self, token: usize) -> Option<(CodeKind, usize)> {
        CodeKind::ORDER.into_iter().find_map(|k| {
            let (a, b) = self.code_range(k);
            (token >= a && token < b).then(|| (k, token - a))
        })
    }

    /// Class index by name (case-insensitive).
    #[must_use]
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    /// Bins feature values (keys as in [`Vocab::descriptors`]).
    #[must_use]
    pub fn bins_of(&self, features: &BTreeMap<String, f64>) -> Vec<usize> {
        self.descriptors
            .iter()
            .zip(&self.edges)
            .map(|(k, e)| bin_of(features.get(k).copied().unwrap_or(f64::NAN), e))
            .collect()
    }

    /// Index of a descriptor key in this vocabulary's prompts.
    #[must_use]
    pub fn descriptor_index(&self, key: &str) -> Option<usize> {
        self.descriptors.iter().position(|k| k == key)
    }

    /// G2L: the prompt part of a training or generation sequence, `BOS class side severity
    /// descriptors... SEP`.
    #[must_use]
    pub fn prompt_tokens(&self, v: &PromptValues) -> Vec<usize> {
        let side = match v.side {
            Some(Side::Left) => 0,
            Some(Side::Right) => 1,
            None => 2,
        };
        let mut t = vec![
            BOS,
            Self::CLASS_BASE + v.class,
            self.side_base() + side,
            self.severity_base() + v.severity_bin.min(BINS - 1),
        ];
        for (d, b) in v.bins.iter().enumerate() {
            t.push(self.descriptor_base(d) + (*b).min(BINS - 1));
        }
        t.push(SEP);
        t
    }

    /// The null prompt of classifier-free guidance: `BOS`, padding where class, side, severity
    /// and descriptors would be, `SEP` (same length as [`Vocab::prompt_tokens`]).
    #[must_use]
    pub fn null_prompt(&self) -> Vec<usize> {
        let mut t = vec![PAD; self.prompt_len()];
        t[0] = BOS;
        if let Some(last) = t.last_mut() {
            *last = SEP;
        }
        t
    }

    /// Length of [`Vocab::prompt_tokens`].
    #[must_use]
    pub fn prompt_len(&self) -> usize {
        5 + self.descriptors.len()
    }

    /// Readable name of a token (for showing prompts and debugging).
    #[must_use]
    pub fn token_name(&self, t: usize) -> String {
        match t {
            PAD => return "<pad>".into(),
            BOS => return "<bos>".into(),
            SEP => return "<sep>".into(),
            EOS => return "<eos>".into(),
            _ => {}
        }
        if let Some((k, c)) = self.decode_gait(t) {
            return format!("{k:?}#{c}").to_lowercase();
        }
        if t < self.side_base() {
            return format!("class:{}", self.classes[t - Self::CLASS_BASE]);
        }
        if t < self.severity_base() {
            return ["side:L", "side:R", "side:none"][t - self.side_base()].into();
        }
        if t < self.descriptor_base(0) {
            return format!("severity:{}/{BINS}", t - self.severity_base() + 1);
        }
        let d = (t - self.descriptor_base(0)) / BINS;
        format!(
            "{}:{}/{BINS}",
            self.descriptors.get(d).map_or("?", String::as_str),
            (t - self.descriptor_base(0)) % BINS + 1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocab {
        Vocab {
            classes: vec!["normal".into(), "antalgic".into()],
            descriptors: legacy_descriptors(),
            edges: vec![vec![1.0, 2.0, 3.0, 4.0]; LEGACY_DESCRIPTORS],
            class_medians: BTreeMap::new(),
            normal_class: Some("normal".into()),
            codes: [8, 6, 4],
            class_sides: BTreeMap::new(),
        }
    }

    #[test]
    fn gait_tokens_round_trip_and_ranges_do_not_overlap() {
        let v = vocab();
        assert_eq!(v.size(), 4 + 2 + 3 + 5 + 30 + 18);
        for k in CodeKind::ORDER {
            let (a, b) = v.code_range(k);
            for c in 0..b - a {
                assert_eq!(v.decode_gait(v.gait_token(k, c)), Some((k, c)));
            }
        }
        assert_eq!(v.decode_gait(SEP), None);
        assert_eq!(v.decode_gait(v.size() - 19), None);
    }

    #[test]
    fn prompts_are_readable() {
        let v = vocab();
        let p = PromptValues {
            class: 1,
            side: Some(Side::Left),
            severity_bin: 4,
            bins: vec![0, 1, 2, 3, 4, 2],
        };
        let t = v.prompt_tokens(&p);
        assert_eq!(t.len(), v.prompt_len());
        let names: Vec<String> = t.iter().map(|x| v.token_name(*x)).collect();
        assert_eq!(
            names[..5],
            [
                "<bos>",
                "class:antalgic",
                "side:L",
                "severity:5/5",
                "knee_rom_deg:1/5"
            ]
        );
        assert_eq!(names.last().map(String::as_str), Some("<sep>"));
    }

    #[test]
    fn vocabularies_saved_without_a_descriptor_list_keep_the_first_six() {
        let mut v = vocab();
        v.descriptors = DESCRIPTORS.iter().map(|(k, _)| (*k).to_string()).collect();
        let text = ron::to_string(&v).unwrap();
        let without = text.replacen("descriptors:", "descriptors_gone:", 1);
        // An old file has no `descriptors` field at all.
        let start = without.find("descriptors_gone:").unwrap();
        let end = start + without[start..].find("],").unwrap() + 2;
        let old = format!("{}{}", &without[..start], &without[end..]);
        let back: Vocab = ron::from_str(&old).unwrap();
        assert_eq!(back.descriptors, legacy_descriptors());
        assert_eq!(back.prompt_len(), 5 + LEGACY_DESCRIPTORS);
        assert_eq!(descriptor_label("arm_swing_rom_deg"), "arm swing");
    }

    #[test]
    fn binning_uses_quantiles() {
        let e = quantile_edges(&(0..100).map(f64::from).collect::<Vec<_>>());
        assert_eq!(bin_of(0.0, &e), 0);
        assert_eq!(bin_of(50.0, &e), 2);
        assert_eq!(bin_of(99.0, &e), 4);
        assert_eq!(bin_of(f64::NAN, &e), 2);
    }
}
