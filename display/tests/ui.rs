//! The board driven by snapshots, read back through its accessible labels.

use std::cell::RefCell;
use std::rc::Rc;

use i_slint_backend_testing::ElementHandle;
use qms_core::protocol::{Board, BoardCall};
use qms_core::sample;
use qms_display::model::Announcement;
use qms_display::{Display, Input};

fn display() -> (Rc<Display>, Rc<RefCell<Vec<Announcement>>>, sample::Sample) {
    qms_headless::init(false, true);
    let s = sample::morning(None);
    let spoken = Rc::new(RefCell::new(Vec::new()));
    let log = spoken.clone();
    let display = Display::new(s.config.clone(), s.now, move |a| log.borrow_mut().push(a)).unwrap();
    (display, spoken, s)
}

fn value(display: &Display, label: &str) -> Option<String> {
    ElementHandle::find_by_accessible_label(display.window(), label)
        .next()
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
}

fn shown(display: &Display, label: &str) -> bool {
    ElementHandle::find_by_accessible_label(display.window(), label)
        .next()
        .is_some()
}

fn with_call(board: &Board, label: &str, counter: u16, seq: u64) -> Board {
    let mut next = board.clone();
    next.seq = seq;
    next.calls.insert(
        0,
        BoardCall {
            ticket: format!("20261126-{label}"),
            label: label.into(),
            service: "cu-tru".into(),
            counter,
            at: board.at,
            recall: 0,
        },
    );
    next
}

#[test]
fn a_sequence_of_snapshots_shows_and_speaks_the_newest_call() {
    let (display, spoken, s) = display();
    display.handle(Input::Snapshot(s.board.clone()), s.now);
    let first = &s.board.calls[0];
    assert_eq!(
        value(&display, "Đang mời"),
        Some(format!("{} → Quầy {}", first.label, first.counter))
    );
    assert!(
        spoken.borrow().is_empty(),
        "calls made before the board started are not spoken"
    );

    let next = with_call(&s.board, "2003", 4, s.board.seq + 1);
    display.handle(Input::Snapshot(next.clone()), s.now);
    assert_eq!(
        value(&display, "Đang mời").as_deref(),
        Some("2003 → Quầy 4")
    );
    assert_eq!(
        *spoken.borrow(),
        [Announcement {
            label: "2003".into(),
            counter: 4
        }]
    );
    // An older snapshot, delivered late, changes nothing.
    display.handle(Input::Snapshot(s.board.clone()), s.now);
    assert_eq!(
        value(&display, "Đang mời").as_deref(),
        Some("2003 → Quầy 4")
    );
    assert_eq!(spoken.borrow().len(), 1);
    // The counters show whom they serve.
    assert_eq!(
        value(&display, "Quầy 1").as_deref(),
        Some(s.board.counters[0].label.as_deref().unwrap_or(""))
    );
}

#[test]
fn the_stale_mark_follows_the_connection_and_the_authority() {
    let (display, _, s) = display();
    assert!(
        shown(&display, "Mất kết nối"),
        "stale until the authority is heard"
    );
    display.handle(Input::Connected(true), s.now);
    display.handle(
        Input::Status {
            device: "queue".into(),
            payload: br#"{"v":1,"online":true}"#.to_vec(),
        },
        s.now,
    );
    assert!(!shown(&display, "Mất kết nối"));
    display.handle(Input::Connected(false), s.now);
    assert!(shown(&display, "Mất kết nối"));
}

/// The defect: device ids ("printer-1") appeared in the alerts on the public TV.
#[test]
fn device_ids_appear_in_staff_alerts_on_a_public_tv() {
    let (display, _, s) = display();
    assert!(!shown(&display, "Cảnh báo cho cán bộ"));
    display.handle(
        Input::Status {
            device: "printer-1".into(),
            payload: br#"{"v":1,"online":true,"ready":false,"detail":"out of paper, offline"}"#
                .to_vec(),
        },
        s.now,
    );
    assert!(shown(&display, "Cảnh báo cho cán bộ"));
    assert!(shown(
        &display,
        "⚠ Máy in phiếu: hết giấy — cán bộ đang xử lý"
    ));
    assert!(!shown(&display, "⚠ printer-1: hết giấy"));
}
