//! Staff alerts: from the devices' retained statuses (a device gone, a printer out of
//! paper or with its cover open, read from the printer's typed faults), and from the
//! queue itself ([`QueueAlert`]: a citizen waiting too long, a counter paused too long,
//! an unusual service), which the authority publishes retained on `…/alerts` for the
//! consoles and the head's page and records on the event stream. The consoles show them
//! with device ids; the public board shows printer faults only, in plain words.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::{PaperLevel, PrinterFault, PrinterStatus};

#[derive(Debug, Default)]
/// What the staff are told about the office's devices (a kiosk or printer offline, a
/// printer's fault, a ticket that may not have printed) and its queue.
pub struct StaffAlerts {
    devices: BTreeMap<String, DeviceState>,
    /// The queue's alerts, as last published.
    queue: Vec<QueueAlert>,
}

/// Something in the queue staff should see to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueAlert {
    /// A procedure's oldest waiting citizen has waited longer than the limit.
    LongWait {
        /// The procedure.
        service: String,
        /// The ticket waiting longest.
        label: String,
        /// How long, in minutes.
        minutes: u32,
    },
    /// A counter has been paused longer than the limit.
    LongPause {
        /// The counter.
        counter: u16,
        /// How long, in minutes.
        minutes: u32,
    },
    /// A service far shorter or far longer than the procedure's usual ("phiên bất
    /// thường"): finished lately, or still going.
    UnusualService {
        /// The counter.
        counter: u16,
        /// The ticket.
        label: String,
        /// How long it took, or has taken so far, in minutes.
        minutes: u32,
        /// The procedure's usual (median) service, in minutes.
        usual_minutes: u32,
        /// Longer than usual (else shorter).
        longer: bool,
    },
}

impl QueueAlert {
    /// What it is about, whatever the minutes: an alert is raised once per key.
    pub fn key(&self) -> String {
        match self {
            QueueAlert::LongWait { service, label, .. } => format!("wait/{service}/{label}"),
            QueueAlert::LongPause { counter, .. } => format!("pause/{counter}"),
            QueueAlert::UnusualService { counter, label, .. } => {
                format!("service/{counter}/{label}")
            }
        }
    }

    /// In staff's words.
    pub fn words(&self, config: &crate::SiteConfig) -> String {
        match self {
            QueueAlert::LongWait {
                service,
                label,
                minutes,
            } => {
                let name = config
                    .procedure(service)
                    .map_or(service.as_str(), |p| &p.name_vi);
                format!("{name}: số {label} đã chờ {minutes} phút")
            }
            QueueAlert::LongPause { counter, minutes } => {
                format!(
                    "{} tạm dừng đã {minutes} phút",
                    config.counter_name(*counter)
                )
            }
            QueueAlert::UnusualService {
                counter,
                label,
                minutes,
                usual_minutes,
                longer,
            } => {
                let how = if *longer { "dài" } else { "ngắn" };
                format!(
                    "Phiên bất thường: {} số {label} {minutes} phút, {how} hơn nhiều so với \
                     thường lệ ({usual_minutes} phút)",
                    config.counter_name(*counter)
                )
            }
        }
    }
}

/// The queue's alerts, retained on `…/alerts`: staff only, never the public board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueAlerts {
    /// The protocol version.
    pub v: u32,
    /// When they were last worked out.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// The alerts, each with its words.
    pub alerts: Vec<WordedAlert>,
}

/// An alert and how staff read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordedAlert {
    /// The alert.
    #[serde(flatten)]
    pub alert: QueueAlert,
    /// In staff's words.
    pub text: String,
}

#[derive(Debug, Default)]
struct DeviceState {
    online: bool,
    /// A printer that cannot print, in staff's words.
    fault: Option<String>,
    /// A printer's tickets that may not have come out: (ticket id, label).
    unsure: Vec<(String, String)>,
}

/// A ticket a printer began and cannot tell whether it came out: staff reprint it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unprinted {
    /// The printer (a device id).
    pub printer: String,
    /// The ticket's id.
    pub ticket: String,
    /// Its number.
    pub label: String,
}

impl StaffAlerts {
    /// A kiosk's (or any device's) retained status: whether it is there. An unreadable
    /// one is ignored.
    pub fn device_status(&mut self, device: &str, payload: &[u8]) {
        let Ok(status) = serde_json::from_slice::<crate::protocol::DeviceStatus>(payload) else {
            return;
        };
        let state = DeviceState {
            online: status.online,
            ..DeviceState::default()
        };
        self.devices.insert(device.to_string(), state);
    }

    /// A printer's retained status ([`PrinterStatus`]).
    pub fn printer_status(&mut self, device: &str, payload: &[u8]) {
        let status = PrinterStatus::parse(payload);
        let fault = (!status.ready).then(|| fault_words(&status));
        let unsure = status
            .unsure
            .iter()
            .map(|t| (t.ticket.clone(), t.label.clone()))
            .collect();
        let state = DeviceState {
            online: status.online,
            fault,
            unsure,
        };
        self.devices.insert(device.to_string(), state);
    }

    /// The queue's alerts as the authority published them; an unreadable payload is
    /// ignored.
    pub fn queue_alerts(&mut self, payload: &[u8]) {
        if let Ok(published) = serde_json::from_slice::<QueueAlerts>(payload) {
            self.queue = published.alerts.into_iter().map(|a| a.alert).collect();
        }
    }

    /// The alerts for staff: the devices', by device id, then the queue's.
    pub fn alerts(&self, config: &crate::SiteConfig) -> Vec<String> {
        self.devices
            .iter()
            .filter_map(|(device, state)| match (state.online, &state.fault) {
                (false, _) => Some(format!("{device}: mất kết nối")),
                (true, Some(words)) => Some(format!("{device}: {words}")),
                (true, None) => None,
            })
            .chain(self.queue.iter().map(|a| a.words(config)))
            .collect()
    }

    /// What a public screen may say: printer faults in plain words, without device ids
    /// or anything a citizen cannot act on.
    pub fn public_notices(&self) -> Vec<String> {
        let mut notices: Vec<String> = self
            .devices
            .values()
            .filter(|state| state.online)
            .filter_map(|state| state.fault.as_deref())
            .map(|words| format!("Máy in phiếu: {words} — cán bộ đang xử lý"))
            .collect();
        notices.dedup();
        notices
    }

    /// Tickets the printers are unsure of, oldest first for each printer.
    pub fn unprinted(&self) -> Vec<Unprinted> {
        self.devices
            .iter()
            .flat_map(|(printer, state)| {
                state.unsure.iter().map(|(ticket, label)| Unprinted {
                    printer: printer.clone(),
                    ticket: ticket.clone(),
                    label: label.clone(),
                })
            })
            .collect()
    }
}

/// Why a printer cannot print, as staff read it: from its faults, never its wording.
fn fault_words(status: &PrinterStatus) -> String {
    let mut words: Vec<&str> = status
        .faults
        .iter()
        .map(|fault| match fault {
            PrinterFault::PaperOut => "hết giấy",
            PrinterFault::CoverOpen => "nắp đang mở",
            PrinterFault::Mechanical => "lỗi cơ khí hoặc dao cắt",
            PrinterFault::Offline => "máy in ngoại tuyến",
            PrinterFault::NoAnswer => "máy in không phản hồi",
            PrinterFault::Unreachable => "không kết nối được máy in",
            PrinterFault::Spool => "không ghi được sổ in",
        })
        .collect();
    if status.paper == Some(PaperLevel::NearEnd) {
        words.insert(0, "sắp hết giấy");
    }
    if words.is_empty() {
        "máy in chưa sẵn sàng".into()
    } else {
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_faults_and_offline_devices_become_staff_alerts() {
        let mut a = StaffAlerts::default();
        a.printer_status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"paper":"out","faults":["paper_out"],"detail":"out of paper, offline"}"#,
        );
        a.device_status("kiosk-1", br#"{"v":1,"online":false}"#);
        a.device_status("counter-1", br#"{"v":1,"online":true}"#);
        a.device_status("counter-2", b"{garbage");
        assert_eq!(
            a.alerts(&crate::SiteConfig::default_site()),
            ["kiosk-1: mất kết nối", "printer-1: hết giấy"]
        );
        a.printer_status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"paper":"near_end","faults":["cover_open"],"detail":"whatever the driver says"}"#,
        );
        assert_eq!(
            a.alerts(&crate::SiteConfig::default_site()),
            [
                "kiosk-1: mất kết nối",
                "printer-1: sắp hết giấy, nắp đang mở"
            ]
        );
        a.printer_status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":true,"paper":"ok","detail":"ready"}"#,
        );
        assert_eq!(
            a.alerts(&crate::SiteConfig::default_site()),
            ["kiosk-1: mất kết nối"]
        );
    }

    /// The alerts once searched the driver's English text for "out of paper": reworded,
    /// the alerts went silent. They read the typed faults.
    #[test]
    fn a_reworded_printer_message_still_raises_the_alert() {
        let mut a = StaffAlerts::default();
        a.printer_status(
            "printer-1",
            r#"{"v":1,"online":true,"ready":false,"faults":["unreachable"],"detail":"Không mở được cổng /dev/ttyUSB0"}"#
                .as_bytes(),
        );
        assert_eq!(
            a.alerts(&crate::SiteConfig::default_site()),
            ["printer-1: không kết nối được máy in"]
        );
    }

    /// The defect: device ids in staff alerts on the public TV.
    #[test]
    fn a_public_screen_gets_printer_faults_without_device_ids() {
        let mut a = StaffAlerts::default();
        a.printer_status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"faults":["paper_out"],"detail":"out of paper, offline"}"#,
        );
        a.device_status("kiosk-1", br#"{"v":1,"online":false}"#);
        assert_eq!(
            a.public_notices(),
            ["Máy in phiếu: hết giấy — cán bộ đang xử lý"]
        );
    }

    #[test]
    fn tickets_a_printer_is_unsure_of_are_listed_for_a_reprint() {
        let mut a = StaffAlerts::default();
        a.printer_status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":true,"unsure":[{"ticket":"20261126-1023","label":"1023"}]}"#,
        );
        assert_eq!(
            a.unprinted(),
            [Unprinted {
                printer: "printer-1".into(),
                ticket: "20261126-1023".into(),
                label: "1023".into()
            }]
        );
        assert!(
            a.alerts(&crate::SiteConfig::default_site()).is_empty(),
            "a ready printer raises no other alert"
        );
    }
}
