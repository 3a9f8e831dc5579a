//! The gait report as one standalone HTML page (charts inline as SVG, drawn by the same chart
//! code as the PDF; no scripts, no external resources) and as Markdown (text and tables).

use std::fmt::Write as _;

use crate::core::charts::{self, xml};

use super::figures::{self, Cell};
use super::gait::GaitReport;
use super::pages::{SECTIONS, SYNTHETIC_BANNER};

fn table(head: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", xml(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for (t, flagged) in r {
            let class = if *flagged { " class=\"flag\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", xml(t));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// Standalone HTML page.
#[must_use]
pub fn to_html(r: &GaitReport) -> String {
    let t = r.title();
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gait report: {0}</title>\n<style>body{{font-family:'DejaVu Sans',sans-serif;max-width:62em;margin:2em auto;color:#111}}table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #bbb;padding:.15em .45em;font-size:.9em}}th{{background:#dfe7f2}}.flag{{color:#c0392b;font-weight:bold}}.banner{{background:#fbe3c8;border:1px solid #d9822b;color:#8a4b08;font-weight:bold;padding:.3em;text-align:center}}.charts{{display:grid;grid-template-columns:1fr 1fr;gap:.5em}}.note{{color:#555;font-size:.85em}}h2{{color:#1a3c6e;border-bottom:1px solid #1a3c6e}}</style></head><body>\n",
        xml(&t)
    );
    if r.synthetic {
        let _ = writeln!(s, "<p class=\"banner\">{}</p>", xml(SYNTHETIC_BANNER));
    }
    let _ = writeln!(s, "<h1>Gait report: {}</h1>", xml(&t));
    let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[0]);
    for g in std::iter::once(&r.a).chain(r.b.iter()) {
        let _ = writeln!(
            s,
            "<p>{}: {} walks analysed ({}).</p>",
            xml(&g.title),
            g.clinical.walks.len(),
            xml(&g.clinical.walks.join(", "))
        );
    }
    let _ = writeln!(
        s,
        "<p>Reference: {} ({} walks); a value is flagged outside its mean ± 2 SD.</p>",
        xml(&r.reference.name),
        r.reference.walks
    );
    if let Some(b) = &r.bands {
        let _ = writeln!(s, "<p>Normative angle curves: {}.</p>", xml(&b.source));
    }
    let _ = writeln!(s, "<h2>{}</h2>\n<ul>", SECTIONS[1]);
    for g in std::iter::once(&r.a).chain(r.b.iter()) {
        for f in &g.clinical.findings {
            let who = if r.b.is_some() {
                format!("{}: ", g.title)
            } else {
                String::new()
            };
            let _ = writeln!(s, "<li>{}{}</li>", xml(&who), xml(f));
        }
    }
    s.push_str("</ul>\n");
    let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[2]);
    let (head, rows) = figures::spatiotemporal_table(r);
    s.push_str(&table(&head, &rows));
    let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[3]);
    let kin = figures::kinematic_charts(r);
    let (lw, lh) = (760.0, 14.0);
    s.push_str(&charts::standalone(
        &charts::legend_row(&figures::kinematic_legend(&kin), 4.0, 7.0, lw - 8.0),
        lw,
        lh,
    ));
    s.push_str("<div class=\"charts\">\n");
    for c in kin {
        let (w, h) = (380.0, 200.0);
        s.push_str(&charts::standalone(
            &charts::cycle_chart(&c, 0.0, 0.0, w, h),
            w,
            h,
        ));
    }
    s.push_str("</div>\n");
    let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[4]);
    if r.bands.is_some() && !r.a.gvs.is_empty() {
        let (w, h) = (760.0, 220.0);
        let chart = charts::bar_chart(
            "Gait Variable Scores and Gait Profile Score (deg)",
            &figures::map_groups(r),
            0.0,
            0.0,
            w,
            h,
        );
        s.push_str(&charts::standalone(&chart, w, h));
        let _ = writeln!(
            s,
            "<p class=\"note\">{}</p>",
            xml(&figures::gps_sentence(r))
        );
    }
    if !r.twin.is_empty() {
        let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[5]);
        let (head, rows) = figures::twin_table(r);
        s.push_str(&table(&head, &rows));
    }
    if r.b.is_some() {
        let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[6]);
        let (head, rows) = figures::compare_table(r);
        s.push_str(&table(&head, &rows));
    }
    let _ = writeln!(s, "<h2>{}</h2>", SECTIONS[7]);
    let (head, rows) = figures::measurement_table(&r.a);
    s.push_str(&table(&head, &rows));
    s.push_str("</body></html>\n");
    s
}

fn md_table(s: &mut String, head: &[&str], rows: &[Vec<Cell>]) {
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|(t, f)| {
                let t = t.replace('|', "\\|");
                if *f { format!("**{t}**") } else { t }
            })
            .collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
}

/// Markdown: the clinical text of each group, then the comparison and the twin as tables.
#[must_use]
pub fn to_markdown(r: &GaitReport) -> String {
    let mut s = r.a.clinical.to_markdown();
    if let Some(b) = &r.b {
        s.push('\n');
        s.push_str(&b.clinical.to_markdown().replacen("# ", "## Compared: ", 1));
        let _ = writeln!(
            s,
            "\n## {} (A: {}, B: {})\n",
            SECTIONS[6], r.a.title, b.title
        );
        let (head, rows) = figures::compare_table(r);
        md_table(&mut s, &head, &rows);
    }
    if !r.twin.is_empty() {
        let _ = writeln!(s, "\n## {}\n", SECTIONS[5]);
        let (head, rows) = figures::twin_table(r);
        md_table(&mut s, &head, &rows);
    }
    s
}
