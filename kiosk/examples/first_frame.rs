//! Start-up to the first frame, headless: builds the kiosk with the sample morning and
//! renders one full 1080x1920 frame with the software renderer, then prints the time
//! since `main` began and the resident memory. Run the binary under `time` for the
//! whole process: `cargo build --release -p qms-kiosk --example first_frame &&
//! /usr/bin/time -f '%e s, %M KB' target/release/examples/first_frame`

use std::time::Instant;

use qms_core::sample;
use qms_kiosk::model::Printer;
use qms_kiosk::{Input, Kiosk};
use slint::ComponentHandle;

fn main() {
    let started = Instant::now();
    qms_headless::init(true, false);
    let s = sample::morning(None);
    let kiosk = Kiosk::new(s.config.clone(), "kiosk-1", s.now, |_| {}).expect("the kiosk builds");
    kiosk.handle(Input::Online(true));
    kiosk.handle(Input::Printer(Printer::ready()));
    kiosk.handle(Input::Board(s.board));
    kiosk
        .window()
        .window()
        .set_size(slint::PhysicalSize::new(1080, 1920));
    kiosk.window().show().expect("the window shows");
    let frame = kiosk.window().window().take_snapshot().expect("a frame");
    let since_start = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(str::trim)
        .unwrap_or("?");
    println!(
        "first {}x{} frame {:.1} ms after main began; RSS {rss}",
        frame.width(),
        frame.height(),
        since_start.as_secs_f64() * 1e3
    );
}
