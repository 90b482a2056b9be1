//! `qms city`: the city tier. `qms city store` keeps every office's events from the city's
//! NATS JetStream cluster in PostgreSQL (run one or several); `qms city gaps` says which
//! offices' events have not all arrived; `qms city web` serves the city's pages.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use qms_city::CityOptions;
use time::UtcOffset;

use crate::shutdown::Shutdown;

#[derive(clap::Args)]
pub struct CityArgs {
    #[command(subcommand)]
    command: CityCommand,
    #[command(flatten)]
    engines: Engines,
}

#[derive(clap::Subcommand)]
enum CityCommand {
    /// Store every office's events in PostgreSQL, exactly once, until stopped
    Store,
    /// List each office's events that have not reached the city
    Gaps,
    /// Serve the city's pages: the dashboard, reports, the transparency page, citizens' pages
    Web {
        /// Address to listen on
        #[arg(long, default_value = "0.0.0.0:8090")]
        listen: SocketAddr,
    },
}

/// Where the cluster and the database are.
#[derive(clap::Args)]
struct Engines {
    /// The cluster's nodes (any one answers): nats://10.0.0.1:4222,nats://10.0.0.2:4222
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "nats://127.0.0.1:4222"
    )]
    nats: Vec<String>,
    /// The city's user on the cluster
    #[arg(long, global = true, default_value = "city")]
    user: String,
    /// Its password (better in the environment than on the command line)
    #[arg(
        long,
        global = true,
        env = "QMS_CITY_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    password: String,
    /// The database, as "host=… user=… dbname=…" or a postgresql:// URL
    #[arg(
        long,
        global = true,
        env = "QMS_CITY_POSTGRES",
        default_value = "host=127.0.0.1 user=postgres dbname=qms_city"
    )]
    postgres: String,
    /// On how many nodes the streams are kept (the nodes of a small cluster, at most 5)
    #[arg(long, global = true, default_value_t = 3)]
    replicas: usize,
    /// The city's time zone, for the business day of an event
    #[arg(long, global = true, default_value = "+07:00", value_parser = parse_offset)]
    utc_offset: UtcOffset,
}

fn parse_offset(text: &str) -> Result<UtcOffset, String> {
    UtcOffset::parse(
        text,
        time::macros::format_description!("[offset_hour]:[offset_minute]"),
    )
    .map_err(|_| format!("\"{text}\" is not a time zone like +07:00"))
}

impl Engines {
    fn options(self) -> CityOptions {
        CityOptions {
            nats: self.nats,
            user: self.user,
            password: self.password,
            postgres: self.postgres,
            replicas: self.replicas,
            utc_offset: self.utc_offset,
            ack_wait: Duration::from_secs(10),
        }
    }
}

impl CityArgs {
    /// Whether it only prints what it found.
    pub fn quiet(&self) -> bool {
        matches!(self.command, CityCommand::Gaps)
    }

    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let options = self.engines.options();
        match self.command {
            CityCommand::Store => qms_city::run(options, shutdown.wait())
                .await
                .context("qms city store"),
            CityCommand::Gaps => {
                let db = tokio::time::timeout(
                    Duration::from_secs(10),
                    qms_city::connect_postgres(&options.postgres),
                )
                .await
                .context("PostgreSQL did not answer within 10 s (the warnings above say why)")?;
                if qms_city::schema::version(&db).await? == 0 {
                    anyhow::bail!(
                        "this database holds no city events yet: `qms city store` makes its \
                         tables when it first starts"
                    );
                }
                let gaps = qms_city::store::gaps(&db).await?;
                if gaps.is_empty() {
                    println!(
                        "Mọi sự kiện của các đơn vị đã về đủ. Every office's events are all in."
                    );
                }
                for gap in gaps {
                    println!("{}\t{}–{}", gap.site, gap.first, gap.last);
                }
                Ok(())
            }
            CityCommand::Web { listen } => {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("qms city web cannot listen on {listen}"))?;
                qms_web::city::serve(listener, options, shutdown.wait()).await?;
                Ok(())
            }
        }
    }
}
