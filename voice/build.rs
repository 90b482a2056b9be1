//! Compiles the default voice pack into the binary, so calls are spoken on a machine
//! with nothing installed.

use std::fmt::Write;

fn main() {
    let pack = std::path::Path::new("packs/vi-south");
    println!("cargo:rerun-if-changed={}", pack.display());
    let mut names: Vec<String> = std::fs::read_dir(pack)
        .expect("the default voice pack is in the repository")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    let mut code = String::from(
        "/// (clip, WAV bytes) of the default pack.\npub const BUILTIN: &[(&str, &[u8])] = &[\n",
    );
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    for name in names {
        let clip = name.trim_end_matches(".wav");
        writeln!(
            code,
            "    ({clip:?}, include_bytes!({:?})),",
            format!("{dir}/packs/vi-south/{name}")
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("builtin_pack.rs"), code).expect("OUT_DIR is writable");
}
