//! The city's NATS JetStream cluster for tests: three `nats-server` processes on loopback
//! ports, configured by `qms_bus::city` as the city's would be, with a user per office.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use qms_bus::city::{Cluster, Node, Office};
use qms_bus::{free_loopback_addr, BusOptions};

/// A running cluster; its processes are killed when it is dropped.
pub struct NatsCluster {
    pub cluster: Cluster,
    dir: tempfile::TempDir,
    children: Vec<Option<Child>>,
}

impl NatsCluster {
    /// Three nodes with users for `sites` (password `pw-{site}`), once every node takes
    /// MQTT connections; none where `nats-server` is not installed.
    pub async fn start(sites: &[&str]) -> Option<NatsCluster> {
        if !crate::nats_available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let node = |_| Node {
            client: free_loopback_addr(),
            cluster: free_loopback_addr(),
            mqtt: free_loopback_addr(),
        };
        let cluster = Cluster {
            name: "city".into(),
            nodes: (0..3).map(node).collect(),
            offices: sites
                .iter()
                .map(|site| Office {
                    site: site.to_string(),
                    password: format!("pw-{site}"),
                })
                .collect(),
            city_password: "pw-city".into(),
            store_root: dir.path().to_path_buf(),
        };
        let mut started = NatsCluster {
            cluster,
            dir,
            children: vec![None, None, None],
        };
        for index in 0..3 {
            started.start_node(index);
        }
        for index in 0..3 {
            started.wait_for_mqtt(index).await;
        }
        Some(started)
    }

    /// Starts node `index` (again).
    pub fn start_node(&mut self, index: usize) {
        let conf = self.dir.path().join(format!("node-{}.conf", index + 1));
        std::fs::write(&conf, self.cluster.node_conf(index)).expect("the node's configuration");
        let log = std::fs::File::create(self.dir.path().join(format!("node-{}.log", index + 1)))
            .expect("a log file");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        self.children[index] = Some(child);
    }

    /// Kills node `index` (SIGKILL).
    pub fn kill_node(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn wait_for_mqtt(&self, index: usize) {
        let addr = self.cluster.nodes[index].mqtt;
        for _ in 0..1500 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "node {} never listened for MQTT at {addr}; its log:\n{}",
            index + 1,
            self.log(index)
        );
    }

    /// The MQTT address of node `index`.
    pub fn mqtt(&self, index: usize) -> SocketAddr {
        self.cluster.nodes[index].mqtt
    }

    /// Bus options for office `site`'s user on node `index`, as device `device`.
    pub fn office_options(&self, index: usize, site: &str, device: &str) -> BusOptions {
        let mut options = BusOptions::new(device, site, &self.mqtt(index).to_string());
        options.credentials = Some((site.to_string(), format!("pw-{site}")));
        options.reconnect_delay = Duration::from_millis(100);
        options
    }

    /// The nodes' client addresses, for `qms city`: nats://host:port each.
    pub fn client_urls(&self) -> Vec<String> {
        self.cluster
            .nodes
            .iter()
            .map(|n| format!("nats://{}", n.client))
            .collect()
    }

    /// `qms city`'s options on this cluster, with the database `postgres`.
    pub fn city_options(&self, postgres: &str) -> qms_city::CityOptions {
        qms_city::CityOptions {
            nats: self.client_urls(),
            user: "city".into(),
            password: self.cluster.city_password.clone(),
            postgres: postgres.into(),
            replicas: 3,
            utc_offset: time::macros::offset!(+7),
            ack_wait: Duration::from_secs(10),
        }
    }

    /// A node's log, for a test's message.
    pub fn log(&self, index: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node-{}.log", index + 1)))
            .unwrap_or_default()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for index in 0..self.children.len() {
            self.kill_node(index);
        }
    }
}
