//! The board driven by snapshots, read back through its accessible labels.

use std::cell::RefCell;
use std::rc::Rc;

use qms_core::board::Announcement;
use qms_core::protocol::{Board, BoardCall};
use qms_core::sample;
use qms_display::{Display, Input};
use qms_headless::ElementHandle;
use slint::ComponentHandle;

fn display() -> (Rc<Display>, Rc<RefCell<Vec<Announcement>>>, sample::Sample) {
    qms_headless::init(false, true);
    let s = sample::morning(None);
    let spoken = Rc::new(RefCell::new(Vec::new()));
    let log = spoken.clone();
    let display = Display::new(s.config.clone(), s.now, move |a| log.borrow_mut().push(a)).unwrap();
    (display, spoken, s)
}

fn value(display: &Display, label: &str) -> Option<String> {
    qms_headless::value(display.window(), label)
}

fn shown(display: &Display, label: &str) -> bool {
    !qms_headless::find(display.window(), label).is_empty()
}

fn with_call(board: &Board, label: &str, counter: u16, seq: u64) -> Board {
    let mut next = board.clone();
    next.seq = seq;
    next.calls.insert(
        0,
        BoardCall {
            ticket: format!("20261126-{label}"),
            label: label.into(),
            procedure: "cu-tru".into(),
            counter,
            at: board.at,
            recall: 0,
        },
    );
    // The counter serves it now, as the authority's board says.
    if let Some(c) = next.counters.iter_mut().find(|c| c.number == counter) {
        c.label = Some(label.into());
        c.status = qms_core::protocol::CounterStatus::Serving;
    }
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
            payload: br#"{"v":1,"online":true,"ready":false,"paper":"out","faults":["paper_out"],"detail":"out of paper, offline"}"#
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

/// The board at 1920x1080 as the software renderer draws it, with `board` shown and the
/// newest call flashing.
fn drawn(board: Board) -> (Rc<Display>, slint::SharedPixelBuffer<slint::Rgba8Pixel>) {
    qms_headless::init(true, true);
    let s = sample::morning(None);
    let display = Display::new(s.config.clone(), s.now, |_| {}).unwrap();
    let window = display.window().window();
    window.set_size(slint::PhysicalSize::new(1920, 1080));
    window.show().unwrap();
    display.tick(s.now);
    display.handle(Input::Connected(true), s.now);
    let alive = br#"{"v":1,"online":true}"#.to_vec();
    let queue = Input::Status {
        device: "queue".into(),
        payload: alive,
    };
    display.handle(queue, s.now);
    display.handle(Input::Snapshot(s.board.clone()), s.now);
    display.handle(Input::Snapshot(board), s.now);
    // The flash has faded in.
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(500));
    let shot = window.take_snapshot().unwrap();
    (display, shot)
}

/// The element labelled `label` with the largest area: (x, y, width, height).
fn area(display: &Display, label: &str) -> (usize, usize, usize, usize) {
    ElementHandle::find_by_accessible_label(display.window(), label)
        .map(|e| {
            let (at, size) = (e.absolute_position(), e.size());
            (
                at.x as usize,
                at.y as usize,
                size.width as usize,
                size.height as usize,
            )
        })
        .max_by_key(|(_, _, w, h)| w * h)
        .unwrap_or_else(|| panic!("nothing labelled {label}"))
}

fn luminance(p: slint::Rgba8Pixel) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(p.r) + 0.7152 * channel(p.g) + 0.0722 * channel(p.b)
}

/// The defect: "Tạm dừng" was cut to "Tạm dừn" on a tile of five counters at 1920x1080.
#[test]
fn tam_dung_is_cut_on_a_counter_tile_with_five_counters() {
    let s = sample::morning(None);
    let mut board = s.board.clone();
    board.seq += 1;
    let five = board.counters.iter_mut().find(|c| c.number == 5).unwrap();
    five.status = qms_core::protocol::CounterStatus::Paused;
    five.label = None;
    let (display, shot) = drawn(board);
    let (x, y, width, height) = area(&display, "Quầy 5");
    let pixels = shot.as_slice();
    // The light pixels of the lower half of the tile: the words "Tạm dừng".
    let mut columns = Vec::new();
    for row in y + height / 2..y + height {
        for column in x..x + width {
            let p = pixels[row * shot.width() as usize + column];
            if p.r > 150 && p.g > 150 && p.b > 150 {
                columns.push(column);
            }
        }
    }
    let (left, right) = (columns.iter().min().unwrap(), columns.iter().max().unwrap());
    // The text is clipped at the tile's 10 px padding: drawn whole, it stays clear of it.
    assert!(
        *left > x + 12 && *right + 12 < x + width,
        "the words span {left}..{right} in a tile at {x}..{}",
        x + width
    );
}

/// The defect: "XIN MỜI SỐ" on the red flash was 2.8:1; text needs at least 4.5:1.
#[test]
fn the_call_on_the_red_flash_has_the_contrast_text_needs() {
    let s = sample::morning(None);
    let next = with_call(&s.board, "2003", 4, s.board.seq + 1);
    let (display, shot) = drawn(next);
    let (x, y, width, height) = area(&display, "Đang mời");
    let pixels = shot.as_slice();
    let at = |column: usize, row: usize| pixels[row * shot.width() as usize + column];
    // The panel's own colour, beside its rounded corner.
    let background = at(x + width / 2, y + 8);
    let heading_rows = y + height / 8..y + height / 3;
    let brightest = heading_rows
        .flat_map(|row| (x..x + width).map(move |column| (column, row)))
        .map(|(column, row)| luminance(at(column, row)))
        .fold(0.0, f64::max);
    let contrast = (brightest + 0.05) / (luminance(background) + 0.05);
    assert!(
        contrast >= 4.5,
        "{contrast:.1}:1 on {background:?}, brightest {brightest}"
    );
}

/// The defect: "~5 ph" is hard to read for the elderly.
#[test]
fn the_waiting_list_says_about_how_many_minutes_in_words() {
    let (display, _, s) = display();
    display.handle(Input::Snapshot(s.board.clone()), s.now);
    let cccd = s
        .board
        .waiting
        .iter()
        .find(|w| w.procedure == "cccd")
        .unwrap();
    let said = value(&display, &cccd.name_vi).unwrap();
    assert_eq!(
        said,
        format!(
            "{} người chờ · khoảng {} phút",
            cccd.waiting,
            cccd.wait_minutes.unwrap()
        )
    );
}

/// The defect: the board's clock stopped repainting under X11 with the software renderer
/// while the board handed the window new list models on every tick (five a second). The
/// lists stay the same models across ticks.
#[test]
fn the_boards_clock_stops_repainting() {
    let (display, _, s) = display();
    display.handle(Input::Snapshot(s.board.clone()), s.now);
    let board = display.window().global::<qms_display::BoardApi>();
    let lists = |b: &qms_display::BoardApi| {
        (
            b.get_waiting(),
            b.get_counters(),
            b.get_recent(),
            b.get_alerts(),
        )
    };
    let before = lists(&board);
    for second in 1..=3 {
        display.tick(s.now + time::Duration::seconds(second));
    }
    assert!(
        before == lists(&board),
        "a tick handed the window new lists"
    );
    display.tick(s.now + time::Duration::minutes(1));
    assert_eq!(board.get_clock(), "08:41");
}
