//! The `qms` binary as a library, so that tests and benchmarks drive the same code.
//!
//! # Layout
//! - [`cli`]: arguments and the roles: `demo` (the whole office on one machine), `queue`,
//!   `broker`, `config print|check`, and protocol clients (`issue`, `counter`, `tickets`,
//!   `watch`).
//! - [`device`]: a protocol client that sends a command and waits for its reply, sending
//!   the same command id again after a timeout.
//! - [`bench`]: `qms bench`.

pub mod bench;
pub mod cli;
pub mod device;

pub use cli::main;
