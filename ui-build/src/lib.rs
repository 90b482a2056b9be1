//! For the build scripts of the Slint windows (kiosk, board, counter): DejaVu Sans, which
//! covers Vietnamese, is written where `import "DejaVuSans.ttf"` finds it, so the font is
//! compiled into the binary and a machine without any font installed shows every
//! diacritic; then the UI is compiled.

use std::path::PathBuf;

/// Compiles the UI at `entry`; with `translations`, the folder of its bundled `.po` files.
pub fn compile(entry: &str, translations: Option<&str>) {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let fonts = out.join("fonts");
    std::fs::create_dir_all(&fonts).expect("OUT_DIR is writable");
    std::fs::write(fonts.join("DejaVuSans.ttf"), dejavu::sans::regular()).expect("font written");
    std::fs::write(fonts.join("DejaVuSans-Bold.ttf"), dejavu::sans::bold()).expect("font written");
    let mut config = slint_build::CompilerConfiguration::new().with_include_paths(vec![fonts]);
    if let Some(folder) = translations {
        config = config
            .with_bundled_translations(folder)
            .with_default_translation_context(slint_build::DefaultTranslationContext::None);
        println!("cargo:rerun-if-changed={folder}");
    }
    slint_build::compile_with_config(entry, config)
        .unwrap_or_else(|e| panic!("{entry} does not compile: {e}"));
}
