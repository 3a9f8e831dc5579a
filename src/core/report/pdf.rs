//! Pages to PDF (krilla with krilla-svg: text stays text, the embedded font is subset into
//! the file) and to page images (resvg: the studio's preview), from the same page SVGs.

use krilla::Document;
use krilla::geom::Size;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};

use super::fonts;

/// A page that could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A page's SVG did not parse (a bug of ours: the message says where).
    #[error("page {page}: {message}")]
    Page {
        /// Page number (1-based).
        page: usize,
        /// What failed.
        message: String,
    },
    /// The PDF writer failed.
    #[error("PDF: {0}")]
    Pdf(String),
}

fn tree(svg: &str, page: usize) -> Result<usvg::Tree, RenderError> {
    let opts = usvg::Options {
        fontdb: fonts::database(),
        font_family: "DejaVu Sans".into(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opts).map_err(|e| RenderError::Page {
        page,
        message: e.to_string(),
    })
}

/// A PDF of the pages (one SVG each, sized in points), titled `title`.
///
/// # Errors
/// A page that does not parse, or the PDF writer's error.
pub fn pdf(pages: &[String], title: &str) -> Result<Vec<u8>, RenderError> {
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("PathoGait Studio".to_string())
            .producer(format!("pathogait {}", env!("CARGO_PKG_VERSION")))
            .language("en".to_string()),
    );
    for (i, svg) in pages.iter().enumerate() {
        let t = tree(svg, i + 1)?;
        let size = Size::from_wh(t.size().width(), t.size().height()).ok_or_else(|| {
            RenderError::Page {
                page: i + 1,
                message: "empty page size".into(),
            }
        })?;
        let mut page = doc.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        let drawn = surface.draw_svg(
            &t,
            size,
            SvgSettings {
                embed_text: true,
                ..SvgSettings::default()
            },
        );
        surface.finish();
        page.finish();
        if drawn.is_none() {
            return Err(RenderError::Page {
                page: i + 1,
                message: "krilla-svg could not draw it".into(),
            });
        }
    }
    doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

/// A page drawn at `scale` pixels per point: `(width, height, RGBA bytes)`, white behind.
///
/// # Errors
/// A page that does not parse, or a zero size.
pub fn page_image(svg: &str, scale: f32) -> Result<(u32, u32, Vec<u8>), RenderError> {
    let pixmap = draw(svg, scale)?;
    let rgba = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    Ok((pixmap.width(), pixmap.height(), rgba))
}

/// An SVG drawn at `scale` pixels per point as a PNG file's bytes, white behind.
///
/// # Errors
/// An SVG that does not parse, or a zero size.
pub fn svg_png(svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
    draw(svg, scale)?
        .encode_png()
        .map_err(|e| RenderError::Page {
            page: 1,
            message: format!("cannot encode PNG: {e}"),
        })
}

fn draw(svg: &str, scale: f32) -> Result<resvg::tiny_skia::Pixmap, RenderError> {
    let t = tree(svg, 1)?;
    let w = (t.size().width() * scale).ceil() as u32;
    let h = (t.size().height() * scale).ceil() as u32;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or_else(|| RenderError::Page {
        page: 1,
        message: format!("cannot draw a {w} x {h} image"),
    })?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &t,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}
