//! Joint angles: pelvis/hip/knee/ankle/trunk curves over 0-100 % of the gait cycle, left vs
//! right, against normative mean ± 2 SD bands; the normative twin's curves when computed; the
//! spatio-temporal table. Exports the table as CSV and the curves as SVG.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use egui_plot::{FilledArea, Legend, Line, LineStyle, Plot, PlotPoints};

use crate::app::studio::Studio;
use crate::core::biomech::normative::gait_profile;
use crate::core::biomech::{AngleVar, GaitAnalysis, NormativeBands, analyse};
use crate::core::data::{CommonJoint, Side};
use crate::core::project::write_atomic;

/// Joint-angle panel state.
#[derive(Debug)]
pub struct AnglesState {
    /// Prefer external (published) bands over the dataset's normal class when both exist.
    pub external: bool,
    /// Show the twin's curves.
    pub twin: bool,
    /// Export folder.
    pub export_dir: String,
    /// Last export message.
    pub last: Option<String>,
}

impl Default for AnglesState {
    fn default() -> Self {
        Self {
            external: true,
            twin: true,
            export_dir: "angles-export".into(),
            last: None,
        }
    }
}

/// Left is red and right is blue, as in clinical gait reports.
fn side_color(side: Side) -> Color32 {
    match side {
        Side::Left => Color32::from_rgb(235, 80, 70),
        Side::Right => Color32::from_rgb(80, 140, 240),
    }
}

/// The bands the panel compares against, and their source text.
#[must_use]
pub fn bands(st: &Studio) -> Option<NormativeBands> {
    let ext = st.ws.external_bands.clone();
    let own = st.ws.priors.as_ref().and_then(|p| p.normal_bands.clone());
    if st.panels.angles.external {
        ext.or(own)
    } else {
        own.or(ext)
    }
}

/// Draws the panel.
pub fn show(st: &mut Studio, ui: &mut egui::Ui) {
    let ids: Vec<String> = st.ws.selection.iter().take(3).cloned().collect();
    if ids.is_empty() {
        ui.label("Select a walk in the dataset browser.");
        return;
    }
    let mut analysed: Vec<(String, GaitAnalysis)> = Vec::new();
    for id in &ids {
        match st.ws.analysis(id).as_deref() {
            Some(Ok(a)) => analysed.push((id.clone(), a.clone())),
            Some(Err(e)) => {
                ui.colored_label(Color32::from_rgb(240, 90, 80), format!("{id}: {e}"));
            }
            None => {}
        }
    }
    let twin: Option<(String, GaitAnalysis)> = if st.panels.angles.twin {
        ids.first()
            .and_then(|id| st.ws.twin_results.get(id))
            .and_then(|r| analyse(&r.twin).ok())
            .map(|a| ("normative twin".to_string(), a))
    } else {
        None
    };
    // Joints the twin flagged on the current walk: their curves' titles are highlighted.
    let flagged: Vec<(CommonJoint, String)> = ids
        .first()
        .and_then(|id| st.ws.twin_results.get(id))
        .map(|r| {
            r.scores
                .iter()
                .filter(|s| s.flagged)
                .map(|s| (s.joint, format!("{:?}", s.joint)))
                .collect()
        })
        .unwrap_or_default();
    let bands = bands(st);
    let a = &mut st.panels.angles;
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut a.external, "published bands first");
        ui.checkbox(&mut a.twin, "twin curves");
        ui.label(
            RichText::new(bands.as_ref().map_or_else(
                || "no normative bands (no normal class)".into(),
                |b| format!("bands: {} (mean ± 2 SD)", b.source),
            ))
            .weak(),
        );
    });
    ui.horizontal(|ui| {
        ui.label("Export to folder");
        ui.text_edit_singleline(&mut a.export_dir);
        if ui.button("CSV + SVG").clicked() {
            let dir = PathBuf::from(a.export_dir.trim());
            a.last = Some(match export(&dir, &analysed, bands.as_ref()) {
                Ok(n) => format!("wrote {n} files to {}", dir.display()),
                Err(e) => format!("export failed: {e}"),
            });
        }
        if let Some(m) = &a.last {
            ui.label(m);
        }
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        st_table(ui, &analysed, bands.as_ref());
        ui.separator();
        let width = (ui.available_width() / 2.0 - 12.0).max(200.0);
        egui::Grid::new("angle-plots")
            .num_columns(2)
            .show(ui, |ui| {
                for (k, var) in AngleVar::ALL.iter().enumerate() {
                    ui.vertical(|ui| {
                        let hit: Vec<&String> = flagged
                            .iter()
                            .filter(|(j, _)| joints_of(*var).contains(j))
                            .map(|(_, n)| n)
                            .collect();
                        if hit.is_empty() {
                            ui.label(RichText::new(var.label()).strong());
                        } else {
                            let names: Vec<&str> = hit.iter().map(|s| s.as_str()).collect();
                            ui.label(
                                RichText::new(format!(
                                    "{}  (flagged: {})",
                                    var.label(),
                                    names.join(", ")
                                ))
                                .strong()
                                .color(Color32::from_rgb(240, 120, 80)),
                            );
                        }
                        angle_plot(ui, *var, &analysed, twin.as_ref(), bands.as_ref(), width);
                    });
                    if k % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
    });
}

/// The joints whose motion an angle variable describes (for highlighting flagged joints).
#[must_use]
pub fn joints_of(var: AngleVar) -> &'static [CommonJoint] {
    use CommonJoint as J;
    match var {
        AngleVar::PelvicTilt | AngleVar::PelvicObliquity => &[J::Pelvis, J::HipL, J::HipR],
        AngleVar::HipFlexion | AngleVar::HipAdduction => &[J::HipL, J::HipR, J::KneeL, J::KneeR],
        AngleVar::KneeFlexion => &[J::KneeL, J::KneeR, J::AnkleL, J::AnkleR],
        AngleVar::AnkleDorsiflexion => &[J::AnkleL, J::AnkleR, J::ToeL, J::ToeR],
        AngleVar::TrunkLeanForward | AngleVar::TrunkLeanLateral => &[J::SpineMid, J::Neck, J::Head],
    }
}

fn angle_plot(
    ui: &mut egui::Ui,
    var: AngleVar,
    walks: &[(String, GaitAnalysis)],
    twin: Option<&(String, GaitAnalysis)>,
    bands: Option<&NormativeBands>,
    width: f32,
) {
    Plot::new(("angle", var.key()))
        .height(170.0)
        .width(width)
        .legend(Legend::default())
        .x_axis_label("% gait cycle")
        .y_axis_label("deg")
        .allow_scroll(false)
        .show(ui, |p| {
            if let Some(b) = bands.and_then(|b| b.band(var)) {
                let xs: Vec<f64> = (0..b.mean.len()).map(|i| i as f64).collect();
                let lo: Vec<f64> = b.mean.iter().zip(&b.sd).map(|(m, s)| m - 2.0 * s).collect();
                let hi: Vec<f64> = b.mean.iter().zip(&b.sd).map(|(m, s)| m + 2.0 * s).collect();
                p.add(
                    FilledArea::new("normative ± 2 SD", &xs, &lo, &hi)
                        .fill_color(Color32::from_gray(90).gamma_multiply(0.5)),
                );
                p.line(
                    Line::new("normative mean", PlotPoints::from_ys_f64(&b.mean))
                        .color(Color32::from_gray(160))
                        .style(LineStyle::dashed_loose()),
                );
            }
            for (i, (id, a)) in walks.iter().enumerate() {
                for side in Side::BOTH {
                    if let Some(c) = a.curve(var, side) {
                        let mut line = Line::new(
                            format!("{id} {}", side.letter()),
                            PlotPoints::from_ys_f64(&c.mean),
                        )
                        .color(side_color(side))
                        .width(2.0);
                        if i > 0 {
                            line = line
                                .style(LineStyle::dotted_dense())
                                .color(side_color(side).gamma_multiply(0.7));
                        }
                        p.line(line);
                    }
                }
            }
            if let Some((name, a)) = twin {
                for side in Side::BOTH {
                    if let Some(c) = a.curve(var, side) {
                        p.line(
                            Line::new(
                                format!("{name} {}", side.letter()),
                                PlotPoints::from_ys_f64(&c.mean),
                            )
                            .color(Color32::from_rgb(90, 200, 130))
                            .style(LineStyle::dashed_dense()),
                        );
                    }
                }
            }
        });
}

/// Rows of the spatio-temporal table: (name, unit, left, right) per walk.
fn rows(a: &GaitAnalysis) -> Vec<(&'static str, &'static str, f64, f64)> {
    let s = &a.spatiotemporal;
    let lr =
        |f: fn(&crate::core::biomech::spatiotemporal::SideParams) -> f64| (f(&s.left), f(&s.right));
    let mut v = vec![
        ("Cadence", "steps/min", s.cadence_steps_min, f64::NAN),
        ("Walking speed", "m/s", s.speed_m_s, f64::NAN),
    ];
    for (name, unit, (l, r)) in [
        ("Stride time", "s", lr(|p| p.stride_time_s)),
        ("Step time", "s", lr(|p| p.step_time_s)),
        ("Stride length", "m", lr(|p| p.stride_length_m)),
        ("Step length", "m", lr(|p| p.step_length_m)),
        ("Step width", "m", lr(|p| p.step_width_m)),
        ("Stance", "% cycle", lr(|p| p.stance_pct)),
        ("Swing", "% cycle", lr(|p| p.swing_pct)),
        ("Double support", "% cycle", lr(|p| p.double_support_pct)),
        ("Cycles", "n", (s.left.cycles as f64, s.right.cycles as f64)),
    ] {
        v.push((name, unit, l, r));
    }
    v
}

/// Three significant figures; integers without decimals; "–" for undefined.
#[must_use]
pub fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e6 {
        return format!("{v:.0}");
    }
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

fn st_table(ui: &mut egui::Ui, walks: &[(String, GaitAnalysis)], bands: Option<&NormativeBands>) {
    // One table, two columns (left, right) per walk, so several walks compare at a glance.
    let tables: Vec<Vec<(&str, &str, f64, f64)>> = walks
        .iter()
        .map(|(_, a)| {
            let mut r = rows(a);
            if let Some(b) = bands {
                let g = gait_profile(&a.curves, b);
                r.push(("Gait Profile Score", "deg", g.gps_left, g.gps_right));
            }
            r
        })
        .collect();
    let Some(first) = tables.first() else { return };
    egui::CollapsingHeader::new("Spatio-temporal parameters")
        .id_salt("st-table")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("st").striped(true).show(ui, |ui| {
                ui.label(RichText::new("Parameter").strong());
                ui.label(RichText::new("Unit").strong());
                for (id, _) in walks {
                    ui.label(RichText::new(format!("{id} L")).strong());
                    ui.label(RichText::new(format!("{id} R")).strong());
                }
                ui.end_row();
                for (k, (n, u, _, _)) in first.iter().enumerate() {
                    ui.label(*n);
                    ui.label(*u);
                    for t in &tables {
                        let (l, r) = t.get(k).map_or((f64::NAN, f64::NAN), |x| (x.2, x.3));
                        ui.label(fmt(l));
                        ui.label(fmt(r));
                    }
                    ui.end_row();
                }
            });
        });
}

/// Writes `spatiotemporal.csv` and one SVG per angle variable into `dir`. Returns the number of
/// files written.
///
/// # Errors
/// Unwritable folder or file, naming it.
pub fn export(
    dir: &Path,
    walks: &[(String, GaitAnalysis)],
    bands: Option<&NormativeBands>,
) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut csv = String::from("walk,parameter,unit,left,right\n");
    for (id, a) in walks {
        for (n, u, l, r) in rows(a) {
            let _ = writeln!(csv, "{id},{n},{u},{l},{r}");
        }
    }
    let write = |name: &str, text: &str| {
        write_atomic(&dir.join(name), text.as_bytes()).map_err(|e| e.to_string())
    };
    write("spatiotemporal.csv", &csv)?;
    let mut n = 1;
    for var in AngleVar::ALL {
        let mut series: Vec<(String, &str, Vec<f64>)> = Vec::new();
        for (id, a) in walks {
            for side in Side::BOTH {
                if let Some(c) = a.curve(var, side) {
                    let col = if side == Side::Left {
                        "#eb5046"
                    } else {
                        "#508cf0"
                    };
                    series.push((format!("{id} {}", side.letter()), col, c.mean.clone()));
                }
            }
        }
        let band = bands.and_then(|b| b.band(var));
        if series.is_empty() && band.is_none() {
            continue;
        }
        write(
            &format!("{}.svg", var.key()),
            &svg(var.label(), &series, band.map(|b| (&b.mean[..], &b.sd[..]))),
        )?;
        n += 1;
    }
    Ok(n)
}

/// A self-contained SVG line chart of curves over 0-100 % with an optional mean ± 2 SD band.
#[must_use]
pub fn svg(
    title: &str,
    series: &[(String, &str, Vec<f64>)],
    band: Option<(&[f64], &[f64])>,
) -> String {
    let (w, h, m) = (640.0, 360.0, 48.0);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut see = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for (_, _, ys) in series {
        for v in ys {
            see(*v);
        }
    }
    if let Some((mean, sd)) = band {
        for (m, s) in mean.iter().zip(sd) {
            see(m - 2.0 * s);
            see(m + 2.0 * s);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = 0.05 * (hi - lo).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |i: usize, n: usize| m + (w - 2.0 * m) * i as f64 / (n.max(2) - 1) as f64;
    let y = |v: f64| h - m - (h - 2.0 * m) * (v - lo) / (hi - lo);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{m}\" y=\"24\" font-size=\"15\">{}</text>\n",
        xml(title)
    );
    if let Some((mean, sd)) = band {
        let n = mean.len();
        let mut pts: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", x(i, n), y(mean[i] + 2.0 * sd[i])))
            .collect();
        pts.extend(
            (0..n)
                .rev()
                .map(|i| format!("{:.1},{:.1}", x(i, n), y(mean[i] - 2.0 * sd[i]))),
        );
        let _ = writeln!(
            s,
            "<polygon points=\"{}\" fill=\"#cccccc\" fill-opacity=\"0.6\"/>",
            pts.join(" ")
        );
        let line: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", x(i, n), y(mean[i])))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>",
            line.join(" ")
        );
    }
    for (k, (name, col, ys)) in series.iter().enumerate() {
        let n = ys.len();
        let line: Vec<String> = (0..n)
            .filter(|&i| ys[i].is_finite())
            .map(|i| format!("{:.1},{:.1}", x(i, n), y(ys[i])))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{col}\" stroke-width=\"2\"/>",
            line.join(" ")
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{col}\">{}</text>",
            w - m - 150.0,
            44.0 + 14.0 * k as f64,
            xml(name)
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{m}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n<line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{0}\" stroke=\"black\"/>",
        h - m,
        w - m
    );
    for t in [0, 25, 50, 75, 100] {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{t}%</text>",
            x(t, 101),
            h - m + 16.0
        );
    }
    for v in [lo, 0.5 * (lo + hi), hi] {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}°</text>",
            m - 4.0,
            y(v) + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
