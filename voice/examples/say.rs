//! Writes the call of a ticket to a counter as a WAV file, to hear a voice pack:
//! `cargo run -p qms-voice --example say -- 1023 3 call.wav [pack folder|-] [north|south]`

use qms_core::numwords::Dialect;
use qms_voice::{write_wav, VoicePack};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: say LABEL COUNTER OUT.wav [PACK_FOLDER] [north|south]");
        std::process::exit(2);
    }
    let counter: u16 = args[1].parse().expect("COUNTER is a number");
    let pack = match args.get(3) {
        Some(dir) if dir != "-" => VoicePack::load(std::path::Path::new(dir)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        }),
        _ => VoicePack::builtin(),
    };
    let dialect = if args.get(4).map(String::as_str) == Some("north") {
        Dialect::North
    } else {
        Dialect::South
    };
    let samples = pack
        .announcement(&args[0], counter, dialect)
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
    write_wav(std::path::Path::new(&args[2]), &samples, pack.sample_rate())
        .expect("the WAV is written");
    println!(
        "{}: {:.1} s",
        args[2],
        samples.len() as f64 / f64::from(pack.sample_rate())
    );
}
