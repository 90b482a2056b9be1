//! broker-config/bridge.conf between two Mosquitto instances on loopback, an office and
//! a "central" one with TLS: the office's events reach the centre, and nothing the centre
//! publishes reaches the office's command topics.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use qms_core::protocol::{Command, Event, EventKind};
use qms_queue::SystemClock;
use qms_tests::plain::{PlainClient, PlainOptions};
use qms_tests::{client, mosquitto_available, office, Authority, BrokerProcess, WAIT};
use serde_json::json;

const BRIDGE: &str = include_str!("../../broker-config/bridge.conf");
const LOCAL: &str = include_str!("../../broker-config/mosquitto-local.conf");

/// The example bridge pointed at `central` and its CA; `marker` is bridged in as well,
/// so the test can tell when whatever the centre published earlier would have arrived.
fn office_conf(port: u16, central: SocketAddr, central_ca: &Path, marker: &str) -> String {
    let bridge: Vec<String> = BRIDGE
        .lines()
        .map(|line| match line.split_once(' ') {
            Some(("address", _)) => format!("address {central}"),
            Some(("bridge_cafile", _)) => format!("bridge_cafile {}", central_ca.display()),
            _ => line.to_string(),
        })
        .collect();
    format!(
        "{}\n{}\ntopic {marker} in 1\n",
        LOCAL.replace(
            "listener 1883 127.0.0.1",
            &format!("listener {port} 127.0.0.1")
        ),
        bridge.join("\n")
    )
}

async fn anonymous(addr: SocketAddr, id: &str) -> PlainClient {
    PlainClient::connect(addr, id, PlainOptions::default())
        .await
        .expect("the test brokers are open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_go_out_to_the_centre_and_no_command_comes_in() {
    if !mosquitto_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The centre: TLS with a CA of its own (made here with the office tooling).
    let central_addr = qms_bus::free_loopback_addr();
    let mut centre_site = office();
    centre_site.broker.embedded = false;
    let certs = dir.path().join("central");
    let options = qms::broker_setup::SetupOptions {
        out: certs.clone(),
        hosts: vec!["127.0.0.1".into()],
        lan_port: 1,
        loopback_port: 2,
        tls: true,
        require_client_certificates: false,
        broker_user: "root".into(),
    };
    qms::broker_setup::setup(&centre_site, &options).unwrap();
    let central_conf = dir.path().join("central.conf");
    std::fs::write(
        &central_conf,
        format!(
            "listener {} 127.0.0.1\nuser root\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n\
             set_tcp_nodelay true\npersistence false\nlog_dest stderr\nlog_type error\n",
            central_addr.port(),
            certs.join("ca.crt").display(),
            certs.join("server.crt").display(),
            certs.join("server.key").display(),
        ),
    )
    .unwrap();
    let _central = BrokerProcess::mosquitto_with(&central_conf, central_addr);

    let config = office();
    let root = format!("qms/v1/{}", config.site.id);
    let marker = format!("{root}/test-marker");
    let office_addr = qms_bus::free_loopback_addr();
    let office_file = dir.path().join("office.conf");
    let conf = office_conf(
        office_addr.port(),
        central_addr,
        &certs.join("ca.crt"),
        &marker,
    );
    std::fs::write(&office_file, conf).unwrap();

    // A client of the centre, over TLS: rumqttc with the centre's CA.
    let mut centre_options =
        qms_bus::BusOptions::new("city-report", &config.site.id, &central_addr.to_string());
    centre_options.tls = Some(qms_bus::TlsFiles {
        ca_file: certs.join("ca.crt"),
        client: None,
    });
    centre_options.announce = false;
    centre_options.subscriptions = vec![format!("{root}/#")];
    let mut centre =
        qms::device::DeviceClient::connect(centre_options, &[format!("{root}/#")], WAIT)
            .await
            .unwrap();

    let _office_broker = BrokerProcess::mosquitto_with(&office_file, office_addr);
    // The bridge says it is up, at the centre.
    loop {
        let m = centre
            .next_message(WAIT)
            .await
            .expect("the bridge comes up");
        if m.topic == format!("{root}/bridge") && m.payload == b"1" {
            break;
        }
    }

    let store = tempfile::tempdir().unwrap();
    let authority =
        Authority::start(&config, office_addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, office_addr, "kiosk-1", &[]).await;
    let issue = Command::issue("cccd", None);
    let ticket = kiosk.send(issue, WAIT).await.unwrap().ticket.unwrap();
    loop {
        let m = centre
            .next_message(WAIT)
            .await
            .expect("the office's events arrive");
        if m.topic == format!("{root}/events") {
            let event: Event = serde_json::from_slice(&m.payload).unwrap();
            if matches!(event.kind, EventKind::Issued { ticket: ref t, .. } if t.id == ticket.id) {
                break;
            }
        }
    }

    // The centre sends a command to counter 1 of the office, then the marker.
    let mut listener = anonymous(office_addr, "office-listener").await;
    assert!(listener.subscribe(&format!("{root}/dev/+/cmd")).await);
    assert!(listener.subscribe(&marker).await);
    // One connection to the centre keeps the two in order.
    let forged = json!({"v": 1, "id": "from-centre", "op": "call_next", "counter": 1});
    let cmd = format!("{root}/dev/counter-1/cmd");
    assert!(centre
        .bus()
        .publish(&cmd, forged.to_string().into_bytes(), false, None));
    assert!(centre
        .bus()
        .publish(&marker, b"\"after\"".to_vec(), false, None));
    let (topic, _) = listener.next_any().await;
    assert_eq!(
        topic, marker,
        "the command from the centre never reached the office"
    );
    authority.stop().await;
}
