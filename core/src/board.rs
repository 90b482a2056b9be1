//! What a hall board shows, without a toolkit: snapshots, device statuses, the
//! connection and the clock in; what to draw and which calls to speak out. The Slint
//! board and the web board both draw from it.

use std::collections::HashSet;

use crate::alerts::StaffAlerts;
use crate::protocol::{Board, BoardCall, DeviceStatus};
use time::{Duration, OffsetDateTime};

/// No word from the authority for this long (it sends a heartbeat every 10 s): the
/// board says its data may be stale.
pub const STALE_AFTER: Duration = Duration::seconds(25);
/// How long a new call flashes.
pub const HIGHLIGHT_FOR: Duration = Duration::seconds(6);

/// The band over a board that may be out of date.
pub const STALE_WORDS: &str = "MẤT KẾT NỐI — thông tin trên bảng có thể chưa cập nhật";

/// Above the number called: "XIN MỜI SỐ", or "MỜI LẠI" for a recall.
pub fn call_heading(recall: u32) -> &'static str {
    if recall > 0 {
        "MỜI LẠI"
    } else {
        "XIN MỜI SỐ"
    }
}

/// A procedure's line: "5 người chờ · khoảng 12 phút"; `minutes` is none while no
/// counter serving it is open.
pub fn waiting_words(waiting: u32, minutes: Option<u32>) -> String {
    match (waiting, minutes) {
        (0, _) => "Không có ai chờ".into(),
        (n, None) => format!("{n} người chờ"),
        (n, Some(0)) => format!("{n} người chờ · sắp đến lượt"),
        (n, Some(m)) => format!("{n} người chờ · khoảng {m} phút"),
    }
}

/// A call to speak: the ticket label and the counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The ticket's number.
    pub label: String,
    /// The counter it is called to.
    pub counter: u16,
}

/// The board's state: the newest snapshot, the calls seen, the authority's heartbeat, the
/// devices' statuses and the time.
#[derive(Default)]
pub struct BoardModel {
    /// The newest snapshot, if one came.
    pub board: Option<Board>,
    connected: bool,
    authority_online: bool,
    last_heard: Option<OffsetDateTime>,
    highlight_until: Option<OffsetDateTime>,
    /// Calls already seen, as (ticket, recall count).
    seen: HashSet<(String, u32)>,
    devices: StaffAlerts,
    now: Option<OffsetDateTime>,
}

impl BoardModel {
    /// Whether the board's connection to the broker is up.
    pub fn connected(&mut self, connected: bool) {
        self.connected = connected;
    }

    fn heard(&mut self, at: OffsetDateTime) {
        self.last_heard = Some(at);
    }

    /// A snapshot; returns the calls it adds, oldest first, to be spoken. An older
    /// snapshot than the one shown is ignored. Calls already on the first snapshot after
    /// start are shown, not spoken.
    pub fn snapshot(&mut self, board: Board, at: OffsetDateTime) -> Vec<Announcement> {
        self.heard(at);
        if self.board.as_ref().is_some_and(|b| b.seq > board.seq) {
            return Vec::new();
        }
        let first = self.board.is_none();
        let mut new: Vec<&BoardCall> = board
            .calls
            .iter()
            .filter(|c| !self.seen.contains(&(c.ticket.clone(), c.recall)))
            .collect();
        new.reverse(); // the board lists the newest first
        let announcements: Vec<Announcement> = new
            .iter()
            .map(|c| Announcement {
                label: c.label.clone(),
                counter: c.counter,
            })
            .collect();
        for c in &board.calls {
            self.seen.insert((c.ticket.clone(), c.recall));
        }
        self.board = Some(board);
        if first || announcements.is_empty() {
            return Vec::new();
        }
        self.highlight_until = Some(at + HIGHLIGHT_FOR);
        announcements
    }

    /// A device's retained status. The authority's own is its heartbeat; a printer's
    /// (`printer`) may raise a public notice.
    pub fn device_status(
        &mut self,
        device: &str,
        printer: bool,
        payload: &[u8],
        at: OffsetDateTime,
    ) {
        if printer {
            self.devices.printer_status(device, payload);
            return;
        }
        if device != "queue" {
            return;
        }
        self.authority_online = DeviceStatus::says_online(payload);
        if self.authority_online {
            self.heard(at);
        }
    }

    /// The clock moved to `now`.
    pub fn tick(&mut self, now: OffsetDateTime) {
        self.now = Some(now);
        if self.highlight_until.is_some_and(|t| now >= t) {
            self.highlight_until = None;
        }
    }

    /// Whether the newest call still flashes.
    pub fn highlight(&self) -> bool {
        self.highlight_until.is_some()
    }

    /// Whether what is shown may be out of date: no broker, the authority gone, or
    /// silent past its heartbeat.
    pub fn stale(&self) -> bool {
        let silent = match (self.last_heard, self.now) {
            (Some(heard), Some(now)) => now - heard > STALE_AFTER,
            (None, _) => true,
            _ => false,
        };
        !self.connected || !self.authority_online || silent
    }

    /// The call shown large: the newest one still served at its counter. A ticket
    /// completed or marked absent there is no longer shown as being called.
    pub fn now_calling(&self) -> Option<&BoardCall> {
        let board = self.board.as_ref()?;
        board.calls.iter().find(|call| {
            board
                .counters
                .iter()
                .find(|c| c.number == call.counter)
                .is_none_or(|c| c.label.as_deref() == Some(call.label.as_str()))
        })
    }

    /// The other recent calls, newest first.
    pub fn recent(&self) -> Vec<&BoardCall> {
        let shown = self.now_calling().map(|c| c.ticket.as_str());
        self.board.as_ref().map_or(Vec::new(), |b| {
            b.calls
                .iter()
                .filter(|c| Some(c.ticket.as_str()) != shown)
                .take(7)
                .collect()
        })
    }

    /// Printer faults in words, without device ids: the board is public.
    pub fn alerts(&self) -> Vec<String> {
        self.devices.public_notices()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::VERSION;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-11-26 08:40 +7);

    fn call(ticket: &str, counter: u16, recall: u32) -> BoardCall {
        BoardCall {
            ticket: format!("20261126-{ticket}"),
            label: ticket.into(),
            procedure: "cccd".into(),
            counter,
            at: T,
            recall,
        }
    }

    fn board(seq: u64, calls: Vec<BoardCall>) -> Board {
        Board {
            v: VERSION,
            seq,
            at: T,
            day: None,
            site_name: "x".into(),
            calls,
            counters: Vec::new(),
            waiting: Vec::new(),
        }
    }

    /// The defect: the last call stayed up, large, after it was marked absent.
    #[test]
    fn the_last_call_stays_up_after_it_was_marked_absent() {
        use crate::protocol::{BoardCounter, CounterStatus};
        let counter = |number: u16, label: Option<&str>| BoardCounter {
            number,
            name: format!("Quầy {number}"),
            status: if label.is_some() {
                CounterStatus::Serving
            } else {
                CounterStatus::Idle
            },
            label: label.map(str::to_string),
            officer: None,
        };
        let mut m = BoardModel::default();
        let mut b = board(5, vec![call("1002", 2, 0), call("1001", 1, 0)]);
        b.counters = vec![counter(1, Some("1001")), counter(2, Some("1002"))];
        m.snapshot(b.clone(), T);
        assert_eq!(m.now_calling().map(|c| c.label.as_str()), Some("1002"));
        assert_eq!(m.recent().len(), 1);
        // 1002 is marked absent at counter 2: 1001, still served, is the call shown.
        b.seq = 6;
        b.counters[1] = counter(2, None);
        m.snapshot(b.clone(), T);
        assert_eq!(m.now_calling().map(|c| c.label.as_str()), Some("1001"));
        let recent: Vec<&str> = m.recent().iter().map(|c| c.label.as_str()).collect();
        assert_eq!(recent, ["1002"], "still among the numbers called");
        // Nobody is served: no call shown large.
        b.seq = 7;
        b.counters[0] = counter(1, None);
        m.snapshot(b, T);
        assert!(m.now_calling().is_none());
        assert_eq!(m.recent().len(), 2);
    }

    fn said(labels: &[(&str, u16)]) -> Vec<Announcement> {
        labels
            .iter()
            .map(|(l, c)| Announcement {
                label: l.to_string(),
                counter: *c,
            })
            .collect()
    }

    #[test]
    fn new_calls_are_spoken_oldest_first_and_recalls_again() {
        let mut m = BoardModel::default();
        assert!(
            m.snapshot(board(5, vec![call("1001", 1, 0)]), T).is_empty(),
            "calls before start are not spoken"
        );
        let spoken = m.snapshot(
            board(
                7,
                vec![call("1003", 2, 0), call("1002", 1, 0), call("1001", 1, 0)],
            ),
            T,
        );
        assert_eq!(spoken, said(&[("1002", 1), ("1003", 2)]));
        assert!(m.highlight());
        let spoken = m.snapshot(board(8, vec![call("1002", 1, 1), call("1003", 2, 0)]), T);
        assert_eq!(spoken, said(&[("1002", 1)]), "a recall is spoken again");
        m.tick(T + HIGHLIGHT_FOR);
        assert!(!m.highlight());
    }

    #[test]
    fn a_procedures_line_says_who_waits_and_for_how_long() {
        assert_eq!(waiting_words(0, Some(5)), "Không có ai chờ");
        assert_eq!(waiting_words(3, None), "3 người chờ");
        assert_eq!(waiting_words(3, Some(0)), "3 người chờ · sắp đến lượt");
        assert_eq!(waiting_words(3, Some(12)), "3 người chờ · khoảng 12 phút");
        assert_eq!(call_heading(0), "XIN MỜI SỐ");
        assert_eq!(call_heading(2), "MỜI LẠI");
    }

    #[test]
    fn an_older_snapshot_never_replaces_a_newer_one() {
        let mut m = BoardModel::default();
        m.snapshot(board(9, vec![call("1005", 3, 0)]), T);
        assert!(m.snapshot(board(4, vec![call("1001", 1, 0)]), T).is_empty());
        assert_eq!(m.board.as_ref().unwrap().seq, 9);
    }

    #[test]
    fn the_board_is_stale_without_broker_authority_or_heartbeat() {
        let mut m = BoardModel::default();
        m.tick(T);
        assert!(m.stale(), "nothing heard yet");
        m.connected(true);
        m.device_status(
            "queue",
            false,
            br#"{"v":1,"online":true,"at":"2026-11-26T08:40:00+07:00"}"#,
            T,
        );
        assert!(!m.stale());
        m.tick(T + STALE_AFTER + Duration::seconds(1));
        assert!(m.stale(), "silent past the heartbeat");
        m.device_status(
            "queue",
            false,
            br#"{"v":1,"online":true}"#,
            T + Duration::seconds(30),
        );
        assert!(!m.stale());
        m.device_status(
            "queue",
            false,
            br#"{"v":1,"online":false}"#,
            T + Duration::seconds(31),
        );
        assert!(m.stale(), "the authority's last will");
        m.device_status(
            "queue",
            false,
            br#"{"v":1,"online":true}"#,
            T + Duration::seconds(32),
        );
        m.connected(false);
        assert!(m.stale(), "no broker");
    }
}
