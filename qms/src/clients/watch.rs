//! `qms watch`: the board and the events as they happen, in words or as raw JSON.

use std::time::Duration;

use anyhow::bail;
use qms_core::calendar::{duration_words, hour_minute};
use qms_core::protocol::{Board, Event, EventKind};
use qms_core::SiteConfig;

use super::{emit, CLIENT_TIMEOUT};
use crate::device::{DeviceClient, Message};
use crate::shutdown::Shutdown;
use crate::site::client_options;

#[derive(clap::Args)]
pub struct WatchArgs {
    /// Print the raw JSON messages
    #[arg(long)]
    json: bool,
}

impl WatchArgs {
    /// Prints until `shutdown`.
    pub async fn run(self, config: &SiteConfig, shutdown: Shutdown) -> anyhow::Result<()> {
        let json = self.json;
        let topics = qms_bus::Topics::new(&config.site.id);
        // An account of its own, where the site has one: a watch beside `qms issue` is fine.
        let device = if config.device("watch").is_some() {
            "watch"
        } else {
            "admin"
        };
        let mut options = client_options(config, device)?;
        options.device = format!("watch-{}", std::process::id());
        let mut client =
            DeviceClient::connect(options, &[topics.board(), topics.events()], CLIENT_TIMEOUT)
                .await?;
        eprintln!("watching {} (Ctrl-C to stop)", config.site.name);
        let mut last_board = 0;
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let message = tokio::select! {
                _ = &mut stop => break,
                m = client.next_message(Duration::from_secs(3600)) => m,
            };
            let Some(Message { topic, payload, .. }) = message else {
                continue;
            };
            if json {
                emit(&format!("{topic} {}\n", String::from_utf8_lossy(&payload)))?;
                continue;
            }
            if topic == topics.board() {
                match serde_json::from_slice::<Board>(&payload) {
                    Ok(board) if board.seq >= last_board => {
                        last_board = board.seq;
                        emit(&format!("{}\n", board_line(&board)))?;
                    }
                    Ok(_) => {}
                    Err(e) => bail!("unreadable board snapshot: {e}"),
                }
            } else if let Ok(event) = serde_json::from_slice::<Event>(&payload) {
                emit(&format!("{}\n", event_line(config, &event)))?;
            }
        }
        client.close().await;
        Ok(())
    }
}

fn board_line(board: &Board) -> String {
    let calls: Vec<String> = board
        .calls
        .iter()
        .take(3)
        .map(|c| format!("{} → quầy {}", c.label, c.counter))
        .collect();
    let waiting: Vec<String> = board
        .waiting
        .iter()
        .filter(|w| w.waiting > 0)
        .map(|w| match w.wait_minutes {
            Some(m) => format!("{} {} (khoảng {m} phút)", w.procedure, w.waiting),
            None => format!("{} {}", w.procedure, w.waiting),
        })
        .collect();
    format!(
        "[bảng #{}] vừa gọi: {} | đang chờ: {}",
        board.seq,
        if calls.is_empty() {
            "—".into()
        } else {
            calls.join(", ")
        },
        if waiting.is_empty() {
            "—".into()
        } else {
            waiting.join(", ")
        }
    )
}

/// An event as staff read it: ticket numbers, local time, Vietnamese words.
fn event_line(config: &SiteConfig, event: &Event) -> String {
    // A ticket id is its day and its number: `20261126-1023`.
    let number = |ticket: &str| ticket.rsplit('-').next().unwrap_or(ticket).to_string();
    let what = match &event.kind {
        EventKind::DayOpened { day } => {
            format!("mở ngày {}", qms_core::calendar::day_month_year(*day))
        }
        EventKind::Issued { ticket, .. } => {
            format!("cấp số {} ({})", ticket.label, ticket.procedure)
        }
        EventKind::Called { label, counter, .. } => format!("gọi số {label} đến quầy {counter}"),
        EventKind::Recalled { label, counter, .. } => {
            format!("gọi lại số {label} ở quầy {counter}")
        }
        EventKind::NoShow { ticket, counter } => {
            format!("số {} vắng mặt ở quầy {counter}", number(ticket))
        }
        EventKind::Reactivated { ticket } => format!("số {} vào lại hàng chờ", number(ticket)),
        EventKind::Transferred {
            ticket,
            procedure,
            counter,
        } => match counter {
            Some(c) => format!("số {} chuyển sang {procedure}, quầy {c}", number(ticket)),
            None => format!("số {} chuyển sang {procedure}", number(ticket)),
        },
        EventKind::Completed {
            ticket,
            counter,
            service_seconds,
            dossier,
            ..
        } => format!(
            "số {} xong ở quầy {counter} sau {}{}",
            number(ticket),
            duration_words(time::Duration::seconds(i64::from(*service_seconds))),
            dossier
                .as_ref()
                .map_or(String::new(), |d| format!(", mã hồ sơ {d}"))
        ),
        EventKind::CounterPaused { counter } => format!("quầy {counter} tạm dừng"),
        EventKind::CounterResumed { counter } => format!("quầy {counter} tiếp tục"),
        EventKind::OfficerSignedIn { counter, officer } => {
            format!("cán bộ {officer} đăng nhập quầy {counter}")
        }
        EventKind::OfficerSignedOut { counter, officer } => {
            format!("cán bộ {officer} rời quầy {counter}")
        }
        EventKind::Alert { alert } => format!("cảnh báo: {}", alert.words(config)),
        EventKind::IssueRefused { procedure, code } => {
            format!("từ chối cấp số {procedure} ({code:?})")
        }
        EventKind::Rated { ticket, rating, .. } => {
            format!("số {} được đánh giá {}", number(ticket), rating.name_vi())
        }
        EventKind::DayClosed { day, expired } => {
            format!(
                "đóng ngày {}, {} số hết hạn",
                qms_core::calendar::day_month_year(*day),
                expired.len()
            )
        }
    };
    format!(
        "  #{} {} {what}",
        event.seq,
        hour_minute(event.at, config.site.utc_offset)
    )
}
