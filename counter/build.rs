//! Compiles the console and the rating screen with the bundled font.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // DejaVu Sans covers Vietnamese; compiled into the binary, it needs no system font.
    let fonts = out.join("fonts");
    std::fs::create_dir_all(&fonts).expect("OUT_DIR is writable");
    std::fs::write(fonts.join("DejaVuSans.ttf"), dejavu::sans::regular()).expect("font written");
    std::fs::write(fonts.join("DejaVuSans-Bold.ttf"), dejavu::sans::bold()).expect("font written");
    let config = slint_build::CompilerConfiguration::new().with_include_paths(vec![fonts]);
    slint_build::compile_with_config("ui/counter.slint", config).expect("the counter UI compiles");
}
