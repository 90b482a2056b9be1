//! The waiting-room board: the number called and its counter, large and flashing, the
//! recent calls, the counters, the people waiting, a scrolling notice, staff alerts, and
//! the call spoken in Vietnamese. It never goes stale silently.
//!
//! # Layout
//! - `ui/board.slint`: the screen; the `BoardApi` global is the only contract with Rust.
//! - [`qms_core::board`]: what to show and to speak, from snapshots, statuses and the
//!   clock (shared with the web board).
//! - [`Display`]: the window bound to the model; new calls go to a speaker.
//! - [`start`]: the board as a device: MQTT on its own thread, the window on this one,
//!   the voice on a thread of its own.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use qms_bus::{BusEvent, BusOptions, Topics};
use qms_core::calendar::{day_month_year, hour_minute, weekday_vi};
use qms_core::config::SiteConfig;
use qms_core::protocol::{Board as Snapshot, CounterStatus};
use qms_window::{connect, parse, BusWindow, ShownList};
use slint::ComponentHandle;
use time::OffsetDateTime;
use tracing::{info, warn};

use qms_core::board::{call_heading, waiting_words, Announcement, BoardModel, STALE_WORDS};

slint::include_modules!();

/// What reaches the board from the bus.
#[derive(Debug)]
pub enum Input {
    Connected(bool),
    Snapshot(Snapshot),
    Status { device: String, payload: Vec<u8> },
}

pub struct Display {
    window: BoardWindow,
    config: Arc<SiteConfig>,
    model: RefCell<BoardModel>,
    speak: Box<dyn Fn(Announcement)>,
    shown: Shown,
    timer: slint::Timer,
}

/// The lists on the board, set again only when they change.
#[derive(Default)]
struct Shown {
    alerts: ShownList<slint::SharedString>,
    recent: ShownList<Call>,
    counters: ShownList<CounterItem>,
    waiting: ShownList<WaitingItem>,
}

impl Display {
    /// Builds the window; `speak` gets each new call, oldest first.
    pub fn new(
        config: Arc<SiteConfig>,
        now: OffsetDateTime,
        speak: impl Fn(Announcement) + 'static,
    ) -> Result<Rc<Display>, slint::PlatformError> {
        let shown = Shown::default();
        let window = BoardWindow::new()?;
        let board = window.global::<BoardApi>();
        board.set_stale_words(STALE_WORDS.into());
        board.set_alerts(shown.alerts.model());
        board.set_recent(shown.recent.model());
        board.set_counters(shown.counters.model());
        board.set_waiting(shown.waiting.model());
        let display = Rc::new(Display {
            window,
            config,
            model: RefCell::new(BoardModel::default()),
            speak: Box::new(speak),
            shown,
            timer: slint::Timer::default(),
        });
        display.tick(now);
        Ok(display)
    }

    pub fn window(&self) -> &BoardWindow {
        &self.window
    }

    pub fn handle(&self, input: Input, now: OffsetDateTime) {
        let spoken = {
            let mut model = self.model.borrow_mut();
            match input {
                Input::Connected(connected) => {
                    model.connected(connected);
                    Vec::new()
                }
                Input::Snapshot(snapshot) => model.snapshot(snapshot, now),
                Input::Status { device, payload } => {
                    let printer = self
                        .config
                        .device(&device)
                        .is_some_and(|d| d.role == qms_core::config::Role::Printer);
                    model.device_status(&device, printer, &payload, now);
                    Vec::new()
                }
            }
        };
        for call in spoken {
            (self.speak)(call);
        }
        self.render();
    }

    pub fn tick(&self, now: OffsetDateTime) {
        self.model.borrow_mut().tick(now);
        let local = now.to_offset(self.config.site.utc_offset);
        let board = self.window.global::<BoardApi>();
        // The called number fills the space its orientation leaves (a property set from
        // here: sizing it from the layout would make the layout depend on itself).
        let size = self
            .window
            .window()
            .size()
            .to_logical(self.window.window().scale_factor());
        let portrait = size.height > size.width;
        let share = if portrait { 0.26 } else { 0.17 };
        board.set_number_size((size.width * share).min(size.height * 0.22).max(80.0));
        board.set_portrait(portrait);
        // 32 px at 1080 lines, 36 px in portrait, 22 px on a 720-line television.
        board.set_line_text((size.height * 0.03).clamp(20.0, 36.0));
        board.set_clock(hour_minute(local, self.config.site.utc_offset).into());
        board.set_date(
            format!(
                "{}, {}",
                weekday_vi(local.weekday()),
                day_month_year(local.date())
            )
            .into(),
        );
        self.render();
    }

    fn render(&self) {
        let model = self.model.borrow();
        let board = self.window.global::<BoardApi>();
        board.set_office_name(self.config.site.name.clone().into());
        board.set_notice(self.config.display.notice.clone().into());
        board.set_stale(model.stale());
        board.set_highlight(model.highlight());
        let alerts: Vec<slint::SharedString> = model.alerts().into_iter().map(Into::into).collect();
        self.shown.alerts.show(alerts);
        let Some(snapshot) = &model.board else { return };
        let call = |c: &qms_core::protocol::BoardCall| Call {
            label: c.label.clone().into(),
            counter: i32::from(c.counter),
            heading: call_heading(c.recall).into(),
        };
        board.set_now_calling(model.now_calling().map(call).unwrap_or_default());
        let recent: Vec<Call> = model.recent().into_iter().map(call).collect();
        self.shown.recent.show(recent);
        let counters: Vec<CounterItem> = snapshot
            .counters
            .iter()
            .map(|c| CounterItem {
                number: i32::from(c.number),
                name: c.name.clone().into(),
                label: c.label.clone().unwrap_or_default().into(),
                status: match c.status {
                    CounterStatus::Serving => CounterState::Serving,
                    CounterStatus::Idle => CounterState::Idle,
                    CounterStatus::Paused => CounterState::Paused,
                    CounterStatus::Closed => CounterState::Closed,
                },
            })
            .collect();
        self.shown.counters.show(counters);
        let waiting: Vec<WaitingItem> = snapshot
            .waiting
            .iter()
            .filter(|w| w.enabled)
            .map(|w| WaitingItem {
                name: w.name_vi.clone().into(),
                line: waiting_words(w.waiting, w.wait_minutes).into(),
            })
            .collect();
        self.shown.waiting.show(waiting);
    }
}

/// Opens the board window and connects it; the caller runs the event loop.
pub fn start(
    config: Arc<SiteConfig>,
    mut options: BusOptions,
) -> Result<Rc<Display>, slint::PlatformError> {
    let topics = Topics::new(&config.site.id);
    options.subscriptions.push(topics.board());
    options.subscriptions.push(topics.all_statuses());
    let board_topic = topics.board();
    let map = move |event| match event {
        BusEvent::Connected => Some(Input::Connected(true)),
        BusEvent::Disconnected { .. } => Some(Input::Connected(false)),
        BusEvent::Message { topic, payload } if topic == board_topic => {
            parse(&topic, &payload).map(Input::Snapshot)
        }
        BusEvent::Message { topic, payload } => {
            topics
                .device_of(&topic, "status")
                .map(|device| Input::Status {
                    device: device.to_string(),
                    payload,
                })
        }
        _ => None,
    };

    let voice = qms_voice::VoicePack::builtin();
    let announcer = qms_voice::Announcer::start(config.display.player.clone(), voice.sample_rate())
        .map_err(|e| slint::PlatformError::Other(format!("the announcer cannot start: {e}")))?;
    let dialect = config.site.dialect;
    // The board sends no command.
    let display = connect(
        "display-mqtt",
        options,
        Duration::from_millis(200),
        map,
        |_| {
            Display::new(config, OffsetDateTime::now_utc(), move |call| {
                match voice.announcement(&call.label, call.counter, dialect) {
                    Ok(samples) => announcer.say(samples),
                    Err(e) => warn!(cause = %e, "call not spoken"),
                }
            })
        },
    )?;
    info!("display started");
    Ok(display)
}

impl BusWindow for Display {
    type Input = Input;
    fn handle(&self, input: Input) {
        Display::handle(self, input, OffsetDateTime::now_utc())
    }
    fn tick(&self, now: OffsetDateTime) {
        Display::tick(self, now)
    }
    fn timer(&self) -> &slint::Timer {
        &self.timer
    }
}

/// Runs the board as device `options.device`, full screen, until its window is closed.
pub fn run(config: Arc<SiteConfig>, options: BusOptions) -> Result<(), slint::PlatformError> {
    let display = start(config, options)?;
    display.window().window().set_fullscreen(true);
    display.window().run()
}
