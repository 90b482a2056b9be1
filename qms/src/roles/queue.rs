//! `qms queue`: the queue authority.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use qms_core::config::Hours;
use qms_core::SiteConfig;
use qms_queue::QueueOptions;
use tracing::info;

use crate::shutdown::Shutdown;
use crate::site::device_options;

#[derive(clap::Args)]
pub struct QueueArgs {
    /// Database folder [default: [store] path]
    #[arg(long)]
    data: Option<PathBuf>,
    /// Also run the embedded broker in this process
    #[arg(long)]
    with_broker: bool,
    /// Where the embedded broker listens, with --with-broker [default: [broker] address]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Ignore the configured opening hours: open all day
    #[arg(long)]
    always_open: bool,
}

impl QueueArgs {
    pub async fn run(self, mut config: SiteConfig, shutdown: Shutdown) -> anyhow::Result<()> {
        if self.always_open {
            config.hours = Hours::always();
        }
        let address = if self.with_broker {
            super::start_broker_if_embedded(&config, self.listen)?
        } else {
            config.broker.address.clone()
        };
        let broker_here = self.with_broker && config.broker.embedded;
        serve(config, &address, self.data, broker_here, shutdown).await
    }
}

/// Runs the authority until `shutdown`; `broker_here` when this process has just started
/// its broker, so no other authority can be on it.
pub async fn serve(
    config: SiteConfig,
    address: &str,
    data: Option<PathBuf>,
    broker_here: bool,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut bus = device_options(&config, "queue")?;
    bus.address = address.to_string();
    let mut options = QueueOptions::new(Arc::new(config), address);
    options.bus = bus;
    if broker_here {
        options.alone_check = Duration::ZERO;
    }
    if let Some(data) = data {
        options.store_path = data;
    }
    qms_queue::run(options, shutdown.wait()).await?;
    info!("queue authority stopped");
    Ok(())
}
