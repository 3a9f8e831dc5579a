//! The one chart code path: SVG line charts over the gait cycle against a normative band, and
//! bar charts of gait variable scores. The angle export, the HTML report, the printed (PDF)
//! report and the studio's report preview all draw with these functions, so a chart looks the
//! same everywhere. Charts are SVG fragments placed at `(x, y)` on a page, or whole documents
//! via [`standalone`]. Text uses the embedded report font (`DejaVu Sans`).

use std::fmt::Write as _;

/// Font family of every chart and page (embedded in the PDF; browsers fall back to sans-serif).
pub const FONT: &str = "DejaVu Sans, sans-serif";
/// Left side colour (red) and right side colour (blue), as in the studio.
pub const LEFT: &str = "#d6453b";
/// Right side colour.
pub const RIGHT: &str = "#3f7fe0";
/// Colour of flagged items.
pub const FLAG: &str = "#c0392b";

/// One curve of a cycle chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub color: String,
    /// Dashed (a comparison, or the normative twin).
    pub dashed: bool,
    /// Stroke width; thin lines (< 1.5) are drawn translucent and left out of the legend
    /// (the individual walks behind a group mean).
    pub width: f64,
    /// Values at 0..=100 % of the cycle (NaN: gap).
    pub values: Vec<f64>,
}

/// A chart of curves over 0-100 % of the gait cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleChart {
    /// Title (the variable and its sign convention).
    pub title: String,
    /// Curves.
    pub series: Vec<Series>,
    /// Normative mean and SD at 0..=100 % (drawn as mean ± 2 SD).
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Marked as outside the normative range (a red title and a note).
    pub flag: Option<String>,
    /// Draw the legend inside the chart (standalone charts); pages draw one shared legend
    /// row instead ([`legend_row`]).
    pub legend: bool,
}

/// Escapes text for XML.
#[must_use]
pub fn xml(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A whole SVG document of `w` x `h` holding `body`.
#[must_use]
pub fn standalone(body: &str, w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT}\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// Value range covering the curves and the band, padded by 5 %.
fn value_range(c: &CycleChart) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut see = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for s in &c.series {
        s.values.iter().for_each(|v| see(*v));
    }
    if let Some((mean, sd)) = &c.band {
        for (m, s) in mean.iter().zip(sd) {
            see(m - 2.0 * s);
            see(m + 2.0 * s);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = 0.05 * (hi - lo).max(1.0);
    (lo - pad, hi + pad)
}

/// Round tick values spanning `lo..hi` (about four).
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil();
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    let round = |v: f64| {
        let f = 10f64.powi(decimals);
        let r = (v * f).round() / f;
        if r.abs() < 1e-12 { 0.0 } else { r }
    };
    (0..12)
        .map(|k| round((first + f64::from(k)) * step))
        .take_while(|v| *v <= hi + 1e-9 * step.abs().max(1.0))
        .collect()
}

/// Horizontal grid lines at `values` between `xs`, labelled on the left with `unit`.
fn grid(s: &mut String, values: &[f64], xs: (f64, f64), y: &dyn Fn(f64) -> f64, unit: &str) {
    for &t in values {
        let _ = writeln!(
            s,
            "<line x1=\"{xa:.1}\" y1=\"{yt:.1}\" x2=\"{xb:.1}\" y2=\"{yt:.1}\" stroke=\"#e4e4e4\" stroke-width=\"0.5\"/>\n<text x=\"{xl:.1}\" y=\"{yl:.1}\" font-size=\"7\" text-anchor=\"end\" fill=\"#444\">{t}{unit}</text>",
            xa = xs.0,
            xb = xs.1,
            yt = y(t),
            xl = xs.0 - 3.0,
            yl = y(t) + 2.5
        );
    }
}

fn points(n: usize, f: impl Fn(usize) -> Option<(f64, f64)>) -> String {
    (0..n)
        .filter_map(f)
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A cycle chart as an SVG fragment in the box `(x, y, w, h)`.
#[must_use]
pub fn cycle_chart(c: &CycleChart, x0: f64, y0: f64, w: f64, h: f64) -> String {
    let mt = if c.flag.is_some() { 26.0 } else { 18.0 };
    let (ml, mr, mb) = (34.0, 8.0, 22.0);
    let (lo, hi) = value_range(c);
    let (pw, ph) = (w - ml - mr, h - mt - mb);
    let x = |i: usize, n: usize| x0 + ml + pw * i as f64 / (n.max(2) - 1) as f64;
    let y = |v: f64| y0 + mt + ph * (1.0 - (v - lo) / (hi - lo));
    let mut s = String::new();
    let title_col = if c.flag.is_some() { FLAG } else { "#222" };
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9.5\" font-weight=\"bold\" fill=\"{title_col}\">{}</text>",
        x0 + ml,
        y0 + 11.0,
        xml(&c.title)
    );
    if let Some(f) = &c.flag {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"7\" fill=\"{FLAG}\" text-anchor=\"end\">{}</text>",
            x0 + w - mr,
            y0 + 21.0,
            xml(f)
        );
    }
    // Grid and axes.
    grid(&mut s, &ticks(lo, hi), (x0 + ml, x0 + ml + pw), &y, "");
    for t in [0usize, 25, 50, 75, 100] {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"7\" text-anchor=\"middle\" fill=\"#444\">{t}%</text>",
            x(t, 101),
            y0 + mt + ph + 10.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"7\" fill=\"#666\" text-anchor=\"middle\">% gait cycle · deg</text>",
        x0 + ml + pw / 2.0,
        y0 + h - 2.0
    );
    if let Some((mean, sd)) = &c.band {
        let n = mean.len();
        let mut up: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", x(i, n), y(mean[i] + 2.0 * sd[i])))
            .collect();
        up.extend(
            (0..n)
                .rev()
                .map(|i| format!("{:.1},{:.1}", x(i, n), y(mean[i] - 2.0 * sd[i]))),
        );
        let _ = writeln!(
            s,
            "<polygon points=\"{}\" fill=\"#bbbbbb\" fill-opacity=\"0.45\"/>\n<polyline points=\"{}\" fill=\"none\" stroke=\"#777\" stroke-width=\"0.8\" stroke-dasharray=\"4 3\"/>",
            up.join(" "),
            points(n, |i| Some((x(i, n), y(mean[i]))))
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{pw:.1}\" height=\"{ph:.1}\" fill=\"none\" stroke=\"#888\" stroke-width=\"0.6\"/>",
        x0 + ml,
        y0 + mt
    );
    let mut legend = 0;
    for sr in &c.series {
        let n = sr.values.len();
        let pts = points(n, |i| {
            sr.values[i].is_finite().then(|| (x(i, n), y(sr.values[i])))
        });
        let dash = if sr.dashed {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let op = if sr.width < 1.5 {
            " stroke-opacity=\"0.35\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<polyline points=\"{pts}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{dash}{op}/>",
            sr.color, sr.width
        );
        if c.legend && sr.width >= 1.5 {
            let ly = y0 + mt + 8.0 + 8.0 * f64::from(legend);
            let _ = writeln!(
                s,
                "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"1.5\"{dash}/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"6.5\" fill=\"#333\">{}</text>",
                x0 + ml + pw - 70.0,
                x0 + ml + pw - 58.0,
                sr.color,
                x0 + ml + pw - 55.0,
                ly + 2.3,
                xml(&sr.name)
            );
            legend += 1;
        }
    }
    s
}

/// One legend row for charts that share their series' names and styles (the report's
/// kinematic charts): an SVG fragment at `(x, y)`, at most `w` wide.
#[must_use]
pub fn legend_row(series: &[Series], x0: f64, y0: f64, w: f64) -> String {
    let mut s = String::new();
    let mut x = x0;
    for sr in series.iter().filter(|s| s.width >= 1.5) {
        let label_w = 14.0 + 4.6 * sr.name.chars().count() as f64;
        if x + label_w > x0 + w {
            break;
        }
        let dash = if sr.dashed {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y0:.1}\" x2=\"{:.1}\" y2=\"{y0:.1}\" stroke=\"{}\" stroke-width=\"1.8\"{dash}/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"7.5\" fill=\"#333\">{}</text>",
            x + 12.0,
            sr.color,
            x + 15.0,
            y0 + 2.6,
            xml(&sr.name)
        );
        x += label_w + 10.0;
    }
    s
}

/// One group of bars (a gait variable, or the GPS) with the reference range of its score.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Label under the group.
    pub label: String,
    /// Bars: (value, colour, flagged).
    pub bars: Vec<(f64, String, bool)>,
    /// Reference mean and SD of the score (drawn as a grey box up to mean + 2 SD, with the
    /// mean as a line).
    pub reference: Option<(f64, f64)>,
}

/// The Movement Analysis Profile: grouped bars of gait variable scores (degrees), the Gait
/// Profile Score first, with each score's reference range; as an SVG fragment in
/// `(x, y, w, h)`.
#[must_use]
pub fn bar_chart(title: &str, groups: &[BarGroup], x0: f64, y0: f64, w: f64, h: f64) -> String {
    let (ml, mr, mt, mb) = (34.0, 8.0, 18.0, 40.0);
    let (pw, ph) = (w - ml - mr, h - mt - mb);
    let mut hi: f64 = 1.0;
    for g in groups {
        for (v, _, _) in &g.bars {
            if v.is_finite() {
                hi = hi.max(*v);
            }
        }
        if let Some((m, sd)) = g.reference {
            hi = hi.max(m + 2.0 * sd);
        }
    }
    let hi = hi * 1.1;
    let y = |v: f64| y0 + mt + ph * (1.0 - v.max(0.0) / hi);
    let mut s = format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9.5\" font-weight=\"bold\" fill=\"#222\">{}</text>\n",
        x0 + ml,
        y0 + 11.0,
        xml(title)
    );
    grid(&mut s, &ticks(0.0, hi), (x0 + ml, x0 + ml + pw), &y, "°");
    let gw = pw / groups.len().max(1) as f64;
    for (k, g) in groups.iter().enumerate() {
        let gx = x0 + ml + gw * k as f64;
        if let Some((m, sd)) = g.reference {
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d9d9d9\"/>",
                gx + 0.08 * gw,
                y(m + 2.0 * sd),
                0.84 * gw,
                y(0.0) - y(m + 2.0 * sd),
            );
            let _ = writeln!(
                s,
                "<line x1=\"{xa:.1}\" y1=\"{ym:.1}\" x2=\"{xb:.1}\" y2=\"{ym:.1}\" stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/>",
                xa = gx + 0.08 * gw,
                ym = y(m),
                xb = gx + 0.92 * gw
            );
        }
        let bw = 0.6 * gw / g.bars.len().max(1) as f64;
        for (j, (v, col, flagged)) in g.bars.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let bx = gx + 0.2 * gw + bw * j as f64;
            let stroke = if *flagged {
                format!(" stroke=\"{FLAG}\" stroke-width=\"1.2\"")
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{col}\"{stroke}/>",
                y(*v),
                bw * 0.9,
                y(0.0) - y(*v),
            );
            // Values only where they fit above their bar (the tables carry them all).
            if bw >= 11.0 {
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"6\" text-anchor=\"middle\" fill=\"#333\">{v:.1}</text>",
                    bx + bw * 0.45,
                    y(*v) - 2.0,
                );
            }
        }
        // Labels wrap onto two lines under the group.
        for (li, part) in split_label(&g.label).iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"6.5\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                gx + gw / 2.0,
                y0 + mt + ph + 10.0 + 8.0 * li as f64,
                xml(part)
            );
        }
    }
    let _ = writeln!(
        s,
        "<line x1=\"{:.1}\" y1=\"{2:.1}\" x2=\"{:.1}\" y2=\"{2:.1}\" stroke=\"#888\" stroke-width=\"0.6\"/>",
        x0 + ml,
        x0 + ml + pw,
        y(0.0)
    );
    s
}

/// A label of up to two lines, split at the space nearest its middle.
fn split_label(l: &str) -> Vec<String> {
    if l.chars().count() <= 12 {
        return vec![l.to_string()];
    }
    let mid = l.len() / 2;
    let cut = l
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(mid));
    cut.map_or_else(
        || vec![l.to_string()],
        |i| vec![l[..i].to_string(), l[i + 1..].to_string()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(-12.0, 41.0), vec![0.0, 20.0, 40.0]);
        assert_eq!(ticks(-12.0, 8.0), vec![-10.0, -5.0, 0.0, 5.0]);
        assert_eq!(ticks(0.0, 1.0), vec![0.0, 0.5, 1.0]);
        assert_eq!(ticks(0.0001, 0.0299), vec![0.01, 0.02]);
    }

    #[test]
    fn a_chart_is_valid_svg_with_its_curves_and_band() {
        let c = CycleChart {
            title: "Knee flexion (+) & <test>".into(),
            series: vec![Series {
                name: "L".into(),
                color: LEFT.into(),
                dashed: false,
                width: 2.0,
                values: (0..=100).map(f64::from).collect(),
            }],
            band: Some((vec![10.0; 101], vec![2.0; 101])),
            flag: Some("outside normal".into()),
            legend: true,
        };
        let svg = standalone(&cycle_chart(&c, 0.0, 0.0, 300.0, 200.0), 300.0, 200.0);
        let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap();
        assert!((tree.size().width() - 300.0).abs() < 1e-3);
        assert!(svg.contains("&amp; &lt;test&gt;"));
        assert_eq!(
            svg.matches("<polyline").count(),
            2,
            "band mean and one curve"
        );
        assert!(svg.contains("<polygon"));
    }

    #[test]
    fn labels_split_near_the_middle() {
        assert_eq!(split_label("Knee"), vec!["Knee"]);
        assert_eq!(split_label("Pelvic obliquity"), vec!["Pelvic", "obliquity"]);
    }
}
