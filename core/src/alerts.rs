//! Staff alerts from the devices' retained statuses: a device gone, a printer out of
//! paper or with its cover open. The board and the counter consoles show the same words.

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct StaffAlerts {
    devices: BTreeMap<String, DeviceState>,
}

#[derive(Debug, Default)]
struct DeviceState {
    online: bool,
    /// The detail of a fault.
    fault: Option<String>,
    /// A printer's tickets that may not have come out: (ticket id, label).
    unsure: Vec<(String, String)>,
}

/// A ticket a printer began and cannot tell whether it came out: staff reprint it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprinted {
    pub printer: String,
    pub ticket: String,
    pub label: String,
}

impl StaffAlerts {
    /// A device's retained status, `{"v":1,"online":…,"ready":…,"detail":…,"unsure":[…]}`;
    /// an unreadable one is ignored.
    pub fn status(&mut self, device: &str, payload: &[u8]) {
        let Ok(status) = serde_json::from_slice::<serde_json::Value>(payload) else {
            return;
        };
        let fault = (status["ready"] == false)
            .then(|| status["detail"].as_str().unwrap_or("not ready").to_string());
        let unsure = status["unsure"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t["ticket"].as_str()?.into(), t["label"].as_str()?.into())))
            .collect();
        let state = DeviceState {
            online: status["online"] == true,
            fault,
            unsure,
        };
        self.devices.insert(device.to_string(), state);
    }

    /// The alerts for staff, by device id.
    pub fn alerts(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter_map(|(device, state)| match (state.online, &state.fault) {
                (false, _) => Some(format!("{device}: mất kết nối")),
                (true, Some(detail)) => Some(format!("{device}: {}", fault_words(detail))),
                (true, None) => None,
            })
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
            .map(|detail| format!("Máy in phiếu: {} — cán bộ đang xử lý", fault_words(detail)))
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

/// A printer's detail, as staff read it.
fn fault_words(detail: &str) -> String {
    let mut words = Vec::new();
    if detail.contains("out of paper") {
        words.push("hết giấy");
    } else if detail.contains("near its end") {
        words.push("sắp hết giấy");
    }
    if detail.contains("cover open") {
        words.push("nắp đang mở");
    }
    if detail.contains("offline") && words.is_empty() {
        words.push("máy in ngoại tuyến");
    }
    if detail.contains("did not answer") {
        words.push("máy in không phản hồi");
    }
    if words.is_empty() {
        format!("lỗi máy in ({detail})")
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
        a.status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"detail":"out of paper, offline"}"#,
        );
        a.status("kiosk-1", br#"{"v":1,"online":false}"#);
        a.status("counter-1", br#"{"v":1,"online":true}"#);
        a.status("counter-2", b"{garbage");
        assert_eq!(a.alerts(), ["kiosk-1: mất kết nối", "printer-1: hết giấy"]);
        a.status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"detail":"cover open, paper near its end"}"#,
        );
        assert_eq!(
            a.alerts(),
            [
                "kiosk-1: mất kết nối",
                "printer-1: sắp hết giấy, nắp đang mở"
            ]
        );
        a.status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":true,"detail":"ready"}"#,
        );
        assert_eq!(a.alerts(), ["kiosk-1: mất kết nối"]);
    }

    /// The defect: device ids in staff alerts on the public TV.
    #[test]
    fn a_public_screen_gets_printer_faults_without_device_ids() {
        let mut a = StaffAlerts::default();
        a.status(
            "printer-1",
            br#"{"v":1,"online":true,"ready":false,"detail":"out of paper, offline"}"#,
        );
        a.status("kiosk-1", br#"{"v":1,"online":false}"#);
        assert_eq!(
            a.public_notices(),
            ["Máy in phiếu: hết giấy — cán bộ đang xử lý"]
        );
    }

    #[test]
    fn tickets_a_printer_is_unsure_of_are_listed_for_a_reprint() {
        let mut a = StaffAlerts::default();
        a.status(
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
            a.alerts().is_empty(),
            "a ready printer raises no other alert"
        );
    }
}
