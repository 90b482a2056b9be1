//! `qms web`: the office's screens as web pages, for the screens an office already has.
//! A device of its own role on the broker, reading what the hall board reads.
//!
//! # Layout
//! - [`server`]: the HTTP server (axum) and the board's state pushed to every page as
//!   Server-Sent Events from one broker connection.
//! - [`view`]: what the board page draws, in words made here from
//!   [`qms_core::board::BoardModel`], the model the Slint board draws from too.
//! - [`pages`]: the HTML, CSS and JavaScript, compiled into the binary.
//!
//! Pages: `/board`, the hall board for a smart TV's browser.

pub mod pages;
pub mod server;
pub mod view;

pub use server::{run, serve, WebOptions};
