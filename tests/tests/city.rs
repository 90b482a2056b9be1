//! The city's NATS JetStream cluster, started for real: three `nats-server` nodes on
//! loopback configured by `qms_bus::city`, the offices speaking MQTT to it as their
//! Mosquitto bridges do. Skipped where `nats-server` is not installed (required in CI).

use qms::device::DeviceClient;
use qms_tests::nats::NatsCluster;
use qms_tests::WAIT;

/// The cluster tests run one after the other: two three-node clusters, four offices'
/// Mosquitto and authorities and Chromium at once on two cores made a node miss its
/// start-up and a bridge its first session (seen once in a full run).
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What `client` receives up to the message `payload` on `topic`: (topic, payload) of
/// those before it.
async fn until(client: &mut DeviceClient, topic: &str, payload: &str) -> Vec<(String, String)> {
    let mut before = Vec::new();
    loop {
        let message = client
            .next_message(WAIT)
            .await
            .unwrap_or_else(|| panic!("{payload} on {topic} never came; had {before:?}"));
        let text = String::from_utf8_lossy(&message.payload).to_string();
        if message.topic == topic && text == payload {
            return before;
        }
        before.push((message.topic, text));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_city_cluster_each_office_is_apart_and_the_city_sees_them_all() {
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    let Some(city) = NatsCluster::start(&["site-a", "site-b"]).await else {
        return;
    };
    let connect = |node: usize, site: &str, device: &str, topics: &[&str]| {
        let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        let options = city.office_options(node, site, device);
        async move {
            DeviceClient::connect(options, &topics, WAIT * 3)
                .await
                .unwrap()
        }
    };
    let (a_events, b_events) = ("qms/v1/site-a/events", "qms/v1/site-b/events");
    // The city's own user, on the third node, reads every office's events through its
    // account's imports; here with Mosquitto's client at QoS 0, as a NATS subscriber gets
    // them (an MQTT QoS 1 subscription in the city's account does not see messages
    // published at QoS 1 in another account).
    let city_watch = qms_tests::mosquitto_available().then(|| {
        std::process::Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &city.mqtt(2).port().to_string()])
            .args([
                "-u", "city", "-P", "pw-city", "-q", "0", "-v", "-C", "4", "-W", "20",
            ])
            .args(["-t", "qms/v1/+/events"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("mosquitto_sub starts")
    });
    // It subscribes while the offices' clients below connect (each takes a second or
    // more: the cluster makes its MQTT session streams), before anything is published.
    let mut b_watch = connect(0, "site-b", "watch-b", &["qms/v1/site-b/#"]).await;
    let b_far = connect(1, "site-b", "bridge-b-far", &[]).await;
    let b_near = connect(0, "site-b", "bridge-b", &[]).await;
    // Office A subscribes to its own topics, and tries B's.
    let mut a = connect(
        0,
        "site-a",
        "bridge-a",
        &["qms/v1/site-a/#", "qms/v1/site-b/#"],
    )
    .await;

    // B's own events, sent to another node, reach B's subscriber: the nodes route.
    b_far.bus().publish(b_events, b"b-1".to_vec(), false, None);
    until(&mut b_watch, b_events, "b-1").await;

    // A writes into B's topics, then into its own: once A sees its own, its node has
    // handled the first, and B's next event shows whether it got through.
    a.bus()
        .publish(b_events, b"forged-by-a".to_vec(), false, None);
    a.bus().publish(a_events, b"a-1".to_vec(), false, None);
    let a_saw = until(&mut a, a_events, "a-1").await;
    b_near.bus().publish(b_events, b"b-2".to_vec(), false, None);
    let b_saw = until(&mut b_watch, b_events, "b-2").await;
    assert!(
        !b_saw.iter().any(|(_, p)| p == "forged-by-a"),
        "office A wrote into office B's topics: {b_saw:?}"
    );

    // A reads nothing of B's: B's events came and went while A was subscribed.
    a.bus().publish(a_events, b"a-2".to_vec(), false, None);
    let a_saw_later = until(&mut a, a_events, "a-2").await;
    let of_b: Vec<&(String, String)> = a_saw
        .iter()
        .chain(&a_saw_later)
        .filter(|(_, p)| p.starts_with("b-"))
        .collect();
    assert!(of_b.is_empty(), "office A read office B's events: {of_b:?}");

    // The city received both offices' events, and not the one A forged as B's.
    if let Some(watch) = city_watch {
        let out = watch.wait_with_output().expect("mosquitto_sub ends");
        let seen: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let want: std::collections::BTreeSet<String> = [
            "qms/v1/site-a/events a-1",
            "qms/v1/site-a/events a-2",
            "qms/v1/site-b/events b-1",
            "qms/v1/site-b/events b-2",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        assert_eq!(
            seen, want,
            "the city sees every office's events and no forgery"
        );
    }
    for client in [b_watch, b_far, b_near, a] {
        client.close().await;
    }
}

use std::time::Duration;

use qms_core::protocol::{Command, Rating};
use qms_tests::city::{city_available, BridgedOffice, CityProcess, TestDatabase};

/// `n` citizens at office `config`/`broker`: each takes a ticket at the kiosk, is called
/// and served at counter 1 and rates the service: four events, and a board, each.
async fn serve_citizens(config: qms_core::SiteConfig, broker: std::net::SocketAddr, n: usize) {
    let mut kiosk = qms_tests::client(&config, broker, "kiosk-1", &[]).await;
    let mut counter = qms_tests::client(&config, broker, "counter-1", &[]).await;
    let mut rating = qms_tests::client(&config, broker, "rating-1", &[]).await;
    for _ in 0..n {
        let issued = kiosk
            .send(Command::issue("cccd", None), WAIT)
            .await
            .unwrap();
        assert!(issued.ok, "the office keeps serving: {issued:?}");
        let call = Command::CallNext {
            counter: None,
            dossier: None,
        };
        let called = counter.send(call, WAIT).await.unwrap().ticket.unwrap();
        let complete = Command::Complete {
            counter: None,
            dossier: None,
        };
        assert!(counter.send(complete, WAIT).await.unwrap().ok);
        let rate = Command::Rate {
            ticket: called.id,
            rating: Rating::VerySatisfied,
        };
        assert!(rating.send(rate, WAIT).await.unwrap().ok);
    }
    for client in [kiosk, counter, rating] {
        client.close().await;
    }
}

/// Waits until the city stored events 1..=`seq` of `site`, and says what it has then:
/// (events stored, newest seq, gaps).
async fn stored_up_to(
    db: &tokio_postgres::Client,
    site: &str,
    seq: u64,
    within: Duration,
) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let row = db
            .query_one(
                "SELECT count(*), coalesce(max(seq), 0) FROM events WHERE site = $1",
                &[&site],
            )
            .await
            .unwrap();
        let (count, newest): (i64, i64) = (row.get(0), row.get(1));
        if count == seq as i64 || tokio::time::Instant::now() > deadline {
            return (count, newest);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `qms city` has made its streams: what offices send before is not kept.
async fn streams_made(city: &NatsCluster) {
    let nats = qms_city::connect_nats(&city.city_options(""))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats);
    for _ in 0..300 {
        if js.get_stream(qms_city::streams::EVENTS).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("qms city never made its streams");
}

/// The defects this guards against: an event stored twice after a redelivery, one lost
/// with a node or with a `qms city` killed between its commit and its acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_offices_events_are_stored_once_through_a_lost_node_and_a_killed_qms_city() {
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    if !city_available().await {
        return;
    }
    let mut cluster = NatsCluster::start(&["site-a", "site-b"]).await.unwrap();
    let db = TestDatabase::create().await;
    // Two replicas share the work.
    let mut first = CityProcess::start(&cluster, &db);
    let _second = CityProcess::start(&cluster, &db);
    streams_made(&cluster).await;
    let a = BridgedOffice::start(&cluster, "site-a", "Công an phường Bến Thành").await;
    let b = BridgedOffice::start(&cluster, "site-b", "Công an xã Cần Giờ").await;
    let traffic = |office: &BridgedOffice, n| {
        tokio::spawn(serve_citizens(office.config.clone(), office.broker, n))
    };
    let (busy_a, busy_b) = (traffic(&a, 60), traffic(&b, 60));
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A node goes while both offices send, and a qms city is killed mid-stream.
    cluster.kill_node(0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    first.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _again = CityProcess::start(&cluster, &db);
    cluster.start_node(0);
    busy_a.await.unwrap();
    busy_b.await.unwrap();
    // Whoever holds A's password sends junk and a forgery of A's first event: both are
    // kept apart, and the storing goes on.
    let thief = DeviceClient::connect(cluster.office_options(1, "site-a", "thief"), &[], WAIT * 3)
        .await
        .unwrap();
    thief.bus().publish(
        "qms/v1/site-a/events",
        b"\x00 not an event".to_vec(),
        false,
        None,
    );
    let forged =
        r#"{"v":1,"seq":1,"at":"2026-12-02T01:00:00Z","type":"issued","ticket":{"id":"forged"}}"#;
    thief.bus().publish(
        "qms/v1/site-a/events",
        forged.as_bytes().to_vec(),
        false,
        None,
    );
    serve_citizens(a.config.clone(), a.broker, 2).await;
    thief.close().await;

    let client = db.client().await;
    for office in [&a, &b] {
        let site = &office.config.site.id;
        let seq = office.seq();
        assert!(seq >= 240, "{site} made its events: {seq}");
        let (count, newest) = stored_up_to(&client, site, seq, Duration::from_secs(60)).await;
        assert_eq!(
            (count, newest),
            (seq as i64, seq as i64),
            "{site}: every event stored once, none missing"
        );
    }
    let gaps = qms_city::store::gaps(&client).await.unwrap();
    assert!(gaps.is_empty(), "no gaps: {gaps:?}");
    // Each kept once per arrival (MQTT delivers at least once): one of each here.
    for (table, what) in [("conflicts", "body::text"), ("rejected", "payload")] {
        let rows: Vec<String> = client
            .query(&format!("SELECT DISTINCT {what}::text FROM {table}"), &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rows.len(), 1, "the thief's message in {table}: {rows:?}");
    }
    let first: String = client
        .query_one("SELECT coalesce(body->'ticket'->>'id', kind) FROM events WHERE site = 'site-a' AND seq = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(first, "forged", "the office's own first event stays");
    for office in [a, b] {
        if let Some(authority) = office.authority {
            authority.stop().await;
        }
    }
}

/// The city's pages, served here on a free port.
async fn city_pages(
    cluster: &NatsCluster,
    db: &TestDatabase,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = cluster.city_options(&db.conninfo());
    tokio::spawn(async move {
        qms_web::city::serve(listener, options, async {
            let _ = stopped.await;
        })
        .await
        .expect("the city's pages run");
    });
    (addr, stop)
}

/// The dashboard's offices as JSON, by site, once `ready` holds of them.
async fn offices_when(
    pages: std::net::SocketAddr,
    ready: impl Fn(&serde_json::Map<String, serde_json::Value>) -> bool,
    within: Duration,
) -> serde_json::Map<String, serde_json::Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (status, body) = qms_tests::http::get(pages, "/api/city/offices").await;
        let offices: serde_json::Map<String, serde_json::Value> = match status {
            200 => serde_json::from_str::<Vec<serde_json::Value>>(&body)
                .unwrap()
                .into_iter()
                .map(|o| (o["site"].as_str().unwrap().to_string(), o))
                .collect(),
            _ => Default::default(),
        };
        if ready(&offices) {
            return offices;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dashboard never showed it: {offices:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Where a test saves its screenshot of a city page, when `QMS_WRITE_EXAMPLES` is set.
fn example(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("QMS_WRITE_EXAMPLES")?;
    Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/city")
            .join(name),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_cut_off_for_60_s_keeps_serving_and_the_city_gets_it_all_in_order_once() {
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    if !city_available().await {
        return;
    }
    let cluster = NatsCluster::start(&["site-a", "site-b"]).await.unwrap();
    let db = TestDatabase::create().await;
    let _store = CityProcess::start(&cluster, &db);
    streams_made(&cluster).await;
    let (pages, _stop_pages) = city_pages(&cluster, &db).await;
    let a = BridgedOffice::start(&cluster, "site-a", "Công an phường Bến Thành").await;
    let b = BridgedOffice::start(&cluster, "site-b", "Công an xã Cần Giờ").await;
    serve_citizens(a.config.clone(), a.broker, 10).await;
    serve_citizens(b.config.clone(), b.broker, 12).await;
    let linked = |site: &'static str, state: &'static str| {
        move |offices: &serde_json::Map<String, serde_json::Value>| {
            offices.get(site).is_some_and(|o| o["state"] == state)
        }
    };
    offices_when(pages, linked("site-a", "ok"), Duration::from_secs(30)).await;

    // The link is cut: the office serves on, the city sees the link down.
    a.cut();
    let cut_at = tokio::time::Instant::now();
    offices_when(
        pages,
        linked("site-a", "link_down"),
        Duration::from_secs(30),
    )
    .await;
    serve_citizens(a.config.clone(), a.broker, 15).await;
    let during = a.seq();
    tokio::time::sleep_until(cut_at + Duration::from_secs(60)).await;
    let client = db.client().await;
    let (stored_during, _) = stored_up_to(&client, "site-a", during, Duration::ZERO).await;
    assert!(
        stored_during < during as i64,
        "nothing of the cut reached the city while it was cut ({stored_during} of {during})"
    );
    a.link();
    // One more citizen of A takes a ticket and follows it on a phone, at the city.
    let mut kiosk = qms_tests::client(&a.config, a.broker, "kiosk-1", &[]).await;
    let waiting = kiosk
        .send(Command::issue("cccd", None), WAIT)
        .await
        .unwrap();
    let follow_url = waiting.follow_url.clone().expect("the ticket's QR");
    let city_page = follow_url
        .strip_prefix(qms_tests::city::CITY_PUBLIC_URL)
        .expect("the QR points at the city")
        .to_string();

    let seq = a.seq();
    let (count, newest) = stored_up_to(&client, "site-a", seq, Duration::from_secs(90)).await;
    assert_eq!((count, newest), (seq as i64, seq as i64), "all of A, once");
    let in_arrival: Vec<i64> = client
        .query(
            "SELECT seq FROM events WHERE site = 'site-a' ORDER BY stream_seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        in_arrival,
        (1..=seq as i64).collect::<Vec<_>>(),
        "the city received A's events in order"
    );
    let b_seq = b.seq();
    assert_eq!(
        stored_up_to(&client, "site-b", b_seq, Duration::from_secs(30)).await,
        (b_seq as i64, b_seq as i64)
    );

    // The dashboard: both offices, linked again, with their day.
    let offices = offices_when(
        pages,
        // Today's figures are shared for 5 s.
        |o| {
            linked("site-a", "ok")(o)
                && o["site-a"]["waiting"] == 1
                && o["site-a"]["issued"] == 26
                && o["site-b"]["served"] == 12
        },
        Duration::from_secs(60),
    )
    .await;
    let office_a = &offices["site-a"];
    assert_eq!(office_a["name"], "Công an phường Bến Thành");
    assert_eq!(office_a["issued"], 26);
    assert_eq!(office_a["served"], 25);
    assert_eq!(office_a["satisfied_percent"], 100);
    assert_eq!(office_a["missing_events"], 0);
    assert_eq!(offices["site-b"]["served"], 12);
    assert_eq!(offices["site-b"]["waiting"], 0);

    // The transparency page names both wards and nothing personal.
    let (status, public) = qms_tests::http::get(pages, "/cong-khai").await;
    assert_eq!(status, 200);
    for name in ["Công an phường Bến Thành", "Công an xã Cần Giờ"] {
        assert!(public.contains(name), "{public}");
    }
    assert!(!public.contains("cb-"), "no officer on the public page");

    // The period across offices, and one office's own report, as its head reads it.
    let (status, across) = qms_tests::http::get(pages, "/bao-cao").await;
    assert_eq!(status, 200, "{across}");
    for name in ["Công an phường Bến Thành", "Công an xã Cần Giờ"] {
        assert!(across.contains(name), "{across}");
    }
    let (status, report) = qms_tests::http::get(pages, "/bao-cao/site-a").await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("Báo cáo tiếp nhận công dân"), "{report}");
    assert!(report.contains("Công an phường Bến Thành"), "{report}");
    let (status, _) = qms_tests::http::get(pages, "/bao-cao?from=2026-12-09&to=2026-12-01").await;
    assert_eq!(status, 400, "a period that ends before it starts");

    // The citizen's page of A's waiting ticket, at the city.
    let (status, page) = qms_tests::http::get(pages, &city_page).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Công an phường Bến Thành"), "{page}");
    let mut events =
        qms_tests::http::EventStream::open(pages, &format!("{city_page}/events")).await;
    let (name, data) = events.next().await.expect("the ticket's state");
    assert_eq!(name, "ticket");
    let ticket: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(ticket["state"], "waiting", "{ticket}");
    assert_eq!(
        ticket["label"],
        waiting.ticket.as_ref().unwrap().label.as_str()
    );
    assert_eq!(ticket["ask_rating"], false, "the city takes no rating");
    let forged = format!("/site-a/t/{}", "A".repeat(22));
    assert_eq!(qms_tests::http::get(pages, &forged).await.0, 404);

    // As people see them.
    if let Some(browser) = qms_tests::browser::Browser::start(1280, 800).await {
        let base = format!("http://{pages}");
        browser.goto(&format!("{base}/")).await;
        let rows = browser
            .script("return document.querySelectorAll('tbody tr').length")
            .await;
        assert_eq!(rows, 2, "the dashboard lists both offices");
        if let Some(path) = example("dashboard.png") {
            browser.screenshot(&path).await;
        }
        browser.goto(&format!("{base}/cong-khai")).await;
        if let Some(path) = example("cong-khai.png") {
            browser.screenshot(&path).await;
        }
        browser.goto(&format!("{base}/bao-cao")).await;
        if let Some(path) = example("bao-cao.png") {
            browser.screenshot(&path).await;
        }
        browser.close().await;
    }
    // The dashboard on the wall of the city's operations room.
    if let Some(tv) = qms_tests::browser::Browser::start(1920, 1080).await {
        tv.goto(&format!("http://{pages}/")).await;
        let cells = tv
            .script("return document.querySelectorAll('tbody tr td').length")
            .await;
        assert_eq!(cells, 20, "ten columns for each office");
        if let Some(path) = example("dashboard-1920x1080.png") {
            tv.screenshot(&path).await;
        }
        tv.close().await;
    }
    if let Some(phone) = qms_tests::browser::Browser::start(390, 844).await {
        phone.goto(&format!("http://{pages}{city_page}")).await;
        phone
            .wait_for_text("#detail", |t| t.contains("người tiếp theo"))
            .await;
        if let Some(path) = example("citizen-page.png") {
            phone.screenshot(&path).await;
        }
        phone.close().await;
    }
    kiosk.close().await;
    // B's authority stops: the city sees it.
    let mut b = b;
    b.authority.take().unwrap().stop().await;
    offices_when(
        pages,
        linked("site-b", "authority_down"),
        Duration::from_secs(30),
    )
    .await;
    if let Some(authority) = a.authority {
        authority.stop().await;
    }
}

#[tokio::test]
async fn the_schema_is_migrated_once_by_replicas_starting_together_and_a_newer_one_is_refused() {
    if !qms_tests::city::postgres_available().await {
        return;
    }
    let db = TestDatabase::create().await;
    let (mut one, mut two) = (db.client().await, db.client().await);
    let (first, second) = tokio::join!(
        qms_city::schema::migrate(&mut one),
        qms_city::schema::migrate(&mut two)
    );
    let mut applied = [first.unwrap(), second.unwrap()];
    applied.sort();
    let all: Vec<i32> = qms_city::schema::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(applied, [vec![], all], "one of them migrated, once");
    assert_eq!(
        qms_city::schema::version(&one).await.unwrap(),
        qms_city::schema::newest()
    );
    assert!(qms_city::schema::migrate(&mut one)
        .await
        .unwrap()
        .is_empty());
    one.execute(
        "INSERT INTO qms_schema (version, name) VALUES ($1, 'from a newer qms')",
        &[&(qms_city::schema::newest() + 1)],
    )
    .await
    .unwrap();
    let refused = qms_city::schema::migrate(&mut one).await.unwrap_err();
    assert!(
        refused.to_string().contains("this qms knows up to"),
        "{refused}"
    );
}

#[tokio::test]
async fn an_event_stored_again_is_stored_once_and_another_under_its_seq_is_kept_apart() {
    if !qms_tests::city::postgres_available().await {
        return;
    }
    use qms_city::store::{store, Incoming, Stored};
    let db = TestDatabase::create().await;
    let mut client = db.client().await;
    qms_city::schema::migrate(&mut client).await.unwrap();
    let hcm = time::macros::offset!(+7);
    let event = |seq: u64, counter: u16, stream_seq: u64| {
        let body = format!(
            r#"{{"v":1,"seq":{seq},"at":"2026-12-02T02:00:00Z","type":"counter_paused","counter":{counter}}}"#
        );
        Incoming::read("qms.v1.p-1.events", body.as_bytes(), stream_seq, hcm)
    };
    let first = store(
        &mut client,
        &[event(1, 1, 1), event(2, 1, 2), event(4, 1, 3)],
    )
    .await
    .unwrap();
    assert_eq!(first.new, 3);
    // A bridge's resend (twice in one batch), a wiped office's new seq 2, and junk.
    let junk = Incoming::read("qms.v1.p-1.events", b"{oops", 7, hcm);
    let again = store(
        &mut client,
        &[event(1, 1, 4), event(1, 1, 5), event(2, 9, 6), junk.clone()],
    )
    .await
    .unwrap();
    assert_eq!(
        again,
        Stored {
            new: 0,
            again: 2,
            conflicts: 1,
            rejected: 1
        }
    );
    // Redelivered, the junk is kept once.
    store(&mut client, &[junk]).await.unwrap();
    let count = |table: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(
        (
            count("events").await,
            count("conflicts").await,
            count("rejected").await
        ),
        (3, 1, 1)
    );
    let kept: String = client
        .query_one("SELECT body->>'counter' FROM events WHERE seq = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, "1", "the first event under a seq stays");
    let gaps = qms_city::store::gaps(&client).await.unwrap();
    assert_eq!(
        gaps,
        [qms_city::store::Gap {
            site: "p-1".into(),
            first: 3,
            last: 3
        }]
    );
    let gaps = qms_city_gaps(&db.conninfo());
    assert!(gaps.status.success());
    assert_eq!(String::from_utf8_lossy(&gaps.stdout), "p-1\t3–3\n");
    let empty = TestDatabase::create().await;
    let refused = qms_city_gaps(&empty.conninfo());
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`qms city store` makes its tables"),
        "{refused:?}"
    );
}

/// `qms city gaps` on database `conninfo`.
fn qms_city_gaps(conninfo: &str) -> std::process::Output {
    std::process::Command::new(qms_tests::qms_node())
        .args(["city", "gaps", "--postgres", conninfo])
        .output()
        .expect("qms runs")
}
