//! `qms broker`: the embedded MQTT broker alone, or `qms broker setup` for the office's
//! Mosquitto.

use std::net::SocketAddr;
use std::path::PathBuf;

use qms_core::SiteConfig;

use crate::broker_setup::SetupOptions;
use crate::shutdown::Shutdown;

#[derive(clap::Args)]
pub struct BrokerArgs {
    /// Address to listen on [default: [broker] address]
    #[arg(long)]
    listen: Option<SocketAddr>,
    #[command(subcommand)]
    setup: Option<BrokerSetup>,
}

#[derive(clap::Subcommand)]
enum BrokerSetup {
    /// Make the office Mosquitto's files from the site configuration: a password per
    /// device, the ACL, mosquitto.conf and, with TLS, a private CA with the broker's and
    /// the devices' certificates (see broker-config/README.md)
    Setup(SetupArgs),
}

#[derive(clap::Args)]
struct SetupArgs {
    /// Folder for the files; Mosquitto reads them from there
    #[arg(long, default_value = "/etc/mosquitto/qms")]
    out: PathBuf,
    /// Name or address devices use to reach the broker on the LAN (repeatable)
    /// [default: the host of [broker] address]
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Port of the TLS listener on the LAN
    #[arg(long, default_value_t = 8883)]
    lan_port: u16,
    /// Port of the listener on 127.0.0.1, for the roles on the broker's machine
    #[arg(long, default_value_t = 1883)]
    loopback_port: u16,
    /// No TLS and no LAN listener: every device runs on the broker's machine
    #[arg(long)]
    no_tls: bool,
    /// Refuse TLS clients without a certificate from the office CA
    #[arg(long)]
    require_client_certificates: bool,
    /// The account Mosquitto runs as; it must be able to read the files
    #[arg(long, default_value = "mosquitto")]
    broker_user: String,
}

impl BrokerArgs {
    /// Whether this is `qms broker setup`, which says only what it did.
    pub fn is_setup(&self) -> bool {
        self.setup.is_some()
    }

    pub async fn run(self, config: SiteConfig, shutdown: Shutdown) -> anyhow::Result<()> {
        match self.setup {
            Some(BrokerSetup::Setup(setup)) => setup.run(&config),
            None => {
                super::start_broker(&config, self.listen)?;
                shutdown.wait().await;
                Ok(())
            }
        }
    }
}

impl SetupArgs {
    fn run(self, config: &SiteConfig) -> anyhow::Result<()> {
        let hosts = if self.hosts.is_empty() {
            lan_host(config).into_iter().collect()
        } else {
            self.hosts
        };
        let options = SetupOptions {
            out: self.out.clone(),
            hosts,
            lan_port: self.lan_port,
            loopback_port: self.loopback_port,
            tls: !self.no_tls,
            require_client_certificates: self.require_client_certificates,
            broker_user: self.broker_user,
        };
        for line in crate::broker_setup::setup(config, &options)? {
            println!("{line}");
        }
        println!(
            "next: mosquitto -c {}/mosquitto.conf; give each device's machine its \
             secrets/<device> file (and .crt, .key) and ca.crt, and set [broker] secrets and \
             ca_file in its qms.toml (broker-config/README.md)",
            self.out.display()
        );
        Ok(())
    }
}

/// The host of `[broker] address` when devices on the LAN can use it.
fn lan_host(config: &SiteConfig) -> Option<String> {
    let (host, _) = config.broker.address.rsplit_once(':')?;
    let host = host.trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    (!loopback).then(|| host.to_string())
}
