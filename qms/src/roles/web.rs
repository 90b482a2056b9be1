//! `qms web`: the office's screens as web pages: the hall board, the counters' consoles
//! and rating tablets, over HTTP and, with `[web] tls_listen`, HTTPS.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use qms_core::SiteConfig;
use qms_web::WebOptions;

use crate::shutdown::Shutdown;
use crate::site::device_options;

#[derive(clap::Args)]
pub struct WebArgs {
    /// Device to act as: a device with role = "web" in the site configuration
    #[arg(long, default_value = "web")]
    device: String,
    /// Address to listen on [default: [web] listen]
    #[arg(long)]
    listen: Option<SocketAddr>,
}

impl WebArgs {
    pub async fn run(self, config: SiteConfig, shutdown: Shutdown) -> anyhow::Result<()> {
        serve(config, &self.device, self.listen, shutdown).await
    }
}

/// Serves the pages as `device` until `shutdown`, on `listen` or `[web] listen`.
pub async fn serve(
    config: SiteConfig,
    device: &str,
    listen: Option<SocketAddr>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let listen = match listen {
        Some(address) => address,
        None => config.web.listen.parse().with_context(|| {
            format!(
                "[web] listen \"{}\" is not an address to listen on",
                config.web.listen
            )
        })?,
    };
    let options = WebOptions {
        bus: device_options(&config, device)?,
        config: Arc::new(config),
        listen,
    };
    qms_web::run(options, shutdown.wait()).await?;
    Ok(())
}
