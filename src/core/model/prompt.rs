//! Structured prompts: class, severity, affected side, speed and free descriptors, expanded by a
//! template with the class's priors into prompt values (binned) and a text shown to the user
//! before generation.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::ModelError;
use super::vocab::{BINS, PromptValues, Vocab, bin_of, descriptor_label};
use crate::core::data::Side;

/// Walking speed requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Speed {
    /// Slower than the class's typical cadence (x0.85).
    Slow,
    /// The class's typical cadence.
    #[default]
    Normal,
    /// Faster (x1.15).
    Fast,
}

/// What the user asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prompt {
    /// Class name (as in the training data, e.g. "antalgic").
    pub class: String,
    /// Severity 0..1: 0.5 is the class's typical walk, 0 halfway back to normal, 1 half again
    /// as far from normal as typical.
    pub severity: f32,
    /// Affected side.
    pub side: Option<Side>,
    /// Speed.
    pub speed: Speed,
    /// Free descriptors, e.g. "reduced knee flexion", "asymmetric", "short stride".
    pub descriptors: Vec<String>,
}

impl Default for Prompt {
    fn default() -> Self {
        Self {
            class: "normal".into(),
            severity: 0.5,
            side: None,
            speed: Speed::Normal,
            descriptors: Vec::new(),
        }
    }
}

/// A prompt expanded with priors: the values the model is conditioned on and a readable text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpandedPrompt {
    /// Conditioning values.
    pub values: PromptValues,
    /// Descriptor values (units as the feature keys) before binning, in the vocabulary's
    /// descriptor order.
    pub targets: Vec<f64>,
    /// The descriptor keys of `targets` and the bins (the vocabulary's order).
    #[serde(default)]
    pub descriptors: Vec<String>,
    /// The template text.
    pub text: String,
    /// When the prompt names no side but the class's training walks have one: probabilities
    /// of left, right and none, drawn per generated walk (see [`Vocab::side_draw`]).
    #[serde(default)]
    pub side_draw: Option<[f64; 3]>,
}

/// Draws a side from left / right / none probabilities with a uniform number `u` in 0..1.
#[must_use]
pub fn draw_side(p: [f64; 3], u: f64) -> Option<Side> {
    if u < p[0] {
        Some(Side::Left)
    } else if u < p[0] + p[1] {
        Some(Side::Right)
    } else {
        None
    }
}

/// Descriptor keywords: phrase fragment -> (descriptor key, bin). A phrase may set several
/// descriptors (a condition's signature: "shuffling" is short strides and little knee motion).
pub const KEYWORDS: [(&str, &str, usize); 24] = [
    ("stiff knee", "knee_rom_deg", 0),
    ("reduced knee", "knee_rom_deg", 0),
    ("high knee", "knee_rom_deg", 4),
    ("reduced hip", "hip_rom_deg", 0),
    ("long stance", "stance_pct", 4),
    ("short stance", "stance_pct", 0),
    ("asymmetric", "asymmetry_pct", 4),
    ("symmetric", "asymmetry_pct", 0),
    ("short stride", "stride_length_m", 0),
    ("long stride", "stride_length_m", 4),
    ("shuffling", "stride_length_m", 0),
    ("shuffling", "knee_rom_deg", 0),
    ("reduced arm swing", "arm_swing_rom_deg", 0),
    ("no arm swing", "arm_swing_rom_deg", 0),
    ("large arm swing", "arm_swing_rom_deg", 4),
    ("wide base", "step_width_m", 4),
    ("narrow base", "step_width_m", 0),
    ("variable", "stride_time_cv_pct", 4),
    ("irregular", "stride_time_cv_pct", 4),
    ("steady", "stride_time_cv_pct", 0),
    ("crouch", "knee_rom_deg", 0),
    ("crouch", "stride_length_m", 0),
    ("circumduction", "asymmetry_pct", 4),
    ("circumduction", "knee_rom_deg", 0),
];

/// Expands a prompt with the vocabulary's class medians.
///
/// # Errors
/// Unknown class, or severity outside 0..1.
pub fn expand(prompt: &Prompt, vocab: &Vocab) -> Result<ExpandedPrompt, ModelError> {
    let class = vocab.class_index(&prompt.class).ok_or_else(|| {
        ModelError::Prompt(format!(
            "unknown class '{}' (the model knows: {})",
            prompt.class,
            vocab.classes.join(", ")
        ))
    })?;
    if !(0.0..=1.0).contains(&prompt.severity) {
        return Err(ModelError::Prompt(format!(
            "severity {} is outside 0..1",
            prompt.severity
        )));
    }
    let name = &vocab.classes[class];
    let med = vocab
        .class_medians
        .get(name)
        .cloned()
        .unwrap_or_else(|| vec![f64::NAN; vocab.descriptors.len()]);
    let normal = vocab
        .normal_class
        .as_ref()
        .and_then(|n| vocab.class_medians.get(n))
        .cloned();
    let scale = 0.5 + f64::from(prompt.severity);
    let mut targets: Vec<f64> = med
        .iter()
        .enumerate()
        .map(|(i, m)| match &normal {
            Some(n) if n[i].is_finite() && m.is_finite() => n[i] + (m - n[i]) * scale,
            _ => *m,
        })
        .collect();
    if let Some(cadence) = vocab.descriptor_index("cadence_steps_min") {
        targets[cadence] *= match prompt.speed {
            Speed::Slow => 0.85,
            Speed::Normal => 1.0,
            Speed::Fast => 1.15,
        };
    }
    let mut bins: Vec<usize> = targets
        .iter()
        .zip(&vocab.edges)
        .map(|(v, e)| bin_of(*v, e))
        .collect();
    let mut applied = Vec::new();
    for d in &prompt.descriptors {
        let low = d.to_ascii_lowercase();
        for (kw, key, b) in KEYWORDS {
            if !low.contains(kw) || (kw == "symmetric" && low.contains("asymmetric")) {
                continue;
            }
            match vocab.descriptor_index(key) {
                Some(i) => {
                    bins[i] = b;
                    applied.push(format!(
                        "'{d}' -> {} {}/{BINS}",
                        descriptor_label(key),
                        b + 1
                    ));
                }
                None => applied.push(format!(
                    "'{d}' names {}, which this model was not trained with (ignored)",
                    descriptor_label(key)
                )),
            }
        }
    }
    let severity_bin = ((prompt.severity * BINS as f32) as usize).min(BINS - 1);
    let values = PromptValues {
        class,
        side: prompt.side,
        severity_bin,
        bins,
    };
    let side_draw = prompt.side.map_or_else(|| vocab.side_draw(name), |_| None);
    let side_text = match (prompt.side, side_draw) {
        (Some(s), _) => format!(
            ", affected side {}",
            if s == Side::Left { "left" } else { "right" }
        ),
        (None, Some(p)) => {
            let mut t = format!(
                ", affected side drawn per walk as in the class's training walks (left {:.0} %, right {:.0} %",
                100.0 * p[0],
                100.0 * p[1]
            );
            if p[2] > 0.0 {
                let _ = write!(t, ", none {:.0} %", 100.0 * p[2]);
            }
            t + ")"
        }
        (None, None) => String::new(),
    };
    let mut text = format!(
        "{} gait, severity {:.2}{side_text}, {} speed.",
        capitalise(name),
        prompt.severity,
        format!("{:?}", prompt.speed).to_lowercase()
    );
    let _ = write!(text, " Priors of class '{name}' scaled by severity:");
    let n = vocab.descriptors.len();
    for (i, key) in vocab.descriptors.iter().enumerate() {
        let label = descriptor_label(key);
        let unit = match key.as_str() {
            k if k.ends_with("_deg") => " deg",
            k if k.ends_with("_pct") => " %",
            k if k.ends_with("_m") => " m",
            _ => " steps/min",
        };
        let _ = write!(
            text,
            " {label} {:.1}{unit} (bin {}/{BINS}){}",
            targets[i],
            values.bins[i] + 1,
            if i + 1 < n { "," } else { "." }
        );
    }
    for a in applied {
        let _ = write!(text, " Descriptor {a}.");
    }
    Ok(ExpandedPrompt {
        values,
        targets,
        descriptors: vocab.descriptors.clone(),
        text,
        side_draw,
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| {
            f.to_uppercase().collect::<String>() + c.as_str()
        })
        .replace('_', "-")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vocab() -> Vocab {
        let mut med = BTreeMap::new();
        med.insert(
            "normal".to_string(),
            vec![55.0, 40.0, 60.0, 110.0, 2.0, 1.2],
        );
        med.insert(
            "stiff_legged".to_string(),
            vec![35.0, 40.0, 62.0, 100.0, 20.0, 1.1],
        );
        Vocab {
            classes: vec!["normal".into(), "stiff_legged".into()],
            descriptors: crate::core::model::vocab::DESCRIPTORS[..6]
                .iter()
                .map(|(k, _)| (*k).to_string())
                .collect(),
            edges: vec![
                vec![30.0, 40.0, 50.0, 60.0],
                vec![30.0, 35.0, 40.0, 45.0],
                vec![55.0, 58.0, 61.0, 64.0],
                vec![95.0, 100.0, 105.0, 110.0],
                vec![2.0, 5.0, 10.0, 15.0],
                vec![1.0, 1.1, 1.2, 1.3],
            ],
            class_medians: med,
            normal_class: Some("normal".into()),
            codes: [4, 4, 4],
            class_sides: BTreeMap::new(),
        }
    }

    #[test]
    fn condition_words_set_their_signature_and_old_models_say_what_they_ignore() {
        let p = Prompt {
            class: "stiff_legged".into(),
            descriptors: vec!["shuffling, reduced arm swing".into(), "wide base".into()],
            ..Prompt::default()
        };
        // A model from before arm swing and step width were descriptors.
        let old = expand(&p, &vocab()).unwrap();
        assert_eq!(old.values.bins.len(), 6);
        assert_eq!(old.values.bins[5], 0, "short strides");
        assert_eq!(old.values.bins[0], 0, "little knee motion");
        assert!(old.text.contains("not trained with"), "{}", old.text);
        // A current vocabulary takes every descriptor.
        let mut v = vocab();
        v.descriptors = crate::core::model::vocab::DESCRIPTORS
            .iter()
            .map(|(k, _)| (*k).to_string())
            .collect();
        v.edges.extend([
            vec![0.1, 0.15, 0.2, 0.25],
            vec![1.0, 2.0, 3.0, 4.0],
            vec![5.0, 10.0, 20.0, 30.0],
        ]);
        for m in v.class_medians.values_mut() {
            m.extend([0.12, 1.5, 25.0]);
        }
        let new = expand(&p, &v).unwrap();
        let at = |k: &str| new.values.bins[v.descriptor_index(k).unwrap()];
        assert_eq!(at("arm_swing_rom_deg"), 0);
        assert_eq!(at("step_width_m"), 4);
        assert!(!new.text.contains("not trained with"), "{}", new.text);
        assert!(new.text.contains("arm swing"), "{}", new.text);
    }

    #[test]
    fn an_unnamed_side_is_drawn_from_the_class_counts() {
        let mut v = vocab();
        v.class_sides.insert("stiff_legged".into(), [3, 1, 0]);
        v.class_sides.insert("normal".into(), [0, 0, 4]);
        let p = |class: &str, side| Prompt {
            class: class.into(),
            side,
            ..Prompt::default()
        };
        let e = expand(&p("stiff_legged", None), &v).unwrap();
        assert_eq!(e.side_draw, Some([0.75, 0.25, 0.0]));
        assert!(e.text.contains("left 75 %, right 25 %)"), "{}", e.text);
        // A named side, or a class without sided walks, draws nothing.
        assert_eq!(
            expand(&p("stiff_legged", Some(Side::Left)), &v)
                .unwrap()
                .side_draw,
            None
        );
        assert_eq!(expand(&p("normal", None), &v).unwrap().side_draw, None);
        assert_eq!(draw_side([0.75, 0.25, 0.0], 0.1), Some(Side::Left));
        assert_eq!(draw_side([0.75, 0.25, 0.0], 0.8), Some(Side::Right));
        assert_eq!(draw_side([0.4, 0.4, 0.2], 0.9), None);
    }

    #[test]
    fn severity_moves_values_away_from_normal() {
        let v = vocab();
        let mild = expand(
            &Prompt {
                class: "stiff_legged".into(),
                severity: 0.0,
                ..Prompt::default()
            },
            &v,
        )
        .unwrap();
        let severe = expand(
            &Prompt {
                class: "stiff_legged".into(),
                severity: 1.0,
                ..Prompt::default()
            },
            &v,
        )
        .unwrap();
        assert!((mild.targets[0] - 45.0).abs() < 1e-9);
        assert!((severe.targets[0] - 25.0).abs() < 1e-9);
        assert!(severe.values.bins[0] < mild.values.bins[0]);
        assert!(
            severe.text.starts_with("Stiff-legged gait, severity 1.00"),
            "{}",
            severe.text
        );
        assert!(
            severe.text.contains("knee ROM 25.0 deg (bin 1/5)"),
            "{}",
            severe.text
        );
    }

    #[test]
    fn speed_and_descriptors_override_bins() {
        let v = vocab();
        let p = Prompt {
            class: "normal".into(),
            speed: Speed::Fast,
            descriptors: vec!["Asymmetric, short stride".into()],
            ..Prompt::default()
        };
        let e = expand(&p, &v).unwrap();
        assert!((e.targets[3] - 126.5).abs() < 1e-9);
        assert_eq!(e.values.bins[4], 4);
        assert_eq!(e.values.bins[5], 0);
        assert!(
            e.text
                .contains("Descriptor 'Asymmetric, short stride' -> asymmetry 5/5"),
            "{}",
            e.text
        );
    }

    #[test]
    fn unknown_class_and_bad_severity_are_refused() {
        let v = vocab();
        let e = expand(
            &Prompt {
                class: "hemiplegic".into(),
                ..Prompt::default()
            },
            &v,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("unknown class 'hemiplegic'") && e.contains("stiff_legged"),
            "{e}"
        );
        assert!(
            expand(
                &Prompt {
                    severity: 1.5,
                    ..Prompt::default()
                },
                &v
            )
            .is_err()
        );
    }
}
