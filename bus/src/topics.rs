//! The topic tree of protocol v1, under `qms/v1/{site}`.

/// Topics of one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    root: String,
}

impl Topics {
    /// The topics of site `site`.
    pub fn new(site: &str) -> Topics {
        Topics {
            root: format!("qms/v1/{site}"),
        }
    }

    /// `qms/v1/{site}`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// A device's commands to the queue.
    pub fn command(&self, device: &str) -> String {
        format!("{}/dev/{device}/cmd", self.root)
    }

    /// Every device's commands: what the queue subscribes to.
    pub fn all_commands(&self) -> String {
        format!("{}/dev/+/cmd", self.root)
    }

    /// The authority's replies to a device.
    pub fn reply(&self, device: &str) -> String {
        format!("{}/dev/{device}/reply", self.root)
    }

    /// A device's retained status.
    pub fn status(&self, device: &str) -> String {
        format!("{}/dev/{device}/status", self.root)
    }

    /// Every device's status.
    pub fn all_statuses(&self) -> String {
        format!("{}/dev/+/status", self.root)
    }

    /// The print jobs of a printer.
    pub fn job(&self, printer: &str) -> String {
        format!("{}/dev/{printer}/job", self.root)
    }

    /// The retained board snapshot.
    pub fn board(&self) -> String {
        format!("{}/board", self.root)
    }

    /// The queue's staff alerts, retained: for the consoles and the head, never the
    /// public board.
    pub fn alerts(&self) -> String {
        format!("{}/alerts", self.root)
    }

    /// The events, in `seq` order.
    pub fn events(&self) -> String {
        format!("{}/events", self.root)
    }

    /// What counter `number` serves now, retained: for the LED display above it.
    pub fn counter(&self, number: u16) -> String {
        format!("{}/counter/{number}", self.root)
    }

    /// What every counter serves now.
    pub fn all_counters(&self) -> String {
        format!("{}/counter/+", self.root)
    }

    /// The device of a `…/dev/{device}/{leaf}` topic of this site.
    pub fn device_of<'t>(&self, topic: &'t str, leaf: &str) -> Option<&'t str> {
        let rest = topic
            .strip_prefix(self.root.as_str())?
            .strip_prefix("/dev/")?;
        let (device, last) = rest.split_once('/')?;
        (last == leaf && !device.is_empty()).then_some(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_the_protocol() {
        let t = Topics::new("cap-phuong-saigon");
        assert_eq!(
            t.command("kiosk-1"),
            "qms/v1/cap-phuong-saigon/dev/kiosk-1/cmd"
        );
        assert_eq!(t.all_commands(), "qms/v1/cap-phuong-saigon/dev/+/cmd");
        assert_eq!(t.board(), "qms/v1/cap-phuong-saigon/board");
        assert_eq!(t.counter(3), "qms/v1/cap-phuong-saigon/counter/3");
        assert_eq!(
            t.device_of(&t.command("counter-3"), "cmd"),
            Some("counter-3")
        );
        assert_eq!(t.device_of(&t.reply("counter-3"), "cmd"), None);
        assert_eq!(t.device_of("qms/v1/other/dev/x/cmd", "cmd"), None);
    }
}
