//! Vietnamese lines drawn on the host with the bundled DejaVu Sans, as 1-bit raster
//! images: code pages for Vietnamese differ between printers or are missing, an image
//! prints the same everywhere.

use fontdue::{Font, FontSettings};

use crate::escpos::Bitmap;

/// The fonts tickets are drawn with; they come with the build, not from the system.
pub struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

impl Fonts {
    pub fn load() -> Fonts {
        let load = |bytes: &[u8]| {
            Font::from_bytes(bytes, FontSettings::default()).expect("the bundled font parses")
        };
        Fonts {
            regular: load(dejavu::sans::regular()),
            bold: load(dejavu::sans::bold()),
        }
    }
}

/// Coverage from this value up prints black.
const INK: u8 = 110;

/// Width of `text` at `px`, in dots.
pub fn measure(font: &Font, text: &str, px: f32) -> f32 {
    text.chars()
        .map(|c| font.metrics(c, px).advance_width)
        .sum()
}

/// Splits `text` into lines no wider than `max_dots`, at spaces.
pub fn wrap(font: &Font, text: &str, px: f32, max_dots: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(font, &candidate, px) <= max_dots as f32 || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line of text as a bitmap as wide as its ink (rounded up to whole bytes) and as
/// tall as its glyphs reach, marks stacked above capitals included.
pub fn render_line(font: &Font, text: &str, px: f32) -> Bitmap {
    let glyphs: Vec<_> = text.chars().map(|c| font.rasterize(c, px)).collect();
    let mut x = 0f32;
    let mut placed = Vec::with_capacity(glyphs.len());
    let (mut top, mut bottom) = (0i32, 0i32);
    for (metrics, coverage) in &glyphs {
        let left = (x + metrics.xmin as f32).round() as i32;
        // Rows above the baseline are negative.
        let glyph_top = -(metrics.height as i32 + metrics.ymin);
        top = top.min(glyph_top);
        bottom = bottom.max(-metrics.ymin);
        placed.push((left, glyph_top, metrics.width, metrics.height, coverage));
        x += metrics.advance_width;
    }
    let left_edge = placed
        .iter()
        .filter(|p| p.2 > 0)
        .map(|p| p.0)
        .min()
        .unwrap_or(0);
    let right_edge = placed
        .iter()
        .filter(|p| p.2 > 0)
        .map(|p| p.0 + p.2 as i32)
        .max()
        .unwrap_or(1);
    let width = (right_edge - left_edge).max(1) as usize;
    let width_bytes = width.div_ceil(8);
    let height = (bottom - top).max(1) as usize;
    let mut bits = vec![0u8; width_bytes * height];
    for (left, glyph_top, w, h, coverage) in placed {
        for gy in 0..h {
            for gx in 0..w {
                if coverage[gy * w + gx] < INK {
                    continue;
                }
                let px_x = (left - left_edge) as usize + gx;
                let px_y = (glyph_top - top) as usize + gy;
                if px_x < width && px_y < height {
                    bits[px_y * width_bytes + px_x / 8] |= 0x80 >> (px_x % 8);
                }
            }
        }
    }
    Bitmap {
        width_bytes,
        height,
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_marks_above_capitals_fit_in_the_line() {
        let fonts = Fonts::load();
        let plain = render_line(&fonts.bold, "SO THU TU", 30.0);
        let marked = render_line(&fonts.bold, "SỐ THỨ TỰ", 30.0);
        assert!(marked.height > plain.height, "Ố and Ứ reach above capitals");
        // The top row has ink: nothing was cut off above.
        let top_row = &marked.bits[..marked.width_bytes];
        assert!(top_row.iter().any(|b| *b != 0));
    }

    #[test]
    fn lines_wrap_at_spaces_within_the_paper() {
        let fonts = Fonts::load();
        let lines = wrap(
            &fonts.bold,
            "Hỗ trợ VNeID, dịch vụ công trực tuyến",
            24.0,
            300,
        );
        assert!(lines.len() >= 2, "{lines:?}");
        assert_eq!(lines.join(" "), "Hỗ trợ VNeID, dịch vụ công trực tuyến");
        for line in &lines {
            assert!(measure(&fonts.bold, line, 24.0) <= 300.0);
        }
    }
}
