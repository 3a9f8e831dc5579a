//! The report's embedded font (`DejaVu Sans`, regular and bold; licence in
//! `assets/fonts/LICENSE-DejaVu.txt`): the same glyphs in the PDF, the preview images and the
//! line breaks, whatever fonts the machine has.

use std::sync::{Arc, OnceLock};

use usvg::fontdb::Database;

/// `DejaVu Sans`.
pub static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// `DejaVu Sans` Bold.
pub static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A font database holding only the embedded fonts, with `DejaVu Sans` as the generic
/// sans-serif family (charts ask for `"DejaVu Sans, sans-serif"`).
#[must_use]
pub fn database() -> Arc<Database> {
    static DB: OnceLock<Arc<Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = Database::new();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    })
    .clone()
}

/// Advance widths of the first 0x2200 code points in em units (0 where the font lacks one).
struct Metrics {
    advance: Vec<f32>,
    fallback: f32,
}

impl Metrics {
    fn of(bytes: &[u8]) -> Self {
        let Ok(face) = ttf_parser::Face::parse(bytes, 0) else {
            // The font is compiled in; a parse failure would be a build error of ours. Fall
            // back to a typical average width rather than failing a report.
            return Self {
                advance: Vec::new(),
                fallback: 0.55,
            };
        };
        let upem = f32::from(face.units_per_em());
        let adv = |c: char| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map(|a| f32::from(a) / upem)
        };
        let fallback = adv('n').unwrap_or(0.55);
        let advance = (0u32..0x2200)
            .map(|u| char::from_u32(u).and_then(adv).unwrap_or(fallback))
            .collect();
        Self { advance, fallback }
    }

    fn width(&self, text: &str) -> f32 {
        text.chars()
            .map(|c| {
                self.advance
                    .get(c as usize)
                    .copied()
                    .unwrap_or(self.fallback)
            })
            .sum()
    }
}

/// Width of `text` at `size` points in the embedded font.
#[must_use]
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    static M: OnceLock<[Metrics; 2]> = OnceLock::new();
    let m = M.get_or_init(|| [Metrics::of(REGULAR), Metrics::of(BOLD)]);
    f64::from(m[usize::from(bold)].width(text)) * size
}

/// Splits `text` into lines no wider than `width` at `size` (words longer than a line are cut).
#[must_use]
pub fn wrap(text: &str, size: f64, bold: bool, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if text_width(&candidate, size, bold) <= width {
            cur = candidate;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        // A word wider than the line is cut into pieces that fit.
        let mut piece = String::new();
        for ch in word.chars() {
            piece.push(ch);
            if text_width(&piece, size, bold) > width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(ch);
            }
        }
        cur = piece;
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font_and_lines_fit() {
        let w = text_width("Gait report", 10.0, false);
        assert!((40.0..70.0).contains(&w), "{w}");
        assert!(text_width("Gait report", 10.0, true) > w, "bold is wider");
        let text =
            "Stance is asymmetric: left 58.1 %, right 63.4 % of the stride (symmetry index 8.7 %)";
        let lines = wrap(text, 9.0, false, 150.0);
        assert!(lines.len() >= 3);
        assert!(lines.iter().all(|l| text_width(l, 9.0, false) <= 150.0));
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("", 9.0, false, 100.0), vec![String::new()]);
        assert!(wrap(&"x".repeat(200), 9.0, false, 50.0).len() > 3);
        assert_eq!(database().len(), 2);
    }
}
