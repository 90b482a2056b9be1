//! Windows without a screen: Slint's testing platform for UI tests, the elements of a
//! window found and pressed by accessible label as a screen reader or a finger would,
//! and the software renderer for screenshots, saved as PNG.

use std::path::Path;

pub use i_slint_backend_testing::ElementHandle;
use slint::ComponentHandle;

/// Every element labelled `label` in `window`.
pub fn find(window: &impl ComponentHandle, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(window, label).collect()
}

/// Presses the first element labelled `label`: its default action, a tap. Panics, naming
/// the label, when there is none.
pub fn tap(window: &impl ComponentHandle, label: &str) {
    let found = find(window, label);
    assert!(!found.is_empty(), "nothing labelled {label:?} on screen");
    found[0].invoke_accessible_default_action();
}

/// The accessible value of the first element labelled `label` (the number on a ticket
/// screen, say).
pub fn value(window: &impl ComponentHandle, label: &str) -> Option<String> {
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
}

/// Sets the testing platform for this thread (each test runs on a thread of its own; a
/// second call on the same thread keeps the first). `draw` adds the software renderer,
/// for snapshots; `mock_time` stops the clock unless the test moves it.
pub fn init(draw: bool, mock_time: bool) {
    let _ = slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions {
            mock_time,
            threading: false,
            renderer_name: draw.then(|| "software".into()),
        },
    )));
}

/// Shows the window at `width` x `height` and saves what it draws as an RGB PNG.
pub fn save_png(
    window: &slint::Window,
    width: u32,
    height: u32,
    path: &Path,
) -> std::io::Result<()> {
    window.set_size(slint::PhysicalSize::new(width, height));
    window.show().map_err(std::io::Error::other)?;
    let shot = window.take_snapshot().map_err(std::io::Error::other)?;
    let file = std::fs::File::create(path)?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), shot.width(), shot.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    let rgb: Vec<u8> = shot
        .as_bytes()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    writer.write_image_data(&rgb).map_err(std::io::Error::other)
}
