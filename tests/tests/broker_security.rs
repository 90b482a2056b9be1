//! The office's Mosquitto as `qms broker setup` makes it, started with the files it
//! wrote: every role does its job through it (the authority on the loopback listener,
//! the devices over TLS), and what a device may not do is refused.

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qms::broker_setup::{setup, SetupOptions};
use qms_bus::{Bus, BusEvent};
use qms_core::protocol::{Board, Command, CounterDisplay, Event, EventKind, Rating, TicketState};
use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::http::{press, request, sign_in, EventStream};
use qms_tests::plain::{PlainClient, PlainOptions};
use qms_tests::{client, mosquitto_available, office, options_for, Authority, BrokerProcess, WAIT};
use serde_json::json;
use tokio::time::timeout;

/// An office whose broker was set up by `qms broker setup`.
struct Office {
    _dir: tempfile::TempDir,
    files: PathBuf,
    /// As the roles on the broker's machine see it: the loopback listener.
    local: SiteConfig,
    loopback: SocketAddr,
    /// As the devices on the LAN see it: TLS with the office CA.
    lan: SiteConfig,
    lan_addr: SocketAddr,
    _broker: BrokerProcess,
}

fn make_files(config: &SiteConfig, out: &Path, lan: u16, loopback: u16, client_certs: bool) {
    // Mosquitto started as root drops to its `user`; here it must stay who we are.
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let options = SetupOptions {
        out: out.to_path_buf(),
        hosts: vec!["127.0.0.1".into()],
        lan_port: lan,
        loopback_port: loopback,
        tls: true,
        require_client_certificates: client_certs,
        broker_user: if root { "root" } else { "mosquitto" }.into(),
    };
    setup(config, &options).expect("the broker's files are made");
}

fn office_broker(client_certs: bool) -> Office {
    let dir = tempfile::tempdir().unwrap();
    let loopback = qms_bus::free_loopback_addr();
    let lan_addr = loop {
        let addr = qms_bus::free_loopback_addr();
        if addr != loopback {
            break addr;
        }
    };
    let mut config = office();
    config.broker.embedded = false;
    config.broker.address = lan_addr.to_string();
    let files = dir.path().join("broker");
    make_files(
        &config,
        &files,
        lan_addr.port(),
        loopback.port(),
        client_certs,
    );
    let broker = BrokerProcess::mosquitto_with(&files.join("mosquitto.conf"), loopback);
    config.broker.secrets = Some(files.join("secrets").display().to_string());
    let mut local = config.clone();
    local.broker.address = loopback.to_string();
    let mut lan = config;
    lan.broker.ca_file = Some(files.join("ca.crt").display().to_string());
    Office {
        _dir: dir,
        files,
        local,
        loopback,
        lan,
        lan_addr,
        _broker: broker,
    }
}

fn password(office: &Office, device: &str) -> String {
    std::fs::read_to_string(office.files.join("secrets").join(device))
        .unwrap()
        .trim()
        .to_string()
}

async fn plain(office: &Office, device: &str) -> PlainClient {
    let password = password(office, device);
    let how = PlainOptions {
        credentials: Some((device, &password)),
        last_will: None,
    };
    PlainClient::connect(office.loopback, &format!("{device}-plain"), how)
        .await
        .expect("a device with its password connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_job_through_the_generated_broker() {
    if !mosquitto_available() {
        return;
    }
    let office = office_broker(false);
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(
        &office.local,
        office.loopback,
        store.path(),
        Arc::new(SystemClock),
    )
    .await;
    let topics = qms_bus::Topics::new(&office.lan.site.id);
    let lan = |device: &'static str, extra: Vec<String>| {
        let config = office.lan.clone();
        let addr = office.lan_addr;
        async move { client(&config, addr, device, &extra).await }
    };
    let mut printer = lan("printer-1", vec![topics.job("printer-1")]).await;
    let mut display = lan("display-hall", vec![topics.board(), topics.counter(1)]).await;
    let mut rating = lan("rating-1", vec![topics.events()]).await;
    let mut kiosk = lan("kiosk-1", vec![]).await;
    let mut counter = lan("counter-1", vec![]).await;

    let issue = Command::issue("cccd", None);
    let ticket = kiosk.send(issue, WAIT).await.unwrap().ticket.unwrap();
    let job = printer
        .next_message(WAIT)
        .await
        .expect("the printer gets its job");
    let job: serde_json::Value = serde_json::from_slice(&job.payload).unwrap();
    assert_eq!(job["ticket"]["id"], ticket.id.as_str());
    loop {
        let message = display.next_message(WAIT).await.expect("the board arrives");
        if message.topic != topics.board() {
            continue;
        }
        let board: Board = serde_json::from_slice(&message.payload).unwrap();
        if board.seq >= ticket.queue_key {
            assert_eq!(board.waiting[0].waiting, 1);
            break;
        }
    }
    let call = Command::CallNext {
        counter: None,
        dossier: None,
    };
    let called = counter.send(call, WAIT).await.unwrap().ticket.unwrap();
    assert_eq!(called.id, ticket.id);
    // A display may read what a counter serves, as an LED above it does.
    loop {
        let message = display
            .next_message(WAIT)
            .await
            .expect("counter 1's state arrives");
        if message.topic == topics.counter(1) {
            let shown: CounterDisplay = serde_json::from_slice(&message.payload).unwrap();
            if shown.counter.label.as_deref() == Some(called.label.as_str()) {
                break;
            }
        }
    }
    let done = counter
        .send(
            Command::Complete {
                counter: None,
                dossier: None,
            },
            WAIT,
        )
        .await;
    assert!(done.unwrap().ok);
    loop {
        let message = rating.next_message(WAIT).await.expect("events arrive");
        let event: Event = serde_json::from_slice(&message.payload).unwrap();
        if matches!(event.kind, EventKind::Completed { ref ticket, .. } if *ticket == called.id) {
            break;
        }
    }
    let rate = Command::Rate {
        ticket: ticket.id.clone(),
        rating: Rating::Satisfied,
    };
    assert!(rating.send(rate, WAIT).await.unwrap().ok);
    let mut admin = client(&office.local, office.loopback, "admin", &[]).await;
    let list = Command::todays_tickets();
    let tickets = admin.send(list, WAIT).await.unwrap().tickets.unwrap();
    assert_eq!(tickets[0].rating, Some(Rating::Satisfied));
    authority.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_device_may_not_do_is_refused() {
    if !mosquitto_available() {
        return;
    }
    let office = office_broker(false);
    let laptop = PlainClient::connect(office.loopback, "laptop", PlainOptions::default()).await;
    assert!(laptop.is_err(), "anonymous connect is refused");
    let wrong = PlainOptions {
        credentials: Some(("kiosk-1", "guessed-password-1234")),
        last_will: None,
    };
    let guess = PlainClient::connect(office.loopback, "guess", wrong).await;
    assert!(guess.is_err(), "a wrong password is refused");

    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(
        &office.local,
        office.loopback,
        store.path(),
        Arc::new(SystemClock),
    )
    .await;
    let mut admin = client(&office.local, office.loopback, "admin", &[]).await;
    let mut labels = Vec::new();
    for procedure in ["cccd", "cu-tru"] {
        let issue = Command::issue(procedure, None);
        labels.push(admin.send(issue, WAIT).await.unwrap().ticket.unwrap().id);
    }
    let mut counter_1 = client(&office.lan, office.lan_addr, "counter-1", &[]).await;
    let called = counter_1
        .send(
            Command::CallNext {
                counter: None,
                dossier: None,
            },
            WAIT,
        )
        .await;
    assert_eq!(called.unwrap().ticket.unwrap().id, labels[0]);

    let root = format!("qms/v1/{}", office.local.site.id);
    // The waiting-room TV completes counter 1's citizen, as itself and as admin.
    let mut display = plain(&office, "display-hall").await;
    let forged = json!({"v": 1, "id": "forged-1", "op": "complete", "counter": 1});
    display
        .publish(&format!("{root}/dev/display-hall/cmd"), &forged, false)
        .await;
    display
        .publish(&format!("{root}/dev/admin/cmd"), &forged, false)
        .await;
    // Counter 3 calls for counter 4, which serves residence registration.
    let mut counter_3 = plain(&office, "counter-3").await;
    let as_4 = json!({"v": 1, "id": "forged-2", "op": "call_next"});
    counter_3
        .publish(&format!("{root}/dev/counter-4/cmd"), &as_4, false)
        .await;
    // Everything forged was in the broker before this list was sent.
    let list = Command::todays_tickets();
    let tickets = admin.send(list, WAIT).await.unwrap().tickets.unwrap();
    assert_eq!(
        tickets[0].state,
        TicketState::Called,
        "not completed by the TV"
    );
    assert_eq!(
        tickets[1].state,
        TicketState::Waiting,
        "not called as counter 4"
    );

    // A kiosk listening for counter 1's replies hears none of them.
    let mut kiosk = plain(&office, "kiosk-1").await;
    kiosk
        .subscribe(&format!("{root}/dev/counter-1/reply"))
        .await;
    assert!(kiosk.subscribe(&format!("{root}/dev/kiosk-1/reply")).await);
    let recall = counter_1
        .send(Command::Recall { counter: None }, WAIT)
        .await;
    assert!(recall.unwrap().ok);
    let probe = json!({"v": 1, "id": "kiosk-probe", "op": "issue", "service": "cccd"});
    kiosk
        .publish(&format!("{root}/dev/kiosk-1/cmd"), &probe, false)
        .await;
    let (topic, first) = kiosk.next_any().await;
    assert_eq!(
        (topic.as_str(), &first["id"]),
        (
            format!("{root}/dev/kiosk-1/reply").as_str(),
            &json!("kiosk-probe")
        ),
        "the kiosk's own reply comes first; counter 1's recall reply never came"
    );
    authority.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_the_office_ca_only_and_can_require_device_certificates() {
    if !mosquitto_available() {
        return;
    }
    let office = office_broker(true);
    let first_event = |config: &SiteConfig, device: &str| {
        let options = options_for(config, office.lan_addr, device);
        async move {
            let (bus, mut events) = Bus::connect(options).expect("the options are good");
            let event = timeout(WAIT, events.recv()).await.expect("an event");
            bus.close().await;
            event.expect("the connection task runs")
        }
    };
    assert_eq!(
        first_event(&office.lan, "kiosk-1").await,
        BusEvent::Connected,
        "the office CA and the kiosk's certificate"
    );

    // Another CA: the broker's certificate is not trusted.
    let other = tempfile::tempdir().unwrap();
    make_files(&office.lan, other.path(), 1, 2, false);
    let mut stranger = office.lan.clone();
    stranger.broker.ca_file = Some(other.path().join("ca.crt").display().to_string());
    let refused = first_event(&stranger, "kiosk-1").await;
    assert!(
        matches!(&refused, BusEvent::Disconnected { reason, .. } if reason.contains("certificate") || reason.contains("Issuer")),
        "{refused:?}"
    );

    // A device presenting a certificate of another CA is refused by the broker.
    let secrets = office.files.join("secrets");
    for ext in ["crt", "key"] {
        std::fs::copy(
            other.path().join("secrets").join(format!("kiosk-1.{ext}")),
            secrets.join(format!("kiosk-1.{ext}")),
        )
        .unwrap();
    }
    assert!(matches!(
        first_event(&office.lan, "kiosk-1").await,
        BusEvent::Disconnected { .. }
    ));
    // And so is one with none at all.
    for ext in ["crt", "key"] {
        std::fs::remove_file(secrets.join(format!("kiosk-1.{ext}"))).unwrap();
    }
    assert!(matches!(
        first_event(&office.lan, "kiosk-1").await,
        BusEvent::Disconnected { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_another_devices_password_cannot_take_the_authoritys_connection() {
    if !mosquitto_available() {
        return;
    }
    let office = office_broker(false);
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(
        &office.local,
        office.loopback,
        store.path(),
        Arc::new(SystemClock),
    )
    .await;
    let status = qms_bus::Topics::new(&office.local.site.id).status("queue");
    let mut display = plain(&office, "display-hall").await;
    assert!(display.subscribe(&status).await);
    display.next(&status, |s| s["online"] == true).await;
    // A counter's password with the authority's client id, again and again.
    let password = password(&office, "counter-3");
    for _ in 0..5 {
        let how = PlainOptions {
            credentials: Some(("counter-3", &password)),
            last_will: None,
        };
        let imposter = PlainClient::connect(office.loopback, "queue", how)
            .await
            .expect("counter-3 may connect, as itself");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        imposter.pull_the_plug();
    }
    // The authority never went offline and still answers.
    let offline = timeout(
        std::time::Duration::from_millis(800),
        display.next(&status, |s| s["online"] == false),
    )
    .await;
    assert!(
        offline.is_err(),
        "the authority was knocked off: {offline:?}"
    );
    let mut kiosk = client(&office.lan, office.lan_addr, "kiosk-1", &[]).await;
    let issue = Command::issue("cccd", None);
    assert!(kiosk.send(issue, WAIT).await.unwrap().ok);
    authority.stop().await;
}

/// `qms web` through the generated broker, over its TLS listener: a browser signs in at
/// counter 3 with counter 3's own device password, which the broker checks; signed in,
/// it calls as counter-3. A wrong password is refused, and an address that keeps
/// guessing is locked out even when it finally has the right one. The citizen's page
/// works with the web device's own rights.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_with_the_counters_own_password_which_the_broker_checks() {
    if !mosquitto_available() {
        return;
    }
    let mut office = office_broker(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    office.local.web.public_url = Some(format!("http://{addr}"));
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(
        &office.local,
        office.loopback,
        store.path(),
        Arc::new(SystemClock),
    )
    .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(qms_web::serve(
        listener.into(),
        Arc::new(office.lan.clone()),
        options_for(&office.lan, office.lan_addr, "web"),
        async {
            let _ = stopped.await;
        },
    ));
    // The web device's own rights are enough for the board.
    let mut board = EventStream::open(addr, "/board/events").await;
    let mut seq = 0;
    board.board(&mut seq, |v| v["stale"] == "").await;

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let guess = request(
        addr,
        "POST",
        "/counter/3/sign-in",
        &form,
        "password=guess1234",
    )
    .await;
    assert_eq!(guess.status, 401, "{}", guess.body);
    assert!(guess.body.contains("Sai mật khẩu."), "{}", guess.body);
    let (cookie, csrf) = sign_in(addr, "/counter/3", &password(&office, "counter-3")).await;

    let mut kiosk = client(&office.lan, office.lan_addr, "kiosk-1", &[]).await;
    let issued = kiosk
        .send(Command::issue("cu-tru", None), WAIT)
        .await
        .unwrap();
    let ticket = issued.ticket.unwrap();
    // The citizen's page: the web device follows the ticket with its own rights.
    let url = issued.follow_url.expect("the QR's address");
    let page = request(
        addr,
        "GET",
        url.strip_prefix(&format!("http://{addr}")).unwrap(),
        &[],
        "",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut screens = EventStream::open_with(addr, "/counter/3/events", &cookie).await;
    let listed = screens
        .screen(|s| s["waiting"].as_array().is_some_and(|w| w.len() == 1))
        .await;
    let (status, sent) = press(
        addr,
        "/counter/3",
        &cookie,
        &csrf,
        json!({"action": "call_next", "turn": listed["turn"]}),
    )
    .await;
    assert_eq!((status, sent), (200, json!({"sent": true})));
    board
        .board(&mut seq, |v| {
            v["calling"]["label"] == ticket.label.as_str() && v["calling"]["counter"] == "Quầy 3"
        })
        .await;

    // Four more guesses (five in all) and this address waits, right password or not.
    for _ in 0..4 {
        let guess = request(
            addr,
            "POST",
            "/counter/4/sign-in",
            &form,
            "password=guess1234",
        )
        .await;
        assert_eq!(guess.status, 401);
    }
    let right = format!("password={}", password(&office, "counter-4"));
    let locked = request(addr, "POST", "/counter/4/sign-in", &form, &right).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(
        locked.body.contains("Sai mật khẩu quá nhiều lần"),
        "{}",
        locked.body
    );

    stop.send(()).unwrap();
    timeout(WAIT, server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    kiosk.close().await;
    authority.stop().await;
}
