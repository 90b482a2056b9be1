//! Thermal ticket printing over ESC/POS.
//!
//! # Layout
//! - [`escpos`]: the commands, as bytes.
//! - [`raster`]: Vietnamese lines drawn with the bundled DejaVu Sans into 1-bit images
//!   (`GS v 0`), because printer code pages for Vietnamese are unreliable.
//! - [`tcvn3`]: Vietnamese in the printer's own font, for Epsons with TCVN-3 code pages
//!   (the text mode a printer can be given in `qms.toml`).
//! - [`ticket`]: the ticket layout for 58 mm and 80 mm paper.
//! - [`status`]: the `DLE EOT` status bytes.
//! - [`serial`]: the printer on a serial port.
//! - [`spool`]: what became of each job, so that no ticket prints twice on its own.
//! - [`jobs`]: the driver's job queue without I/O: to print, done, not started, expired.
//! - [`service`]: `qms printer`: jobs from MQTT, acknowledged once printed, status out.
//! - [`virtual_printer`]: a printer on a pseudo-terminal that decodes what it gets,
//!   answers status like an Epson, and draws tickets to PNG.

pub mod escpos;
pub mod jobs;
pub mod raster;
pub mod serial;
pub mod service;
pub mod spool;
pub mod status;
pub mod tcvn3;
pub mod ticket;
pub mod virtual_printer;
