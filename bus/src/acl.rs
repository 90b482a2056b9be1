//! The Mosquitto ACL of a site, from its configuration: each device may publish only
//! under its own `dev/{device}/`, and read only what its role needs. The authority
//! checks the same rules again on every command; the ACL keeps a device that is not
//! what it claims away from the topics altogether.

use std::fmt::Write;

use qms_core::config::Role;
use qms_core::SiteConfig;

use crate::Topics;

/// The ACL file (`acl_file`) for `config`: a `user` block per device.
pub fn mosquitto_acl(config: &SiteConfig) -> String {
    let topics = Topics::new(&config.site.id);
    let mut acl = format!(
        "# Mosquitto ACL of site \"{}\", made by `qms broker setup` from qms.toml.\n\
         # A device publishes only under its own dev/{{device}}/ and reads what its role needs.\n",
        config.site.id
    );
    for device in &config.devices {
        let id = device.id.as_str();
        let mut rules = vec![("write", topics.status(id))];
        match device.role {
            Role::Queue => rules.extend([
                ("read", topics.all_commands()),
                // Which counters have someone at them.
                ("read", topics.all_statuses()),
                // Only to clear a retained command, which it never executes.
                ("write", topics.all_commands()),
                ("write", topics.reply("+")),
                ("write", topics.job("+")),
                ("write", topics.board()),
                ("write", topics.all_counters()),
                ("write", topics.events()),
                ("write", topics.alerts()),
            ]),
            Role::Kiosk => {
                rules.extend(commands(&topics, id));
                rules.push(("read", topics.board()));
                if let Some(printer) = &device.printer {
                    rules.push(("read", topics.status(printer)));
                }
            }
            Role::Counter => {
                rules.extend(commands(&topics, id));
                rules.push(("read", topics.board()));
                rules.push(("read", topics.all_statuses()));
                rules.push(("read", topics.alerts()));
                if let Some(counter) = device.counter {
                    rules.push(("read", topics.counter(counter)));
                }
            }
            Role::Rating => {
                rules.extend(commands(&topics, id));
                rules.push(("read", topics.events()));
            }
            Role::Display => {
                rules.push(("read", topics.board()));
                rules.push(("read", topics.all_counters()));
                rules.push(("read", topics.all_statuses()));
            }
            Role::Web => {
                // Its own commands follow citizens' tickets; a console or rating page
                // acts through a connection as that counter's device, not as this one.
                rules.extend(commands(&topics, id));
                rules.push(("read", topics.board()));
                rules.push(("read", topics.all_counters()));
                rules.push(("read", topics.all_statuses()));
                rules.push(("read", topics.alerts()));
            }
            Role::Printer => rules.push(("read", topics.job(id))),
            Role::Admin => {
                rules.extend(commands(&topics, id));
                rules.push(("read", format!("{}/#", topics.root())));
            }
        }
        let role = format!("{:?}", device.role).to_lowercase();
        let _ = write!(acl, "\n# {id} (role {role})\nuser {id}\n");
        for (access, topic) in rules {
            let _ = writeln!(acl, "topic {access} {topic}");
        }
    }
    acl
}

fn commands(topics: &Topics, device: &str) -> [(&'static str, String); 2] {
    [
        ("write", topics.command(device)),
        ("read", topics.reply(device)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<'a>(acl: &'a str, user: &str) -> Vec<&'a str> {
        let start = acl
            .find(&format!("user {user}\n"))
            .unwrap_or_else(|| panic!("no block for {user}"));
        acl[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("topic "))
            .collect()
    }

    #[test]
    fn each_role_gets_only_its_own_topics() {
        let acl = mosquitto_acl(&SiteConfig::default_site());
        let r = "qms/v1/cap-phuong-saigon";
        assert_eq!(
            block(&acl, "counter-3"),
            [
                format!("topic write {r}/dev/counter-3/status"),
                format!("topic write {r}/dev/counter-3/cmd"),
                format!("topic read {r}/dev/counter-3/reply"),
                format!("topic read {r}/board"),
                format!("topic read {r}/dev/+/status"),
                format!("topic read {r}/alerts"),
                format!("topic read {r}/counter/3"),
            ]
        );
        let display = block(&acl, "display-hall");
        assert!(
            display
                .iter()
                .all(|l| !l.starts_with("topic write") || l.ends_with("display-hall/status")),
            "a display writes nothing but its status: {display:?}"
        );
        assert!(
            !display.iter().any(|rule| rule.ends_with("/alerts")),
            "staff alerts never reach the public board: {display:?}"
        );
        assert!(block(&acl, "kiosk-1")
            .contains(&format!("topic read {r}/dev/printer-1/status").as_str()));
        assert!(block(&acl, "queue").contains(&format!("topic read {r}/dev/+/cmd").as_str()));
        assert_eq!(
            block(&acl, "printer-1"),
            [
                format!("topic write {r}/dev/printer-1/status"),
                format!("topic read {r}/dev/printer-1/job"),
            ]
        );
        assert_eq!(
            block(&acl, "web"),
            [
                format!("topic write {r}/dev/web/status"),
                format!("topic write {r}/dev/web/cmd"),
                format!("topic read {r}/dev/web/reply"),
                format!("topic read {r}/board"),
                format!("topic read {r}/counter/+"),
                format!("topic read {r}/dev/+/status"),
                format!("topic read {r}/alerts"),
            ],
            "the web pages' own device follows tickets and reads the staff alerts; it acts \
             for no counter"
        );
    }
}
