//! Priors inspector: per-class box plots (5-25-50-75-95 %) of a chosen prior (ROM, stance,
//! cadence, stride, asymmetry, severity, ...) with every walk as a point; click a point to
//! select that walk; a class comparison table; the normal reference class.

use egui::RichText;
use egui_plot::{BoxElem, BoxPlot, BoxSpread, Legend, Plot, PlotPoint, PlotPoints, Points};

use super::PanelCtx;
use crate::app::commands::Command;
use crate::core::biomech::priors::{FEATURES, PriorSet, Stat};

/// Key of the severity pseudo-feature (distance from the normal class).
pub const SEVERITY: &str = "severity";

/// Walks the plot draws one by one; beyond this it draws a decimation (see [`decimate`]).
pub const PLOT_ALL_UP_TO: usize = 10_000;

/// Priors panel state.
#[derive(Debug)]
pub struct PriorsState {
    /// Feature shown in the plot.
    pub feature: String,
    /// Last walk picked by clicking a point.
    pub picked: Option<String>,
    /// The plot's points and the class table, built once per change of the priors or the
    /// feature (not per frame).
    cache: Option<PlotCache>,
}

impl Default for PriorsState {
    fn default() -> Self {
        Self {
            feature: "knee_rom_deg".into(),
            picked: None,
            cache: None,
        }
    }
}

/// What the panel draws, computed from the priors once per change.
#[derive(Debug)]
struct PlotCache {
    /// Workspace generation and feature the cache was built for.
    key: (u64, String),
    /// Walk id of each shown point.
    ids: Vec<String>,
    /// Shown points: `(class + jitter, value)`.
    xy: Vec<PlotPoint>,
    /// Walks with a finite value (all of them are in the box plots).
    total: usize,
    /// Class comparison table: per prior, its description and one cell per class.
    table: Vec<(String, Vec<String>)>,
}

fn describe(key: &str) -> &str {
    if key == SEVERITY {
        return "severity (RMS z-distance from the normal class)";
    }
    FEATURES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, d)| d)
}

/// Value of `key` for each analysed walk: `(walk id, class index, value)`.
#[must_use]
pub fn points(p: &PriorSet, key: &str) -> Vec<(String, usize, f64)> {
    p.sequences
        .iter()
        .filter_map(|s| {
            let label = s.label.as_deref().unwrap_or("(unlabelled)");
            let ci = p.classes.iter().position(|c| c.name == label)?;
            let v = if key == SEVERITY {
                s.severity
            } else {
                s.features.get(key).copied().unwrap_or(f64::NAN)
            };
            v.is_finite().then(|| (s.id.clone(), ci, v))
        })
        .collect()
}

/// Indices of the points a plot of `points` (`(class, x, y)`) draws: all of them up to
/// `limit`; beyond, every class's outliers (beyond its Tukey fences, 1.5 IQR past the
/// quartiles), its minimum and maximum, and an even sample of the rest (the same fraction
/// of each class), so the drawn cloud keeps the full cloud's extent
/// and its density. In input order.
#[must_use]
pub fn decimate(points: &[(usize, f64, f64)], limit: usize) -> Vec<usize> {
    if points.len() <= limit {
        return (0..points.len()).collect();
    }
    let classes = points.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let mut keep = vec![false; points.len()];
    for c in 0..classes {
        let idx: Vec<usize> = (0..points.len()).filter(|i| points[*i].0 == c).collect();
        let mut ys: Vec<f64> = idx.iter().map(|i| points[*i].2).collect();
        ys.sort_by(f64::total_cmp);
        if ys.is_empty() {
            continue;
        }
        let q = |f: f64| ys[((ys.len() - 1) as f64 * f).round() as usize];
        let iqr = q(0.75) - q(0.25);
        let fence = (q(0.25) - 1.5 * iqr, q(0.75) + 1.5 * iqr);
        for &i in &idx {
            keep[i] |= points[i].2 < fence.0 || points[i].2 > fence.1;
        }
        let by_y = |a: &&usize, b: &&usize| points[**a].2.total_cmp(&points[**b].2);
        for extreme in [idx.iter().min_by(by_y), idx.iter().max_by(by_y)]
            .into_iter()
            .flatten()
        {
            keep[*extreme] = true;
        }
    }
    let kept = keep.iter().filter(|k| **k).count();
    let rest = points.len() - kept;
    // The same fraction of every class's other walks, evenly spread in input order, so the
    // plot holds as close to `limit` points as the outliers leave room for.
    let rate = (limit.saturating_sub(kept) as f64 / rest.max(1) as f64).min(1.0);
    let mut seen = vec![0_usize; classes];
    for (i, p) in points.iter().enumerate() {
        if !keep[i] {
            let k = seen[p.0] as f64;
            keep[i] = ((k + 1.0) * rate).floor() > (k * rate).floor();
            seen[p.0] += 1;
        }
    }
    (0..points.len()).filter(|i| keep[*i]).collect()
}

/// Builds what the panel draws for `key`'s feature.
fn plot_cache(p: &PriorSet, key: (u64, String)) -> PlotCache {
    let pts = points(p, &key.1);
    let all: Vec<(usize, f64, f64)> = pts
        .iter()
        .map(|(id, ci, v)| (*ci, *ci as f64 + jitter(id), *v))
        .collect();
    let shown = decimate(&all, PLOT_ALL_UP_TO);
    let table = FEATURES
        .iter()
        .map(|(k, d)| (*k, *d))
        .chain([(SEVERITY, describe(SEVERITY))])
        .map(|(k, d)| {
            let cells = (0..p.classes.len())
                .map(|ci| {
                    stat_of(p, ci, k).filter(|s| s.q50.is_finite()).map_or_else(
                        || "–".into(),
                        |s| {
                            let f = super::angles::fmt;
                            format!("{} [{}–{}]", f(s.q50), f(s.q25), f(s.q75))
                        },
                    )
                })
                .collect();
            (d.to_string(), cells)
        })
        .collect();
    PlotCache {
        ids: shown.iter().map(|i| pts[*i].0.clone()).collect(),
        xy: shown
            .iter()
            .map(|i| PlotPoint::new(all[*i].1, all[*i].2))
            .collect(),
        total: pts.len(),
        table,
        key,
    }
}

/// Small deterministic horizontal jitter so points of one class do not hide each other.
fn jitter(id: &str) -> f64 {
    let h = id.bytes().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    (f64::from(h % 1000) / 1000.0 - 0.5) * 0.5
}

fn stat_of<'a>(p: &'a PriorSet, class: usize, key: &str) -> Option<&'a Stat> {
    let c = p.classes.get(class)?;
    if key == SEVERITY {
        Some(&c.severity)
    } else {
        c.features.get(key)
    }
}

/// The normal reference class (auto or chosen) and how many walks the priors cover.
fn normal_class_bar(st: &mut PanelCtx<'_>, ui: &mut egui::Ui, p: &PriorSet) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Normal reference class:");
        let current = st.ws.project.normal_class.clone();
        egui::ComboBox::from_id_salt("normal-class")
            .selected_text(current.clone().unwrap_or_else(|| {
                format!(
                    "auto ({})",
                    p.normal_class.clone().unwrap_or_else(|| "none".into())
                )
            }))
            .show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "auto").clicked() {
                    st.commands.push(Command::SetNormalClass(None));
                }
                for c in &p.classes {
                    if ui
                        .selectable_label(current.as_deref() == Some(&c.name), &c.name)
                        .clicked()
                    {
                        st.commands
                            .push(Command::SetNormalClass(Some(c.name.clone())));
                    }
                }
            });
        ui.label(
            RichText::new(format!(
                "{} walks analysed, {} failed",
                p.sequences.len(),
                p.failed.len()
            ))
            .weak(),
        );
    });
}

/// Draws the panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    // A shared handle: the panel needs the priors while it pushes commands.
    let Some(p) = st.ws.priors.clone() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Priors are computed after the data loads…");
            if st.ws.loaded && !st.busy("Computing priors") && ui.button("Compute now").clicked() {
                st.commands.push(Command::ComputePriors);
            }
        });
        return;
    };
    normal_class_bar(st, ui, &p);
    let s = &mut st.panels.priors;
    ui.horizontal(|ui| {
        ui.label("Prior");
        egui::ComboBox::from_id_salt("prior-feature")
            .width(360.0)
            .selected_text(describe(&s.feature))
            .show_ui(ui, |ui| {
                for (k, d) in FEATURES
                    .iter()
                    .map(|(k, d)| (*k, *d))
                    .chain([(SEVERITY, describe(SEVERITY))])
                {
                    ui.selectable_value(&mut s.feature, k.to_string(), d);
                }
            });
        if let Some(id) = &s.picked {
            ui.label(format!("selected {id} (click a point to pick another)"));
        }
    });
    let key = (st.ws.generation, s.feature.clone());
    if s.cache.as_ref().is_none_or(|c| c.key != key) {
        s.cache = Some(plot_cache(&p, key.clone()));
    }
    // Taken out for the frame (the click pushes a command), then put back.
    let Some(cache) = st.panels.priors.cache.take() else {
        return;
    };
    let key = key.1;
    if cache.xy.len() < cache.total {
        ui.label(
            RichText::new(format!(
                "Showing {} of {} walks: every class's outliers, minimum and maximum, and an even sample of the rest; the boxes use all walks",
                cache.xy.len(),
                cache.total
            ))
            .weak(),
        );
    }
    let boxes: Vec<BoxElem> = (0..p.classes.len())
        .filter_map(|ci| {
            let st = stat_of(&p, ci, &key)?;
            (st.n > 0 && st.q50.is_finite()).then(|| {
                BoxElem::new(
                    ci as f64,
                    BoxSpread::new(st.q05, st.q25, st.q50, st.q75, st.q95),
                )
                .name(&p.classes[ci].name)
                .box_width(0.6)
            })
        })
        .collect();
    let names: Vec<String> = p.classes.iter().map(|c| c.name.clone()).collect();
    let xy = &cache.xy;
    // Thousands of points would hide the boxes under them: smaller and translucent then.
    let (radius, color) = if xy.len() > 2_000 {
        (
            1.5,
            egui::Color32::from_rgba_unmultiplied(240, 160, 70, 110),
        )
    } else {
        (3.0, egui::Color32::from_rgb(240, 160, 70))
    };
    let resp = Plot::new("priors-plot")
        .height((ui.available_height() * 0.6).max(220.0))
        .legend(Legend::default())
        .y_axis_label(describe(&key).to_string())
        .x_axis_formatter(super::category_axis(names))
        .show(ui, |pu| {
            pu.add(
                BoxPlot::new("class 5-25-50-75-95 %", boxes)
                    .color(egui::Color32::from_rgb(110, 170, 240)),
            );
            pu.add(
                Points::new("walks", PlotPoints::Borrowed(xy))
                    .radius(radius)
                    .color(color),
            );
            pu.response()
                .clicked()
                .then(|| pu.pointer_coordinate())
                .flatten()
                .map(|c| {
                    // Nearest point in screen space, so the scales of the axes do not matter.
                    let click = pu.screen_from_plot(c);
                    xy.iter()
                        .enumerate()
                        .map(|(i, q)| (i, pu.screen_from_plot(*q).distance(click)))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .filter(|(_, d)| *d < 12.0)
                        .map(|(i, _)| i)
                })
        });
    if let Some(Some(i)) = resp.inner {
        let id = cache.ids[i].clone();
        st.panels.priors.picked = Some(id.clone());
        st.commands.push(Command::Select(vec![id]));
    }
    class_table(ui, &p, &cache.table);
    st.panels.priors.cache = Some(cache);
}

fn class_table(ui: &mut egui::Ui, p: &PriorSet, rows: &[(String, Vec<String>)]) {
    ui.label(RichText::new("Class comparison: median [25-75 %]").strong());
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("prior-table").striped(true).show(ui, |ui| {
            ui.label(RichText::new("prior").strong());
            for c in &p.classes {
                ui.label(RichText::new(format!("{} (n={})", c.name, c.sequences)).strong());
            }
            ui.end_row();
            for (d, cells) in rows {
                ui.label(d);
                for c in cells {
                    ui.label(c);
                }
                ui.end_row();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(class, x, y)` points: three classes of `n` walks, values a sum of uniforms (bell
    /// shaped), plus two far outliers per class.
    fn cloud(n: usize) -> Vec<(usize, f64, f64)> {
        let mut state = 12_345_u64;
        let mut u = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1_u64 << 53) as f64
        };
        let mut pts = Vec::new();
        for c in 0..3 {
            for _ in 0..n {
                let y = 10.0 * c as f64 + (0..4).map(|_| u()).sum::<f64>();
                pts.push((c, c as f64 + (u() - 0.5) * 0.5, y));
            }
            pts.push((c, c as f64, 10.0 * c as f64 - 50.0));
            pts.push((c, c as f64, 10.0 * c as f64 + 90.0));
        }
        pts
    }

    #[test]
    fn small_sets_are_drawn_whole() {
        let pts = cloud(3_000);
        assert_eq!(decimate(&pts, PLOT_ALL_UP_TO).len(), pts.len());
    }

    #[test]
    fn large_sets_keep_outliers_extremes_and_the_cloud_shape() {
        let pts = cloud(40_000);
        let kept = decimate(&pts, PLOT_ALL_UP_TO);
        assert!(
            kept.len() <= PLOT_ALL_UP_TO && kept.len() > PLOT_ALL_UP_TO * 9 / 10,
            "{} points kept",
            kept.len()
        );
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "input order");
        for c in 0..3 {
            let ys = |idx: &mut dyn Iterator<Item = usize>| {
                idx.filter(|i| pts[*i].0 == c)
                    .map(|i| pts[i].2)
                    .collect::<Vec<_>>()
            };
            let all = ys(&mut (0..pts.len()));
            let shown = ys(&mut kept.iter().copied());
            let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(
                min(&shown).to_bits(),
                min(&all).to_bits(),
                "class {c} minimum kept"
            );
            assert_eq!(
                max(&shown).to_bits(),
                max(&all).to_bits(),
                "class {c} maximum kept"
            );
            // The sample keeps the density: the core's deciles sit within 3 % of the core's
            // range (4) of the full cloud's.
            let q = |v: &[f64], f: f64| {
                let mut v: Vec<f64> = v
                    .iter()
                    .copied()
                    .filter(|y| (y - 10.0 * c as f64).abs() < 10.0)
                    .collect();
                v.sort_by(f64::total_cmp);
                v[((v.len() - 1) as f64 * f) as usize]
            };
            for f in [0.1, 0.5, 0.9] {
                assert!(
                    (q(&shown, f) - q(&all, f)).abs() < 0.12,
                    "class {c} quantile {f}: {} vs {}",
                    q(&shown, f),
                    q(&all, f)
                );
            }
        }
    }
}
