//! Staff alerts from the devices' retained statuses: a device gone, a printer out of
//! paper or with its cover open. The board and the counter consoles show the same words.

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct StaffAlerts {
    /// Device id → (online, detail of a fault).
    devices: BTreeMap<String, (bool, Option<String>)>,
}

impl StaffAlerts {
    /// A device's retained status, `{"v":1,"online":…,"ready":…,"detail":…}`; an
    /// unreadable one is ignored.
    pub fn status(&mut self, device: &str, payload: &[u8]) {
        let Ok(status) = serde_json::from_slice::<serde_json::Value>(payload) else {
            return;
        };
        let online = status["online"] == true;
        let fault = (status["ready"] == false)
            .then(|| status["detail"].as_str().unwrap_or("not ready").to_string());
        self.devices.insert(device.to_string(), (online, fault));
    }

    /// The alerts in words, by device id.
    pub fn alerts(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter_map(|(device, (online, fault))| match (online, fault) {
                (false, _) => Some(format!("{device}: mất kết nối")),
                (true, Some(detail)) => Some(format!("{device}: {}", fault_words(detail))),
                (true, None) => None,
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
}
