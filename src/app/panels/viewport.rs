//! Viewport: the selected walks as 3D skeletons (wgpu, instanced capsules; painter fallback),
//! overlaid or side by side, with the normative twin and joint anomaly colours, foot-contact
//! markers, playback controls and PNG / PNG-sequence / GIF capture.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use egui::{RichText, Sense};

use super::PanelCtx;
use crate::app::actions::StudioJob;
use crate::app::commands::{Command, Output};
use crate::app::jobs::Job;
use crate::app::render::capture::{render_frames, save_gif, save_png, save_sequence};
use crate::app::render::scene::{Layer, OrbitCamera, Scene, build_scene};
use crate::app::render::{ViewportCallback, painter::paint_scene};
use crate::app::state::DisplayWalk;
use crate::core::data::CommonJoint;

/// How several walks are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrangement {
    /// On top of each other (each in its own colour).
    #[default]
    Overlay,
    /// One metre apart sideways.
    SideBySide,
}

/// Viewport state.
#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)] // independent display toggles, one checkbox each
pub struct ViewportState {
    /// Camera.
    pub camera: OrbitCamera,
    /// Playback time, seconds.
    pub time: f32,
    /// Playing.
    pub playing: bool,
    /// Playback speed factor.
    pub speed: f32,
    /// Loop at the end.
    pub looping: bool,
    /// Arrangement of several walks.
    pub arrangement: Arrangement,
    /// Ground grid.
    pub grid: bool,
    /// Foot-contact markers.
    pub contacts: bool,
    /// Show the normative twin of the current walk beside it (when computed).
    pub twin: bool,
    /// Camera follows the walks on show (the mean of their pelvis positions along the walk).
    pub follow: bool,
    /// Most walks drawn at once.
    pub max_walks: usize,
    /// Capture file or folder.
    pub capture_path: String,
    last_tick: Option<Instant>,
}

impl Default for ViewportState {
    fn default() -> Self {
        Self {
            camera: OrbitCamera::default(),
            time: 0.0,
            playing: false,
            speed: 1.0,
            looping: true,
            arrangement: Arrangement::Overlay,
            grid: true,
            contacts: true,
            twin: true,
            follow: true,
            max_walks: 400,
            capture_path: "viewport.png".into(),
            last_tick: None,
        }
    }
}

/// One drawable walk, owned so scenes can be built on any thread.
pub struct Shown {
    /// Walk.
    pub walk: Arc<DisplayWalk>,
    /// Colour.
    pub color: [f32; 4],
    /// Offset.
    pub offset: [f32; 3],
    /// Per-joint colour values.
    pub values: Option<Vec<f32>>,
    /// Label for the legend.
    pub label: String,
}

/// The walks on show: the selection (coloured in order), plus the twin of the first walk.
pub fn shown(st: &mut PanelCtx<'_>) -> Vec<Shown> {
    let vp = &st.panels.viewport;
    let (arr, max, twin_on) = (vp.arrangement, vp.max_walks, vp.twin);
    let ids: Vec<String> = st.ws.selection.iter().take(max).cloned().collect();
    let mut out = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(walk) = st.ws.display(id) else {
            continue;
        };
        let offset = match arr {
            Arrangement::Overlay => [0.0, 0.0, 0.0],
            // Each further walk 1.2 m behind and 0.4 m further from the camera's side, so
            // walks seen from the side (the default view) stand apart instead of hiding
            // each other.
            Arrangement::SideBySide => {
                let k = out.len() as f32;
                [-1.2 * k, 0.4 * k, 0.0]
            }
        };
        out.push(Shown {
            walk,
            color: super::walk_color(i),
            offset,
            values: None,
            label: id.clone(),
        });
    }
    if twin_on
        && let Some(first) = ids.first()
        && let Some(r) = st.ws.twin_results.get(first)
    {
        // Scores by joint of the common rig: error / threshold, 1 = threshold (shown as 0.5).
        let values: Vec<f32> = CommonJoint::ALL
            .iter()
            .map(|j| {
                r.scores
                    .iter()
                    .find(|s| s.joint == *j)
                    .map_or(0.0, |s| (0.5 * s.score) as f32)
            })
            .collect();
        // The sequences are copied for display once (cached), not every frame.
        let (ko, kt) = (format!("{first}#original"), format!("{first}#twin"));
        let copies = if st.ws.cached_display(&ko).is_some() && st.ws.cached_display(&kt).is_some() {
            None
        } else {
            Some((r.original.clone(), r.twin.clone()))
        };
        if let Some((o, t)) = copies {
            st.ws.display_of(&ko, &o);
            st.ws.display_of(&kt, &t);
        }
        let (Some(orig), Some(twin)) = (st.ws.cached_display(&ko), st.ws.cached_display(&kt))
        else {
            return out;
        };
        let k = out.len() as f32;
        out.retain(|s| s.label != *first);
        out.insert(
            0,
            Shown {
                walk: orig,
                color: super::walk_color(0),
                offset: [0.0, 0.0, 0.0],
                values: Some(values),
                label: format!("{first} (scores)"),
            },
        );
        out.push(Shown {
            walk: twin,
            color: [0.35, 0.80, 0.55, 1.0],
            offset: [0.0, -k.max(1.0), 0.0],
            values: None,
            label: format!("{first} normative twin"),
        });
    }
    out
}

/// Builds the scene of `shown` at time `t`.
#[must_use]
pub fn scene_of(shown: &[Shown], t: f32, grid: bool, contacts: bool) -> Scene {
    let layers: Vec<Layer<'_>> = shown
        .iter()
        .map(|s| Layer {
            seq: &s.walk.seq,
            color: s.color,
            offset: s.offset,
            joint_values: s.values.clone(),
            contacts: contacts.then(|| s.walk.contacts.clone()),
        })
        .collect();
    build_scene(&layers, t, grid)
}

fn duration(shown: &[Shown]) -> f32 {
    shown
        .iter()
        .map(|s| s.walk.seq.duration_s())
        .fold(0.0, f32::max)
}

fn pelvis_at(s: &Shown, t: f32) -> Option<[f32; 3]> {
    let seq = &s.walk.seq;
    let f = crate::app::render::scene::frame_at(seq, t);
    let j = seq
        .skeleton
        .common_sources(CommonJoint::Pelvis)?
        .first()
        .copied()?;
    let p = seq.pos(f, j);
    p.iter()
        .all(|x| x.is_finite())
        .then(|| [p[0] + s.offset[0], p[1] + s.offset[1], p[2] + s.offset[2]])
}

/// Draws the viewport panel.
pub fn show(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    let shown = shown(st);
    let dur = duration(&shown);
    capture_bar(st, ui);
    let vp = &mut st.panels.viewport;
    // Advance playback by wall time, so speed is right whatever the frame rate.
    let now = Instant::now();
    if vp.playing {
        let dt = vp
            .last_tick
            .map_or(0.0, |t| now.duration_since(t).as_secs_f32());
        vp.time += dt * vp.speed;
        if vp.time > dur {
            if vp.looping && dur > 0.0 {
                vp.time %= dur;
            } else {
                vp.time = dur;
                vp.playing = false;
            }
        }
    }
    vp.last_tick = Some(now);
    controls(vp, ui, dur);
    ui.horizontal_wrapped(|ui| {
        for s in &shown {
            let c = s.color;
            ui.colored_label(
                egui::Color32::from_rgb(
                    (c[0] * 255.0) as u8,
                    (c[1] * 255.0) as u8,
                    (c[2] * 255.0) as u8,
                ),
                format!("• {}", s.label),
            );
        }
        if shown.iter().any(|s| s.values.is_some()) {
            ui.label(
                RichText::new(
                    "joint colour: anomaly score (blue low to red above the normal threshold)",
                )
                .weak(),
            );
        }
        if shown.is_empty() {
            ui.label("Select walks in the dataset browser to view them.");
        }
    });
    // Walks of different speeds drift apart: follow their middle, so all stay in view.
    let along: Vec<f32> = shown
        .iter()
        .filter_map(|s| pelvis_at(s, vp.time))
        .map(|p| p[0])
        .collect();
    if vp.follow && !along.is_empty() {
        let x = along.iter().sum::<f32>() / along.len() as f32;
        vp.camera.target = [x, vp.camera.target[1], 0.9];
    }
    let scene = scene_of(&shown, vp.time, vp.grid, vp.contacts);
    let avail = ui.available_size();
    let (rect, resp) = ui.allocate_exact_size(
        egui::vec2(avail.x.max(64.0), avail.y.max(64.0)),
        Sense::click_and_drag(),
    );
    if resp.dragged_by(egui::PointerButton::Primary) {
        let d = resp.drag_delta();
        vp.camera.orbit(d.x * 0.01, d.y * 0.01);
    }
    if resp.dragged_by(egui::PointerButton::Secondary)
        || resp.dragged_by(egui::PointerButton::Middle)
    {
        let d = resp.drag_delta();
        vp.follow = false;
        vp.camera.pan(d.x / rect.height(), d.y / rect.height());
    }
    if resp.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            vp.camera.zoom((-scroll * 0.002).exp());
        }
    }
    if st.wgpu {
        let ppp = ui.ctx().pixels_per_point();
        let size = [
            (rect.width() * ppp).round() as u32,
            (rect.height() * ppp).round() as u32,
        ];
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(
            rect,
            ViewportCallback {
                scene,
                camera: vp.camera,
                size,
            },
        ));
    } else {
        paint_scene(ui.painter(), rect, &scene, &vp.camera);
    }
}

fn controls(vp: &mut ViewportState, ui: &mut egui::Ui, dur: f32) {
    ui.horizontal_wrapped(|ui| {
        let label = if vp.playing { "Pause" } else { "Play" };
        if ui.button(label).clicked() {
            vp.playing = !vp.playing;
        }
        if ui
            .button("Start")
            .on_hover_text("Back to the start")
            .clicked()
        {
            vp.time = 0.0;
        }
        ui.add(
            egui::Slider::new(&mut vp.time, 0.0..=dur.max(0.01))
                .text("s")
                .fixed_decimals(2),
        );
        ui.add(
            egui::Slider::new(&mut vp.speed, 0.1..=3.0)
                .text("speed")
                .logarithmic(true),
        );
        ui.checkbox(&mut vp.looping, "loop");
        egui::ComboBox::from_id_salt("arrangement")
            .selected_text(match vp.arrangement {
                Arrangement::Overlay => "overlay",
                Arrangement::SideBySide => "side by side",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut vp.arrangement, Arrangement::Overlay, "overlay");
                ui.selectable_value(&mut vp.arrangement, Arrangement::SideBySide, "side by side");
            });
        ui.checkbox(&mut vp.grid, "grid");
        ui.checkbox(&mut vp.contacts, "foot contacts");
        ui.checkbox(&mut vp.twin, "twin");
        ui.checkbox(&mut vp.follow, "follow");
        if ui.button("Reset camera").clicked() {
            vp.camera = OrbitCamera::default();
            vp.follow = true;
        }
    });
}

/// The capture row: file name and PNG / GIF / PNG-sequence buttons.
pub fn capture_bar(st: &mut PanelCtx<'_>, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.label("Capture to");
        ui.text_edit_singleline(&mut st.panels.viewport.capture_path);
        let p = PathBuf::from(st.panels.viewport.capture_path.trim());
        if ui.button("PNG").clicked() {
            st.commands
                .push(Command::CapturePng(p.with_extension("png")));
        }
        if ui.button("GIF").clicked() {
            st.commands
                .push(Command::CapturePlayback(p.with_extension("gif"), true));
        }
        if ui
            .button("PNG sequence")
            .on_hover_text("numbered PNGs in a folder of this name")
            .clicked()
        {
            st.commands
                .push(Command::CapturePlayback(p.with_extension(""), false));
        }
    });
}

/// Capture size in pixels.
const CAPTURE: [u32; 2] = [1280, 720];

/// Saves the current view as PNG (rendered offscreen with the same renderer).
///
/// # Errors
/// The thread could not start.
pub fn capture_png(st: &mut PanelCtx<'_>, path: PathBuf) -> Result<StudioJob, String> {
    let shown = shown(st);
    let vp = &st.panels.viewport;
    let scene = scene_of(&shown, vp.time, vp.grid, vp.contacts);
    let camera = vp.camera;
    Job::spawn(
        "capture",
        format!("Saving {}", path.display()),
        move |p, c| {
            let frames = render_frames(&|_| scene.clone(), 1, &camera, CAPTURE, p, c)
                .map_err(|e| e.to_string())?;
            let img = frames.first().ok_or("nothing rendered")?;
            save_png(img, &path).map_err(|e| e.to_string())?;
            Ok(Output::Message(format!("Saved {}", path.display())))
        },
    )
    .map_err(|e| e.to_string())
}

/// Saves the whole playback at 15 frames/s (at most 20 s) as GIF or numbered PNGs.
///
/// # Errors
/// The thread could not start.
pub fn capture_playback(
    st: &mut PanelCtx<'_>,
    path: PathBuf,
    gif: bool,
) -> Result<StudioJob, String> {
    let shown = shown(st);
    let vp = &st.panels.viewport;
    let fps = 15.0;
    let n = ((duration(&shown).min(20.0) * fps).ceil() as usize).max(1);
    let scenes: Vec<Scene> = (0..n)
        .map(|i| scene_of(&shown, i as f32 / fps, vp.grid, vp.contacts))
        .collect();
    let camera = vp.camera;
    Job::spawn(
        "capture",
        format!("Saving {}", path.display()),
        move |p, c| {
            let frames = render_frames(&|i| scenes[i].clone(), n, &camera, CAPTURE, p, c)
                .map_err(|e| e.to_string())?;
            if gif {
                save_gif(&frames, fps, &path).map_err(|e| e.to_string())?;
            } else {
                let stem = path
                    .file_name()
                    .map_or_else(|| "frame".into(), |s| s.to_string_lossy().into_owned());
                save_sequence(&frames, &path, &stem).map_err(|e| e.to_string())?;
            }
            Ok(Output::Message(format!(
                "Saved {n} frames to {}",
                path.display()
            )))
        },
    )
    .map_err(|e| e.to_string())
}
