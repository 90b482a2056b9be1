//! For the build scripts of the Slint windows (kiosk, board, counter): DejaVu Sans, which
//! covers Vietnamese, is written where `import "DejaVuSans.ttf"` finds it, so the font is
//! compiled into the binary and a machine without any font installed shows every
//! diacritic; `ui/theme.slint` (fonts, palette, button), which the kiosk and counter
//! windows share, is found by `import { Palette } from "theme.slint"`; then the UI is
//! compiled.

use std::path::PathBuf;

/// Compiles the UI at `entry`; with `translations`, the folder of its bundled `.po` files.
pub fn compile(entry: &str, translations: Option<&str>) {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let fonts = out.join("fonts");
    std::fs::create_dir_all(&fonts).expect("OUT_DIR is writable");
    write_unchanged_or_new(&fonts.join("DejaVuSans.ttf"), dejavu::sans::regular());
    write_unchanged_or_new(&fonts.join("DejaVuSans-Bold.ttf"), dejavu::sans::bold());
    // Accessible labels, which the UI tests find elements by, need the debug info. Set
    // here rather than in .cargo/config.toml, which a build from another folder
    // (`--manifest-path`) does not read: the windows were then built twice.
    let mut config = slint_build::CompilerConfiguration::new()
        .with_include_paths(vec![
            fonts,
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui"),
        ])
        .with_debug_info(true);
    if let Some(folder) = translations {
        config = config
            .with_bundled_translations(folder)
            .with_default_translation_context(slint_build::DefaultTranslationContext::None);
        println!("cargo:rerun-if-changed={folder}");
    }
    slint_build::compile_with_config(entry, config)
        .unwrap_or_else(|e| panic!("{entry} does not compile: {e}"));
}

/// Writes `bytes` unless the file already holds them. The UI compiler asks cargo to rerun
/// the build script when an imported font changes: a font rewritten on every run would be
/// newer than that run and rebuild the windows (and `qms`) on every `cargo run`.
fn write_unchanged_or_new(path: &std::path::Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::write(path, bytes).expect("font written");
}
