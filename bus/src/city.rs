//! The city's broker: a NATS JetStream cluster whose MQTT listener every office's
//! Mosquitto bridges to. Each node's configuration is made here from the cluster's
//! addresses and the offices: a user per office that may publish and subscribe only under
//! its own site's topics (`qms/v1/{site}/…`, subjects `qms.v1.{site}.…` inside NATS), MQTT
//! only; and the city's own user, for `qms city` and the city's pages.

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One node's addresses.
#[derive(Debug, Clone)]
pub struct Node {
    /// NATS clients (`qms city`): host:port.
    pub client: SocketAddr,
    /// The routes between the nodes.
    pub cluster: SocketAddr,
    /// The offices' bridges (MQTT 3.1.1).
    pub mqtt: SocketAddr,
}

/// An office as the city knows it.
#[derive(Debug, Clone)]
pub struct Office {
    /// Its site id: its MQTT root `qms/v1/{site}` and its username at the city.
    pub site: String,
    /// Its bridge's password at the city.
    pub password: String,
}

/// The cluster: its nodes, its offices and where each node keeps JetStream's files.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The cluster's name.
    pub name: String,
    /// Three or more nodes (JetStream keeps a stream on a majority of them).
    pub nodes: Vec<Node>,
    /// Every office that bridges to it.
    pub offices: Vec<Office>,
    /// The city's own user's password (user `city`).
    pub city_password: String,
    /// Node i keeps its files in `store_root/node-{i+1}`.
    pub store_root: PathBuf,
}

/// The subjects an office's topics become inside NATS: `qms/v1/site-a/#` is
/// `qms.v1.site-a` and everything under it.
pub fn office_subjects(site: &str) -> [String; 2] {
    [format!("qms.v1.{site}"), format!("qms.v1.{site}.>")]
}

/// A string for the NATS configuration, quoted.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Cluster {
    /// The configuration file of node `index` (from 0).
    pub fn node_conf(&self, index: usize) -> String {
        let node = &self.nodes[index];
        let mut conf = format!(
            "# NATS node {n} of the city cluster \"{name}\", made by qms from the list of offices.\n\
             server_name: {name}-{n}\n\
             listen: {client}\n\n\
             jetstream {{\n  store_dir: {store}\n}}\n\n\
             cluster {{\n  name: {name}\n  listen: {cluster}\n  routes: [\n",
            n = index + 1,
            name = self.name,
            client = node.client,
            cluster = node.cluster,
            store = quoted(&self.store_root.join(format!("node-{}", index + 1)).display().to_string()),
        );
        for other in &self.nodes {
            let _ = writeln!(conf, "    nats-route://{}", other.cluster);
        }
        let _ = write!(
            conf,
            "  ]\n}}\n\n\
             # The offices' bridges (MQTT 3.1.1, QoS 1, persistent sessions).\n\
             mqtt {{\n  listen: {}\n}}\n\n\
             # An account per office: its topics, sessions and streams are its own, out of\n\
             # every other office's sight. Each exports its events, boards and statuses to the\n\
             # city's account, which imports them read-only.\n\
             accounts {{\n",
            node.mqtt
        );
        for office in &self.offices {
            let _ = writeln!(
                conf,
                "  {account}: {{\n    jetstream: enabled\n    \
                 users: [ {{ user: {account}, password: {password}, allowed_connection_types: [\"MQTT\"] }} ]\n    \
                 exports: [ {{ stream: {subjects} }} ]\n  }}",
                account = quoted(&office.site),
                password = quoted(&office.password),
                subjects = quoted(&office_subjects(&office.site)[1]),
            );
        }
        let imports = self
            .offices
            .iter()
            .map(|o| {
                format!(
                    "      {{ stream: {{ account: {}, subject: {} }} }}",
                    quoted(&o.site),
                    quoted(&office_subjects(&o.site)[1])
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let _ = write!(
            conf,
            "  # The city's own services: qms city, the city's pages.\n  \
             CITY: {{\n    jetstream: enabled\n    users: [ {{ user: city, password: {} }} ]\n    \
             imports: [\n{imports}\n    ]\n  }}\n}}\n",
            quoted(&self.city_password)
        );
        conf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        let node = |i: u16| Node {
            client: format!("10.0.0.{i}:4222").parse().unwrap(),
            cluster: format!("10.0.0.{i}:6222").parse().unwrap(),
            mqtt: format!("10.0.0.{i}:1883").parse().unwrap(),
        };
        Cluster {
            name: "hcm".into(),
            nodes: vec![node(1), node(2), node(3)],
            offices: vec![
                Office {
                    site: "cap-phuong-saigon".into(),
                    password: "p\"a".into(),
                },
                Office {
                    site: "cap-xa-can-gio".into(),
                    password: "pb".into(),
                },
            ],
            city_password: "pc".into(),
            store_root: "/var/lib/nats".into(),
        }
    }

    #[test]
    fn each_node_routes_to_all_and_each_office_gets_its_own_subjects_only() {
        let conf = cluster().node_conf(1);
        assert!(conf.contains("server_name: hcm-2\n"));
        assert!(conf.contains("listen: 10.0.0.2:4222\n"));
        assert!(conf.contains("store_dir: \"/var/lib/nats/node-2\""));
        for i in 1..=3 {
            assert!(
                conf.contains(&format!("nats-route://10.0.0.{i}:6222")),
                "{conf}"
            );
        }
        let office = conf
            .split("\"cap-phuong-saigon\": {")
            .nth(1)
            .and_then(|rest| rest.split("\n  }").next())
            .unwrap_or_else(|| panic!("an account for the office: {conf}"));
        assert!(office.contains(r#"password: "p\"a""#), "{office}");
        assert!(
            office.contains("allowed_connection_types: [\"MQTT\"]"),
            "{office}"
        );
        assert!(
            office.contains(r#"exports: [ { stream: "qms.v1.cap-phuong-saigon.>" } ]"#),
            "{office}"
        );
        assert!(!office.contains("cap-xa-can-gio"), "{office}");
        let city = conf.split("CITY: {").nth(1).unwrap();
        for site in ["cap-phuong-saigon", "cap-xa-can-gio"] {
            assert!(
                city.contains(&format!(
                    r#"{{ stream: {{ account: "{site}", subject: "qms.v1.{site}.>" }} }}"#
                )),
                "{city}"
            );
        }
    }

    /// `broker-config/city/` holds what this makes for a three-node example city.
    #[test]
    fn the_committed_example_is_what_the_cluster_makes() {
        let mut example = cluster();
        example.offices[0].password = "CHANGE-ME-a-long-random-password-per-office".into();
        example.offices[1].password = "CHANGE-ME-another-one".into();
        example.city_password = "CHANGE-ME-the-citys-own".into();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../broker-config/city");
        for index in 0..3 {
            let path = dir.join(format!("nats-{}.conf", index + 1));
            let made = example.node_conf(index);
            if std::env::var_os("QMS_WRITE_EXAMPLES").is_some() {
                std::fs::write(&path, &made).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == made,
                "{} differs from what the cluster makes (QMS_WRITE_EXAMPLES=1 rewrites it):\n{made}",
                path.display()
            );
        }
    }
}
