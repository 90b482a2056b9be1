//! Renders the board headless (software renderer): normal, a new call flashing, stale,
//! and with a staff alert, at 1920x1080, 1280x720 and 1080x1920:
//! `cargo run --release -p qms-display --example board_screenshots -- docs/display`

use std::path::PathBuf;

use qms_core::protocol::BoardCall;
use qms_core::sample;
use qms_display::{Display, Input};
use slint::ComponentHandle;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/display".into()),
    );
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    qms_headless::init(true, true);
    for (width, height) in [(1920, 1080), (1280, 720), (1080, 1920)] {
        let s = sample::morning(None);
        let display = Display::new(s.config.clone(), s.now, |_| {}).unwrap();
        display
            .window()
            .window()
            .set_size(slint::PhysicalSize::new(width, height));
        display.tick(s.now);
        let shoot = |name: &str| {
            // Let the flash and the scrolling notice move on a little.
            i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(8));
            let path = out.join(format!("{name}-{width}x{height}.png"));
            qms_headless::save_png(display.window().window(), width, height, &path)
                .expect("the screenshot is written");
        };
        display.handle(Input::Connected(true), s.now);
        display.handle(queue_alive(), s.now);
        display.handle(Input::Snapshot(s.board.clone()), s.now);
        shoot("board");
        let mut next = s.board.clone();
        next.seq += 1;
        next.calls.insert(
            0,
            BoardCall {
                ticket: "20261126-2003".into(),
                label: "2003".into(),
                procedure: "cu-tru".into(),
                counter: 4,
                at: s.now,
                recall: 0,
            },
        );
        let counter = next
            .counters
            .iter_mut()
            .find(|c| c.number == 4)
            .expect("counter 4");
        counter.label = Some("2003".into());
        counter.status = qms_core::protocol::CounterStatus::Serving;
        display.handle(Input::Snapshot(next), s.now);
        shoot("new-call");
        display.handle(
            Input::Status {
                device: "printer-1".into(),
                payload: br#"{"v":1,"online":true,"ready":false,"paper":"out","faults":["paper_out"],"detail":"out of paper, offline"}"#.to_vec(),
            },
            s.now,
        );
        display.tick(s.now + time::Duration::seconds(10));
        shoot("staff-alert");
        display.handle(Input::Connected(false), s.now);
        shoot("stale");
    }
    println!("screenshots written to {}", out.display());
}

fn queue_alive() -> Input {
    Input::Status {
        device: "queue".into(),
        payload: br#"{"v":1,"online":true}"#.to_vec(),
    }
}
