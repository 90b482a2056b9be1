//! The protocol clients: short-lived connections that send the authority one command, or
//! a few, and print what it says (`issue`, `reprint`, `counter N ACTION`, `tickets`,
//! `report`), and `watch`, which prints the board and the events as they happen.

use std::process::ExitCode;
use std::time::Duration;

use qms_core::calendar::{duration_words, hour_minute};
use qms_core::protocol::{Command, Reply, TicketState};
use qms_core::SiteConfig;

use crate::device::DeviceClient;
use crate::site::client_options;

pub mod counter;
pub mod issue;
pub mod report;
pub mod tickets;
pub mod watch;

/// How long a command-line client waits for the authority.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `command` as `device`, prints the reply (in words, or as JSON) and fails when
/// the authority refused it.
async fn one_command(
    config: &SiteConfig,
    device: &str,
    command: Command,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut client =
        DeviceClient::connect(client_options(config, device)?, &[], CLIENT_TIMEOUT).await?;
    let reply = client.send(command, CLIENT_TIMEOUT).await?;
    client.close().await;
    if json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&reply)?))?;
    } else {
        emit(&reply_text(config, &reply))?;
    }
    Ok(if reply.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The reply in words, local times.
fn reply_text(config: &SiteConfig, reply: &Reply) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(error) = &reply.error {
        let _ = writeln!(
            out,
            "Không thực hiện được: {} ({})",
            error.message, error.message_en
        );
        return out;
    }
    let name = |procedure: &str| {
        config
            .procedure(procedure)
            .map_or(procedure.to_string(), |p| p.name_vi.clone())
    };
    if let Some(ticket) = &reply.ticket {
        let _ = write!(
            out,
            "Số thứ tự {} — {} — {}",
            ticket.label,
            name(&ticket.procedure),
            ticket.state.name_vi()
        );
        if let Some(counter) = ticket
            .counter
            .filter(|_| ticket.state == TicketState::Called)
        {
            let _ = write!(out, " tại quầy {counter}");
        }
        if ticket.state == TicketState::Waiting {
            let _ = write!(out, ", {} người đang chờ trước", reply.ahead.unwrap_or(0));
            let _ = match reply.wait_minutes {
                Some(0) => write!(out, ", sắp đến lượt"),
                Some(minutes) => write!(out, ", khoảng {minutes} phút"),
                None => write!(out, ", chưa có quầy mở"),
            };
        }
        out.push('\n');
    }
    if let Some(tickets) = &reply.tickets {
        for t in tickets {
            // How long the citizen waited, for those called.
            let waited = t.called_at.map_or(String::new(), |called| {
                format!("  (chờ {})", duration_words(called - t.issued_at))
            });
            let _ = writeln!(
                out,
                "{:>6}  {:<14} {}  {}{waited}",
                t.label,
                t.state.name_vi(),
                hour_minute(t.issued_at, config.site.utc_offset),
                name(&t.procedure),
            );
        }
        let _ = writeln!(out, "{} số", tickets.len());
    }
    if reply.ticket.is_none() && reply.tickets.is_none() {
        out.push_str("Đã thực hiện.\n");
    }
    out
}

/// Writes to standard output. A reader that went away (`qms tickets | head`) is an
/// `io::Error` of kind `BrokenPipe`, which ends the command quietly.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
