//! `qms web`: the office's screens as web pages, for the screens an office already has.
//! A device of its own role on the broker, reading what the hall board reads.
//!
//! # Layout
//! - [`server`]: the HTTP server (axum) and the board's state pushed to every page as
//!   Server-Sent Events from one broker connection.
//! - [`view`]: what the board page draws, in words made here from
//!   [`qms_core::board::BoardModel`], the model the Slint board draws from too.
//! - [`citizen`]: the citizen's page, its ticket found by the unguessable token.
//! - [`counters`]: the console and rating pages behind sign-in; [`desk`]: the broker
//!   connection each one acts through, as that counter's own device;
//!   [`session`]: the cookie, the CSRF token and the sign-in limit; [`https`]: the
//!   same routes over TLS with the office's certificate.
//! - [`api`]: the read-only API for the one-stop system, behind a token per integration,
//!   described by `web/openapi.json`.
//! - [`head`]: the head of the office's report page, behind a head officer's PIN.
//! - [`voice`]: the board page's calls as WAV from the voice pack the Slint board uses.
//! - [`pages`]: the HTML, CSS and JavaScript, compiled into the binary.
//! - [`city`]: the city's pages (`qms city web`): the dashboard of every office, reports
//!   across offices, the public transparency page and citizens' pages of any office.
//!
//! Pages: `/board`, the hall board for a smart TV's browser; `/counter/{n}`, the
//! officer's console for a PC; `/rating/{n}`, the rating tablet; `/t/{token}`, the
//! citizen's ticket on their phone; `/report`, the head's report. API: `/api/v1/tickets`, `/api/v1/report`, described at
//! `/api/openapi.json`.

pub mod api;
pub mod citizen;
pub mod city;
pub mod counters;
pub mod desk;
pub mod head;
pub mod https;
pub mod pages;
pub mod server;
pub mod session;
pub mod view;
pub mod voice;

pub use server::{run, serve, Listeners, WebOptions};
