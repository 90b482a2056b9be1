//! The pure domain of the queue-ticket system: no I/O and no clock; time is passed in.
//!
//! # Layout
//! - [`config`]: the site configuration (`qms.toml`) with validation that names every bad
//!   field and its line at once.
//! - [`protocol`]: protocol v1, the JSON payloads every device exchanges over MQTT.
//! - [`queue`]: the state machine. [`queue::QueueState::execute`] takes a command, the
//!   sending device and the time, and returns the events to store and publish plus the
//!   answer; state changes only by applying events, so a replay rebuilds it.
//! - [`board`]: what a hall board shows and speaks, from snapshots, statuses and the
//!   clock, for the Slint board and the web board.
//! - [`citizen`]: what the citizen's page says about their ticket.
//! - [`alerts`]: staff alerts from the devices' retained statuses, matched on the typed
//!   [`protocol::PrinterStatus`] faults.
//! - [`calendar`]: the words for time people read: dates the Vietnamese way, the clock
//!   "08:05", "mở lại lúc 13:30", how long something took.
//! - [`report`]: a day's or a period's figures per procedure, counter and day,
//!   satisfaction included.
//! - [`console`], [`rating`]: what the officer's console and the rating screen show
//!   and send, for the Slint windows and the web pages alike.
//! - [`outstanding`]: a command sent again with its id until answered, for screens.
//! - [`numwords`]: numbers read aloud by Vietnamese rules, and the call sentence.
//! - [`sample`]: a morning at the default office, made by the real queue, for
//!   screenshots and UI tests.
//!
//! # The rules of the queue
//! - **Numbering**: per procedure per business day (in the site's UTC offset), from the
//!   procedure's block ("1001-1999" or "A001-A999"); a number is never reused in a day.
//!   Issuing is refused outside opening hours, past the daily quota or past the block.
//! - **Lifecycle**: waiting → called → (recalled)* → completed | no-show; a no-show can be
//!   re-activated the same day; a called ticket can be transferred to another procedure
//!   and/or counter; tickets still waiting or called when the day changes expire.
//! - **Calling**: a counter calls among the tickets of the procedures it serves plus the
//!   tickets transferred to it. The oldest place in line wins. The place in line is set at
//!   issue and kept by transfer and re-activation, so nobody is sent to the back of the
//!   line. A waiting priority ticket is called first once `priority.every` normal tickets
//!   were called at that counter since its last priority call, or when no normal ticket
//!   is waiting; a counter's first call of the day takes a waiting priority ticket.
//!   Calling the next ticket completes the one the counter was serving.
//! - **Wait estimate**: people ahead × the mean of the procedure's last 20 service times
//!   (the configured average until there are any) ÷ the open (not paused) counters that
//!   serve it, rounded up to whole minutes; none when no such counter is open.

pub mod alerts;
pub mod board;
pub mod calendar;
pub mod citizen;
pub mod config;
pub mod console;
pub mod history;
pub mod numwords;
pub mod outstanding;
pub mod protocol;
pub mod queue;
pub mod rating;
pub mod report;
pub mod sample;
pub mod secret;

pub use config::SiteConfig;
pub use queue::{Actor, Answer, Outcome, QueueState};
