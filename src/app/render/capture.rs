//! Offscreen capture: the viewport's picture as PNG, a playback as numbered PNGs or a GIF.
//! Rendered with the same [`SkeletonRenderer`] on a device of its own, so captures work
//! from a background thread while the studio keeps drawing.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbaImage};

use super::gpu::{RenderError, SkeletonRenderer, headless_device};
use super::scene::{OrbitCamera, Scene};
use crate::core::fsutil::write_atomic;
use crate::core::jobs::{CancelToken, Progress};

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Encoding or writing a file failed.
    #[error("{}: {message}", path.display())]
    File {
        /// File.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes an image as PNG, atomically.
///
/// # Errors
/// Encoding or an unwritable path, naming the file.
pub fn save_png(img: &RgbaImage, path: &Path) -> Result<(), CaptureError> {
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| file_err(path, e))?;
    write_atomic(path, bytes.get_ref()).map_err(|e| file_err(path, e))
}

/// Renders `n` frames, `scene_at(i)` giving frame `i`, at `size` pixels.
///
/// # Errors
/// No wgpu device, a readback failure, or cancellation.
pub fn render_frames(
    scene_at: &dyn Fn(usize) -> Scene,
    n: usize,
    camera: &OrbitCamera,
    size: [u32; 2],
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Vec<RgbaImage>, CaptureError> {
    let (device, queue, _) = headless_device()?;
    let mut r = SkeletonRenderer::new(&device, None);
    progress.start("rendering frames", n as u64);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if cancel.is_cancelled() {
            progress.finish();
            return Err(CaptureError::Cancelled);
        }
        out.push(r.render_image(&device, &queue, &scene_at(i), camera, size)?);
        progress.advance(1, &format!("frame {}", i + 1));
    }
    progress.finish();
    Ok(out)
}

/// Writes frames as an endlessly looping GIF at `fps`, atomically.
///
/// # Errors
/// Encoding or an unwritable path, naming the file.
pub fn save_gif(frames: &[RgbaImage], fps: f32, path: &Path) -> Result<(), CaptureError> {
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|e| file_err(path, e))?;
        let ms = (1000.0 / fps.max(1.0)).round() as u32;
        for f in frames {
            enc.encode_frame(Frame::from_parts(
                f.clone(),
                0,
                0,
                Delay::from_numer_denom_ms(ms, 1),
            ))
            .map_err(|e| file_err(path, e))?;
        }
    }
    write_atomic(path, &bytes).map_err(|e| file_err(path, e))
}

/// Writes frames as `<dir>/<stem>_0001.png`, ... Returns the files written.
///
/// # Errors
/// An unwritable folder or file, naming it.
pub fn save_sequence(
    frames: &[RgbaImage],
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, CaptureError> {
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = dir.join(format!("{stem}_{:04}.png", i + 1));
            save_png(f, &p).map(|()| p)
        })
        .collect()
}
