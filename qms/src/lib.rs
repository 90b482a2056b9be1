//! The `qms` binary as a library, so that tests and benchmarks drive the same code.
//!
//! # Layout
//! - [`cli`]: the arguments, one `clap::Args` per subcommand, and [`main`].
//! - [`site`]: the site configuration as the binary finds it, `qms config print|check`,
//!   the bus options of the site's devices.
//! - [`roles`]: what runs until stopped: `demo` (the whole office on one machine),
//!   `queue`, `printer`, `broker`, `web`, and the windows (`kiosk`, `display`, `counter N`,
//!   `rating`).
//! - [`shutdown`]: the one stop signal the roles share.
//! - [`clients`]: the protocol clients: `issue`, `reprint`, `counter N ACTION`, `tickets`,
//!   `report`, `watch`.
//! - [`device`]: a protocol client's connection, which sends a command and waits for its
//!   reply, sending the same command id again after a timeout.
//! - [`bench`]: `qms bench`.
//! - [`secret`]: `qms secret pin|token`, the hashes qms.toml keeps.
//! - [`broker_setup`]: `qms broker setup`, the office Mosquitto's passwords, ACL,
//!   configuration and certificates.

pub mod bench;
pub mod broker_setup;
pub mod cli;
pub mod clients;
pub mod device;
pub mod roles;
pub mod secret;
pub mod shutdown;
pub mod site;

pub use cli::main;
