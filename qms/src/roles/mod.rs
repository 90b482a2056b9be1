//! The long-running roles: the authority, the printer driver, the broker, the web pages,
//! the windows and the demo that runs them all. The roles without a window stop on the process's
//! one [`Shutdown`](crate::shutdown::Shutdown).

use std::net::SocketAddr;

use anyhow::Context;
use qms_core::SiteConfig;
use tracing::info;

pub mod broker;
pub mod city;
pub mod demo;
pub mod printer;
pub mod queue;
pub mod web;
pub mod windows;

/// Runs a future on a runtime of one thread: the authority's work is sequential, and a
/// command handed between threads costs more in wake-ups than it does to execute.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
        .block_on(future)
}

/// `[broker] address` as an address to listen on.
fn broker_listen(config: &SiteConfig) -> anyhow::Result<SocketAddr> {
    config.broker.address.parse().with_context(|| {
        format!(
            "[broker] address \"{}\" is not an IP address and port to listen on",
            config.broker.address
        )
    })
}

/// Starts the embedded broker at `listen`, else at `[broker] address`; returns its address.
fn start_broker(config: &SiteConfig, listen: Option<SocketAddr>) -> anyhow::Result<String> {
    let addr = match listen {
        Some(a) => a,
        None => broker_listen(config)?,
    };
    qms_bus::start_embedded(addr)?;
    info!(%addr, "embedded broker listening");
    Ok(addr.to_string())
}

/// Starts the embedded broker when the configuration asks for it; returns where to connect.
fn start_broker_if_embedded(
    config: &SiteConfig,
    listen: Option<SocketAddr>,
) -> anyhow::Result<String> {
    if config.broker.embedded {
        start_broker(config, listen)
    } else {
        Ok(config.broker.address.clone())
    }
}
