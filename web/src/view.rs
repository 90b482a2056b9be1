//! What the board page draws, in words: the server decides every word and number, the
//! page only places them. Made from the same [`BoardModel`] as the Slint board.

use qms_core::board::{call_heading, waiting_words, BoardModel, STALE_WORDS};
use qms_core::calendar::{day_month_year, hour_minute, weekday_vi};
use qms_core::protocol::{BoardCall, CounterStatus};
use qms_core::SiteConfig;
use serde::Serialize;
use time::OffsetDateTime;

use crate::voice::VoiceCall;

/// One state of the board page, sent whole on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardView {
    /// The snapshot's `seq`: the page never shows a lower one after a higher.
    pub seq: u64,
    /// The office's name.
    pub office: String,
    /// "08:05".
    pub clock: String,
    /// "Thứ Năm, 26/11/2026".
    pub date: String,
    /// The call shown large, if a citizen is being called.
    pub calling: Option<CallView>,
    /// The call is new: it flashes.
    pub highlight: bool,
    /// The other recent calls, newest first.
    pub recent: Vec<CallView>,
    /// Every counter.
    pub counters: Vec<CounterView>,
    /// The line for each procedure that gives tickets.
    pub waiting: Vec<WaitingView>,
    /// The line scrolling along the bottom.
    pub notice: String,
    /// Printer faults in words, without device ids (the board is public).
    pub notices: Vec<String>,
    /// The red band, when what is shown may be out of date; empty otherwise.
    pub stale: String,
    /// The last calls, for the page to speak those it has not.
    pub voice: Vec<VoiceCall>,
}

/// A call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    /// The number: "1023".
    pub label: String,
    /// "XIN MỜI SỐ", or "MỜI LẠI" for a recall.
    pub heading: String,
    /// "Quầy 3".
    pub counter: String,
}

/// A counter's tile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterView {
    /// "Quầy 3".
    pub name: String,
    /// The number served, "—", or "Tạm dừng".
    pub shows: String,
    /// "serving", "idle" or "paused", for the tile's colour.
    pub state: &'static str,
}

/// A procedure's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingView {
    /// The procedure's name.
    pub name: String,
    /// "5 người chờ · khoảng 12 phút".
    pub line: String,
}

impl BoardView {
    /// What the page shows at `now`.
    pub fn of(model: &BoardModel, config: &SiteConfig, now: OffsetDateTime) -> BoardView {
        let offset = config.site.utc_offset;
        let local = now.to_offset(offset);
        let call = |c: &BoardCall| CallView {
            label: c.label.clone(),
            heading: call_heading(c.recall).into(),
            counter: config.counter_name(c.counter),
        };
        let board = model.board.as_ref();
        BoardView {
            seq: board.map_or(0, |b| b.seq),
            office: config.site.name.clone(),
            clock: hour_minute(now, offset),
            date: format!(
                "{}, {}",
                weekday_vi(local.weekday()),
                day_month_year(local.date())
            ),
            calling: model.now_calling().map(call),
            highlight: model.highlight(),
            recent: model.recent().into_iter().map(call).collect(),
            counters: board.map_or(Vec::new(), |b| {
                b.counters
                    .iter()
                    .map(|c| CounterView {
                        name: c.name.clone(),
                        shows: match (c.status, &c.label) {
                            (CounterStatus::Paused, _) => "Tạm dừng".into(),
                            (CounterStatus::Closed, _) => "Đóng".into(),
                            (_, Some(label)) => label.clone(),
                            (_, None) => "—".into(),
                        },
                        state: match c.status {
                            CounterStatus::Serving => "serving",
                            CounterStatus::Idle => "idle",
                            CounterStatus::Paused => "paused",
                            CounterStatus::Closed => "closed",
                        },
                    })
                    .collect()
            }),
            waiting: board.map_or(Vec::new(), |b| {
                b.waiting
                    .iter()
                    .filter(|w| w.enabled)
                    .map(|w| WaitingView {
                        name: w.name_vi.clone(),
                        line: waiting_words(w.waiting, w.wait_minutes),
                    })
                    .collect()
            }),
            notice: config.display.notice.clone(),
            notices: model.alerts(),
            stale: if model.stale() {
                STALE_WORDS.into()
            } else {
                String::new()
            },
            voice: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::sample;

    fn heard(model: &mut BoardModel, at: OffsetDateTime) {
        model.connected(true);
        model.device_status("queue", false, br#"{"v":1,"online":true}"#, at);
        model.tick(at);
    }

    #[test]
    fn the_page_says_what_the_slint_board_says() {
        let s = sample::morning(None);
        let mut model = BoardModel::default();
        model.snapshot(s.board.clone(), s.now);
        heard(&mut model, s.now);
        let view = BoardView::of(&model, &s.config, s.now);
        assert_eq!(view.seq, s.board.seq);
        assert_eq!(view.office, "Công an phường Sài Gòn");
        assert_eq!(view.clock, "08:40");
        assert_eq!(view.date, "Thứ Năm, 26/11/2026");
        let calling = view.calling.expect("a citizen is being called");
        assert_eq!(calling.heading, "XIN MỜI SỐ");
        assert!(calling.counter.starts_with("Quầy "), "{calling:?}");
        assert_eq!(view.stale, "");
        assert!(view
            .waiting
            .iter()
            .any(|w| w.line.contains("người chờ · khoảng")));
        assert!(view.counters.iter().any(|c| c.state == "serving"));
    }

    #[test]
    fn a_recall_says_moi_lai_and_a_silent_authority_shows_the_red_band() {
        let s = sample::morning(None);
        let mut board = s.board.clone();
        board.calls[0].recall = 1;
        let mut model = BoardModel::default();
        model.snapshot(board, s.now);
        heard(&mut model, s.now);
        let view = BoardView::of(&model, &s.config, s.now);
        assert_eq!(view.calling.unwrap().heading, "MỜI LẠI");
        model.tick(s.now + time::Duration::minutes(1));
        let later = BoardView::of(&model, &s.config, s.now + time::Duration::minutes(1));
        assert_eq!(later.stale, STALE_WORDS);
    }
}
