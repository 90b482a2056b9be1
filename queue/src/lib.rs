//! The queue authority: the only writer of queue state.
//!
//! # Layout
//! - [`service`]: [`run`] serves commands from every device over MQTT, checks each
//!   device's role, keeps replies for idempotency, and publishes replies, events, print
//!   jobs and the retained board snapshot from an outbox, only after the write is durable.
//! - [`archive`]: closed business days as compact files, which the reports read.
//! - [`follow`]: the unguessable tokens of the citizens' pages, and `follow` answered.
//! - [`lookup`]: reports and dossier searches, answered from the archive on a thread of
//!   their own.
//! - [`outbox`]: the publications waiting for the broker's acknowledgement, as a state
//!   machine without I/O: what may go out now, rewind on reconnect, what is set aside.
//! - [`store`]: sled behind a small interface; the one place that knows the keys and
//!   makes writes survive a power cut.
//!
//! The queue logic itself is `qms_core::QueueState`; this crate does the I/O around it.

pub mod archive;
pub mod follow;
pub mod lookup;
pub mod outbox;
pub mod service;
pub mod store;

pub use service::{
    run, run_on_thread, Clock, ManualClock, QueueError, QueueOptions, SystemClock, ALONE_CHECK,
};
