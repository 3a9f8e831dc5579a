//! Lays the gait report out on printable pages, one SVG document a page (points, 1 unit =
//! 1/72 in): a flowing column of headings, wrapped paragraphs, tables and charts, with a
//! running header, page numbers and the synthetic banner on every page. The PDF writer and
//! the studio's preview draw these same pages.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::charts::{self, CycleChart, FLAG, xml};

use super::figures::{self, Cell};
use super::fonts::wrap;
use super::gait::GaitReport;

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Paper {
    /// ISO A4, 210 x 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 x 11 in.
    Letter,
}

impl Paper {
    /// Width and height in points.
    #[must_use]
    pub fn size(self) -> (f64, f64) {
        match self {
            Self::A4 => (595.28, 841.89),
            Self::Letter => (612.0, 792.0),
        }
    }

    /// Parses "a4" or "letter" (any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Some(Self::A4),
            "letter" | "us-letter" => Some(Self::Letter),
            _ => None,
        }
    }
}

/// Section titles, in order (the tests look for each in the PDF's text).
pub const SECTIONS: [&str; 8] = [
    "Summary",
    "Findings",
    "Spatio-temporal parameters",
    "Kinematics",
    "Gait Profile Score and Movement Analysis Profile",
    "Normative twin",
    "Comparison",
    "Measurements",
];

const MARGIN: f64 = 40.0;
const HEADER: f64 = 30.0;
const FOOTER: f64 = 26.0;
const BODY: f64 = 8.6;

/// A flowing layout over pages.
struct Pager {
    w: f64,
    h: f64,
    y: f64,
    body: String,
    pages: Vec<String>,
}

impl Pager {
    fn new(paper: Paper) -> Self {
        let (w, h) = paper.size();
        Self {
            w,
            h,
            y: MARGIN + HEADER,
            body: String::new(),
            pages: Vec::new(),
        }
    }

    fn width(&self) -> f64 {
        self.w - 2.0 * MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.body));
        self.y = MARGIN + HEADER;
    }

    /// Starts a new page unless `h` more points fit on this one.
    fn ensure(&mut self, h: f64) {
        if self.y + h > self.h - MARGIN - FOOTER && !self.body.is_empty() {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f64, y: f64, size: f64, bold: bool, color: &str, t: &str) {
        let weight = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\"{weight} fill=\"{color}\">{}</text>",
            xml(t)
        );
    }

    /// A section heading, kept on one page with the next `keep` points.
    fn heading(&mut self, t: &str, keep: f64) {
        self.ensure(40.0 + keep);
        self.y += 10.0;
        let y = self.y + 11.0;
        self.text_at(MARGIN, y, 12.5, true, "#1a3c6e", t);
        let _ = writeln!(
            self.body,
            "<line x1=\"{MARGIN}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#1a3c6e\" stroke-width=\"0.6\"/>",
            y + 4.0,
            self.w - MARGIN
        );
        self.y += 22.0;
    }

    /// A wrapped paragraph, `indent` from the margin, with an optional bullet.
    fn paragraph(&mut self, t: &str, size: f64, color: &str, indent: f64, bullet: bool) {
        let lh = size * 1.3;
        let lines = wrap(t, size, false, self.width() - indent);
        for (i, l) in lines.iter().enumerate() {
            self.ensure(lh);
            let y = self.y + size;
            if bullet && i == 0 {
                self.text_at(MARGIN + indent - 8.0, y, size, false, color, "•");
            }
            self.text_at(MARGIN + indent, y, size, false, color, l);
            self.y += lh;
        }
        self.y += size * 0.4;
    }

    /// A table whose columns share the width by `fractions`; cells wrap, flagged cells are red
    /// and bold, every other row is shaded.
    fn table(&mut self, head: &[&str], rows: &[Vec<Cell>], fractions: &[f64], size: f64) {
        let total: f64 = fractions.iter().sum();
        let widths: Vec<f64> = fractions.iter().map(|f| self.width() * f / total).collect();
        let lh = size * 1.25;
        let head_cells: Vec<Cell> = head.iter().map(|h| ((*h).to_string(), false)).collect();
        self.table_row(&head_cells, &widths, size, lh, Some("#dfe7f2"), true);
        for (i, r) in rows.iter().enumerate() {
            let shade = (i % 2 == 1).then_some("#f3f3f3");
            // A row that starts a page repeats the header above it.
            let cells_h = Self::row_height(r, &widths, size, lh);
            if self.y + cells_h > self.h - MARGIN - FOOTER {
                self.new_page();
                self.table_row(&head_cells, &widths, size, lh, Some("#dfe7f2"), true);
            }
            self.table_row(r, &widths, size, lh, shade, false);
        }
        self.y += 6.0;
    }

    fn row_height(cells: &[Cell], widths: &[f64], size: f64, lh: f64) -> f64 {
        let n = cells
            .iter()
            .zip(widths)
            .map(|((t, _), w)| wrap(t, size, false, w - 6.0).len())
            .max()
            .unwrap_or(1);
        n as f64 * lh + 4.0
    }

    fn table_row(
        &mut self,
        cells: &[Cell],
        widths: &[f64],
        size: f64,
        lh: f64,
        fill: Option<&str>,
        bold: bool,
    ) {
        let h = Self::row_height(cells, widths, size, lh);
        if let Some(f) = fill {
            let _ = writeln!(
                self.body,
                "<rect x=\"{MARGIN}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{f}\"/>",
                self.y,
                self.width()
            );
        }
        let mut x = MARGIN;
        for ((t, flagged), w) in cells.iter().zip(widths) {
            let color = if *flagged { FLAG } else { "#222" };
            for (k, l) in wrap(t, size, bold || *flagged, w - 6.0).iter().enumerate() {
                self.text_at(
                    x + 3.0,
                    self.y + 2.0 + size + lh * k as f64,
                    size,
                    bold || *flagged,
                    color,
                    l,
                );
            }
            x += w;
        }
        self.y += h;
    }

    /// Charts two to a row.
    fn chart_grid(&mut self, charts: &[CycleChart], h: f64) {
        let gap = 14.0;
        let cw = (self.width() - gap) / 2.0;
        for pair in charts.chunks(2) {
            self.ensure(h);
            for (i, c) in pair.iter().enumerate() {
                let x = MARGIN + (cw + gap) * i as f64;
                self.body
                    .push_str(&charts::cycle_chart(c, x, self.y, cw, h));
            }
            self.y += h + 6.0;
        }
    }

    /// Wraps every page into an SVG document with the header, footer and banner.
    fn finish(mut self, title: &str, banner: Option<&str>) -> Vec<String> {
        if !self.body.is_empty() {
            self.pages.push(std::mem::take(&mut self.body));
        }
        let n = self.pages.len();
        let (w, h) = (self.w, self.h);
        self.pages
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let mut s = String::new();
                let _ = writeln!(
                    s,
                    "<text x=\"{MARGIN}\" y=\"{:.1}\" font-size=\"8\" fill=\"#555\">PathoGait Studio · Gait report: {}</text>\n<line x1=\"{MARGIN}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{2:.1}\" stroke=\"#999\" stroke-width=\"0.5\"/>",
                    MARGIN - 8.0,
                    xml(title),
                    MARGIN - 4.0,
                    w - MARGIN
                );
                if let Some(b) = banner {
                    let _ = writeln!(
                        s,
                        "<rect x=\"{MARGIN}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"#fbe3c8\" stroke=\"#d9822b\" stroke-width=\"0.6\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8.5\" font-weight=\"bold\" fill=\"#8a4b08\" text-anchor=\"middle\">{}</text>",
                        MARGIN + 2.0,
                        w - 2.0 * MARGIN,
                        w / 2.0,
                        MARGIN + 13.5,
                        xml(b)
                    );
                }
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\" fill=\"#555\" text-anchor=\"end\">Page {} of {n}</text>",
                    w - MARGIN,
                    h - MARGIN + 12.0,
                    i + 1
                );
                s.push_str(body);
                charts::standalone(&s, w, h)
            })
            .collect()
    }
}

/// "1 walk", "3 walks".
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The text of the synthetic banner.
pub const SYNTHETIC_BANNER: &str =
    "SYNTHETIC DATA — these walks come from a model, not from a person";

/// Lays the report out: one SVG per page.
#[must_use]
pub fn pages(r: &GaitReport, paper: Paper) -> Vec<String> {
    let mut p = Pager::new(paper);
    if r.synthetic {
        p.y += 20.0;
    }
    let title = r.title();
    for line in wrap(&format!("Gait report: {title}"), 17.0, true, p.width()) {
        p.text_at(MARGIN, p.y + 16.0, 17.0, true, "#111", &line);
        p.y += 21.0;
    }
    p.y += 7.0;
    summary(&mut p, r);
    p.heading(SECTIONS[1], 30.0);
    let findings = if r.b.is_some() {
        r.a.clinical
            .findings
            .iter()
            .map(|f| format!("A: {f}"))
            .chain(
                r.b.iter()
                    .flat_map(|b| b.clinical.findings.iter().map(|f| format!("B: {f}"))),
            )
            .collect()
    } else {
        r.a.clinical.findings.clone()
    };
    for f in &findings {
        p.paragraph(f, 9.2, "#111", 10.0, true);
    }
    p.heading(SECTIONS[2], 30.0);
    let (head, rows) = figures::spatiotemporal_table(r);
    p.table(&head, &rows, &[2.2, 1.1, 1.0, 1.0, 1.8], BODY);
    p.paragraph(
        &format!(
            "Means over the walks' cycles (Zeni events, or the file's recorded events); red: outside the reference {}.",
            r.reference.name
        ),
        7.5,
        "#555",
        0.0,
        false,
    );
    kinematics(&mut p, r);
    profile(&mut p, r);
    if !r.twin.is_empty() {
        p.heading(SECTIONS[5], 30.0);
        let (head, rows) = figures::twin_table(r);
        p.table(&head, &rows, &[2.0, 2.0, 1.6, 2.4], BODY);
        p.paragraph(
            "Masked-autoencoder twin trained on normal gait (after GenGait): a joint is flagged when hiding it leaves an error above its threshold; flagged joints are rebuilt from the others. The twin's mean curves are drawn dark and dashed in the kinematic charts.",
            7.5,
            "#555",
            0.0,
            false,
        );
    }
    if r.b.is_some() {
        p.heading(SECTIONS[6], 30.0);
        let (head, rows) = figures::compare_table(r);
        p.table(&head, &rows, &[2.6, 1.1, 0.8, 0.8, 0.8, 1.2, 1.6], BODY);
        p.paragraph(
            "A change is closer to normal when B lies nearer the reference range than A (or inside it), further when it moves away. GVS ranges run from 0 to the reference walks' mean + 2 SD.",
            7.5,
            "#555",
            0.0,
            false,
        );
    }
    p.heading(SECTIONS[7], 30.0);
    let (head, rows) = figures::measurement_table(&r.a);
    p.table(&head, &rows, &[3.4, 1.0, 1.6, 1.0], BODY);
    p.paragraph(
        "Ranges of motion: max − min of the mean cycle curve (101 points); symmetry index 100·|L−R|/(0.5·(L+R)); spatio-temporal values from gait events per side. Gait Variable Score: RMS difference of a curve from the normative mean over the cycle; Gait Profile Score: RMS of the variable scores (Baker et al. 2009).",
        7.5,
        "#555",
        0.0,
        false,
    );
    let banner = r.synthetic.then_some(SYNTHETIC_BANNER);
    p.finish(&title, banner)
}

fn summary(p: &mut Pager, r: &GaitReport) {
    p.heading(SECTIONS[0], 30.0);
    for (k, g) in std::iter::once(&r.a).chain(r.b.iter()).enumerate() {
        let walks = &g.clinical.walks;
        let shown: Vec<&str> = walks.iter().take(12).map(String::as_str).collect();
        let more = walks.len().saturating_sub(shown.len());
        let list = if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        };
        let label = if r.b.is_some() {
            if k == 0 { "A, " } else { "B, " }
        } else {
            ""
        };
        p.paragraph(
            &format!(
                "{label}{}: {} analysed ({list}).",
                g.title,
                plural(walks.len(), "walk")
            ),
            9.0,
            "#111",
            0.0,
            false,
        );
        for (id, why) in &g.clinical.not_analysed {
            p.paragraph(
                &format!("Not analysed: {id}: {why}."),
                9.0,
                FLAG,
                0.0,
                false,
            );
        }
    }
    p.paragraph(
        &format!(
            "Reference: {}; a value is flagged outside its mean ± 2 SD.",
            r.reference.name
        ),
        9.0,
        "#111",
        0.0,
        false,
    );
    if let Some(b) = &r.bands {
        p.paragraph(
            &format!("Normative angle curves: {}.", b.source),
            9.0,
            "#111",
            0.0,
            false,
        );
    }
}

fn kinematics(p: &mut Pager, r: &GaitReport) {
    p.heading(SECTIONS[3], 190.0);
    let mut caption =
        String::from("Each side's mean curve over the gait cycle (left red, right blue");
    if r.a.analyses.len() > 1 {
        caption.push_str("; thin lines: the individual walks");
    }
    if r.b.is_some() {
        caption.push_str("; B dashed");
    }
    if !r.twin.is_empty() {
        caption.push_str("; dark dashed: the normative twin");
    }
    caption.push_str(") against the normative mean ± 2 SD (grey). A red title marks a variable whose Gait Variable Score lies above the reference walks' mean + 2 SD.");
    p.paragraph(&caption, 7.5, "#555", 0.0, false);
    let charts = figures::kinematic_charts(r);
    let legend = figures::kinematic_legend(&charts);
    p.ensure(14.0);
    let w = p.width();
    p.body
        .push_str(&charts::legend_row(&legend, MARGIN, p.y + 5.0, w));
    p.y += 14.0;
    p.chart_grid(&charts, 150.0);
}

fn profile(p: &mut Pager, r: &GaitReport) {
    p.heading(SECTIONS[4], 190.0);
    if r.bands.is_none() || r.a.gvs.is_empty() {
        p.paragraph(
            "No normative curves: give --normative, or a reference class with walks.",
            9.0,
            "#111",
            0.0,
            false,
        );
        return;
    }
    let groups = figures::map_groups(r);
    p.ensure(190.0);
    let w = p.width();
    p.body.push_str(&charts::bar_chart(
        "Gait Variable Scores and Gait Profile Score (deg)",
        &groups,
        MARGIN,
        p.y,
        w,
        180.0,
    ));
    p.y += 186.0;
    p.paragraph(&figures::gps_sentence(r), 8.0, "#333", 0.0, false);
}
