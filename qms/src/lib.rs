//! The `qms` binary as a library, so that tests and benchmarks drive the same code.
//!
//! # Layout
//! - [`cli`]: arguments and the roles: `demo` (the whole office on one machine), `queue`,
//!   `broker`, `config print|check`, the windows (`kiosk`, `display`, `counter`, `rating`)
//!   and protocol clients (`issue`, `counter N ACTION`, `tickets`, `report`, `watch`).
//! - [`device`]: a protocol client that sends a command and waits for its reply, sending
//!   the same command id again after a timeout.
//! - [`bench`]: `qms bench`.
//! - [`broker_setup`]: `qms broker setup`, the office Mosquitto's passwords, ACL,
//!   configuration and certificates.
//! - [`report`]: `qms report`, a day's or a period's figures.

pub mod bench;
pub mod broker_setup;
pub mod cli;
pub mod device;
pub mod report;

pub use cli::main;
