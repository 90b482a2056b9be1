//! Compiles the kiosk UI with the bundled font and the English translation.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // DejaVu Sans covers Vietnamese; it is compiled into the binary, so a machine without
    // any font installed still shows every diacritic.
    let fonts = out.join("fonts");
    std::fs::create_dir_all(&fonts).expect("OUT_DIR is writable");
    std::fs::write(fonts.join("DejaVuSans.ttf"), dejavu::sans::regular()).expect("font written");
    std::fs::write(fonts.join("DejaVuSans-Bold.ttf"), dejavu::sans::bold()).expect("font written");
    let config = slint_build::CompilerConfiguration::new()
        .with_include_paths(vec![fonts])
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("the kiosk UI compiles");
    println!("cargo:rerun-if-changed=lang");
}
