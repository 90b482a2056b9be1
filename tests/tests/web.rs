//! `qms web` end to end: the board page and its event stream over real HTTP, fed by a
//! real broker and authority; commands sent as the kiosk and counter devices do.

use std::net::SocketAddr;
use std::sync::Arc;

use qms::device::DeviceClient;
use qms_core::protocol::{Command, Reply, Ticket, TicketState};
use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::browser::Browser;
use qms_tests::http::{get, https_request, press, request, sign_in, EventStream};
use qms_tests::{
    client, office, options_for, start_broker, Authority, BrokerKind, BrokerProcess, WAIT,
};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Where a test saves its screenshot of a page, when `QMS_WRITE_EXAMPLES` is set.
fn example(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("QMS_WRITE_EXAMPLES")?;
    Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/web")
            .join(name),
    )
}

/// The office with `qms web` in front of it, on a free port.
struct WebOffice {
    config: SiteConfig,
    authority: Authority,
    /// Where the pages are served.
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    /// Kiosk 1, counter 1's console and the office head's tools, as their devices.
    kiosk: DeviceClient,
    counter: DeviceClient,
    admin: DeviceClient,
    /// The token of the API's one integration, "mot-cua".
    api_token: String,
    _store: tempfile::TempDir,
}

impl WebOffice {
    /// With the embedded broker in this process.
    async fn start() -> WebOffice {
        let (broker, _) = start_broker(BrokerKind::Embedded);
        WebOffice::start_at(broker).await
    }

    /// With the broker at `broker`.
    async fn start_at(broker: SocketAddr) -> WebOffice {
        WebOffice::start_changed(broker, |_| {}).await
    }

    /// With the embedded broker, the office changed by `change` first.
    async fn start_with(change: impl FnOnce(&mut SiteConfig)) -> WebOffice {
        let (broker, _) = start_broker(BrokerKind::Embedded);
        WebOffice::start_changed(broker, change).await
    }

    async fn start_changed(broker: SocketAddr, change: impl FnOnce(&mut SiteConfig)) -> WebOffice {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = office();
        config.web.public_url = Some(format!("http://{addr}"));
        let (api_token, token_hash) = qms_core::secret::TokenHash::new_token();
        config.web.tokens.push(qms_core::config::ApiToken {
            name: "mot-cua".into(),
            token_hash,
        });
        // The head alone: counters stay staffed by their consoles.
        config.officers.push(qms_core::config::Officer {
            id: "truong-cong-an".into(),
            name: "Đỗ Minh Trưởng".into(),
            pin_hash: qms_core::secret::PinHash::of("1357"),
            head: true,
        });
        change(&mut config);
        let store = tempfile::tempdir().unwrap();
        let authority =
            Authority::start(&config, broker, store.path(), Arc::new(SystemClock)).await;
        let (stop, stopped) = oneshot::channel::<()>();
        let mut bus = options_for(&config, broker, "web");
        bus.reconnect_delay = std::time::Duration::from_millis(50);
        let server = tokio::spawn(qms_web::serve(
            listener.into(),
            Arc::new(config.clone()),
            bus,
            async {
                let _ = stopped.await;
            },
        ));
        WebOffice {
            kiosk: client(&config, broker, "kiosk-1", &[]).await,
            counter: client(&config, broker, "counter-1", &[]).await,
            admin: client(&config, broker, "admin", &[]).await,
            api_token,
            config,
            authority,
            addr,
            stop: Some(stop),
            server,
            _store: store,
        }
    }

    /// A ticket taken at kiosk 1.
    async fn issue(&mut self, procedure: &str) -> Reply {
        let issued = self.kiosk.send(Command::issue(procedure, None), WAIT).await;
        issued.unwrap()
    }

    /// `command` at counter 1's console, which must be carried out.
    async fn at_counter_1(&mut self, command: Command) -> Reply {
        let reply = self.counter.send(command, WAIT).await.unwrap();
        assert!(reply.ok, "{reply:?}");
        reply
    }

    /// Today's tickets, as the office head's tools list them.
    async fn tickets(&mut self) -> Vec<Ticket> {
        let listed = self.admin.send(Command::todays_tickets(), WAIT).await;
        listed.unwrap().tickets.expect("a list")
    }

    /// Stops the server, if it still runs, the clients and the authority.
    async fn finish(mut self) {
        if self.stop.is_some() {
            self.stop_server().await;
        }
        self.kiosk.close().await;
        self.counter.close().await;
        self.admin.close().await;
        self.authority.stop().await;
    }

    /// A ticket issued at kiosk 1 and called at counter 1: its number.
    async fn issue_and_call(&mut self) -> String {
        let label = self.issue("cccd").await.ticket.expect("a ticket").label;
        self.at_counter_1(Command::CallNext {
            counter: Some(1),
            dossier: None,
        })
        .await;
        label
    }

    /// Stops the server and waits until it has.
    async fn stop_server(&mut self) {
        self.stop.take().expect("running").send(()).unwrap();
        timeout(WAIT, &mut self.server)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_at_a_counter_reaches_the_board_page_without_reload() {
    let mut office = WebOffice::start().await;
    let addr = office.addr;
    let (status, page) = get(addr, "/board").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"vi\">") && page.contains("Số vừa gọi"));
    let (status, script) = get(addr, "/static/board.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("Qms.follow(\"/board/events\""));
    let (status, missing) = get(addr, "/bang-goi-so").await;
    assert_eq!(status, 404);
    assert!(missing.contains("Không có trang này"), "{missing}");

    let mut events = EventStream::open(addr, "/board/events").await;
    let mut seq = 0;
    // Connected, and the authority's heartbeat heard: no red band.
    let fresh = events.board(&mut seq, |v| v["stale"] == "").await;
    assert_eq!(fresh["office"], office.config.site.name);
    assert_eq!(fresh["calling"], serde_json::Value::Null);

    let label = office.issue_and_call().await;
    let shown = events
        .board(&mut seq, |v| v["calling"]["label"] == label.as_str())
        .await;
    assert_eq!(shown["calling"]["heading"], "XIN MỜI SỐ");
    assert_eq!(shown["calling"]["counter"], "Quầy 1");
    assert_eq!(shown["highlight"], true);
    assert!(shown["counters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "Quầy 1" && c["shows"] == label.as_str()));

    office
        .at_counter_1(Command::Recall { counter: Some(1) })
        .await;
    let recalled = events
        .board(&mut seq, |v| v["calling"]["heading"] == "MỜI LẠI")
        .await;
    let urls: Vec<&str> = recalled["voice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        ["/board/voice/1.wav", "/board/voice/2.wav"],
        "the call, then its recall"
    );
    let wav = request(addr, "GET", "/board/voice/2.wav", &[], "").await;
    assert_eq!(wav.status, 200);
    assert_eq!(wav.header("content-type"), Some("audio/wav"));

    // Stopped, the server ends every page's stream and returns.
    office.stop_server().await;
    timeout(WAIT, async { while events.next().await.is_some() {} })
        .await
        .expect("the stream ends");
    office.finish().await;
}

/// The board page in Chromium: a call made at a counter shows on it without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_call_shows_on_the_board_page_without_reload() {
    let Some(browser) = Browser::start(1920, 1080).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    browser.goto(&format!("http://{}/board", office.addr)).await;
    let name = office.config.site.name.clone();
    browser.wait_for_text("#office", |t| t == name).await;
    // Connected and the authority heard: the band is hidden, so it shows no text.
    browser.wait_for_text("#stale", str::is_empty).await;
    assert_eq!(browser.text("#number").await.as_deref(), Some("—"));

    let label = office.issue_and_call().await;
    browser.wait_for_text("#number", |t| t == label).await;
    assert_eq!(browser.text("#to").await.as_deref(), Some("→ Quầy 1"));
    assert_eq!(
        browser.text("#heading").await.as_deref(),
        Some("XIN MỜI SỐ")
    );
    if let Some(path) = example("board-1920x1080.png") {
        browser.screenshot(&path).await;
    }

    // The server goes away: the page says so by itself, with no reload.
    office.stop_server().await;
    browser
        .wait_for_text("#stale", |t| t.starts_with("MẤT KẾT NỐI"))
        .await;
    browser.close().await;
    office.finish().await;
}

/// The board page in Chromium while the broker is killed and started again: the red band
/// comes, then goes by itself, with no reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_board_page_goes_stale_then_fresh_across_a_broker_restart() {
    let Some(browser) = Browser::start(1280, 720).await else {
        return;
    };
    let mut broker = BrokerProcess::start(BrokerKind::Embedded);
    let office = WebOffice::start_at(broker.addr).await;
    browser.goto(&format!("http://{}/board", office.addr)).await;
    browser.wait_for_text("#stale", str::is_empty).await;

    broker.kill();
    browser
        .wait_for_text("#stale", |t| t.starts_with("MẤT KẾT NỐI"))
        .await;
    if let Some(path) = example("board-stale-1280x720.png") {
        browser.screenshot(&path).await;
    }
    broker.restart();
    browser.wait_for_text("#stale", str::is_empty).await;
    let name = office.config.site.name.clone();
    assert_eq!(browser.text("#office").await, Some(name));

    browser.close().await;
    office.finish().await;
}

/// Signed in at counter 3, a browser has counter 3's rights and no others: a forged
/// press for counter 4 is refused, so is one without the session's CSRF token, and the
/// same press sent twice calls one citizen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signed_in_at_counter_3_cannot_act_for_counter_4() {
    let mut office = WebOffice::start().await;
    let addr = office.addr;
    let call_next = |turn: &serde_json::Value| json!({"action": "call_next", "turn": turn});

    let (status, page) = get(addr, "/counter/3").await;
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/counter/3/sign-in\""), "{page}");
    assert!(page.contains("Màn hình cán bộ · Quầy 3"), "{page}");
    let (status, refused) = press(addr, "/counter/3", "", "", call_next(&json!(0))).await;
    assert_eq!(status, 401, "not signed in: {refused}");
    assert_eq!(get(addr, "/counter/99").await.0, 404);
    assert_eq!(get(addr, "/counter/ba").await.0, 404);

    let (cookie, csrf) = sign_in(addr, "/counter/3", "").await;
    let mut screens = EventStream::open_with(addr, "/counter/3/events", &cookie).await;
    let first = screens.screen(|s| s["online"] == true).await;
    assert_eq!(first["counter_name"], "Quầy 3");

    let issued = office.issue("cu-tru").await;
    let ticket = issued.ticket.expect("a ticket");
    let listed = screens
        .screen(|s| s["waiting"].as_array().is_some_and(|w| w.len() == 1))
        .await;
    let turn = listed["turn"].clone();

    // Counter 4 serves the same procedure: a session of counter 3 cannot call for it.
    let (status, refused) = press(addr, "/counter/4", &cookie, &csrf, call_next(&turn)).await;
    assert_eq!(status, 403);
    assert!(
        refused["error"].as_str().unwrap().contains("Quầy 3"),
        "{refused}"
    );
    let other = request(addr, "GET", "/counter/4/events", &[("Cookie", &cookie)], "").await;
    assert_eq!(other.status, 403);
    let rating = request(addr, "GET", "/rating/3/events", &[("Cookie", &cookie)], "").await;
    assert_eq!(rating.status, 403, "a console session is no rating screen");
    let (status, _) = press(addr, "/counter/3", &cookie, "guessed", call_next(&turn)).await;
    assert_eq!(status, 403, "without the session's CSRF token");
    let (status, bad) = press(
        addr,
        "/counter/3",
        &cookie,
        &csrf,
        json!({"action": "launch", "turn": 0}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .starts_with("Yêu cầu không hợp lệ"),
        "{bad}"
    );

    let mut board = EventStream::open(addr, "/board/events").await;
    let (status, sent) = press(addr, "/counter/3", &cookie, &csrf, call_next(&turn)).await;
    assert_eq!((status, &sent), (200, &json!({"sent": true})));
    let (status, again) = press(addr, "/counter/3", &cookie, &csrf, call_next(&turn)).await;
    assert_eq!(
        (status, &again),
        (200, &json!({"sent": false})),
        "the same press twice"
    );
    let called = screens
        .screen(|s| s["serving"]["label"] == ticket.label.as_str())
        .await;
    assert_eq!(
        called["result"]["text"],
        format!("Đã gọi số {}", ticket.label)
    );
    let mut seq = 0;
    board
        .board(&mut seq, |v| {
            v["calling"]["label"] == ticket.label.as_str() && v["calling"]["counter"] == "Quầy 3"
        })
        .await;

    // A second citizen, and the repeat of the first press still calls nobody.
    office.issue("cu-tru").await;
    screens
        .screen(|s| s["waiting"].as_array().is_some_and(|w| w.len() == 1))
        .await;
    let (_, late) = press(addr, "/counter/3", &cookie, &csrf, call_next(&turn)).await;
    assert_eq!(
        late,
        json!({"sent": false}),
        "made on a screen since answered"
    );
    let states: Vec<TicketState> = office.tickets().await.iter().map(|t| t.state).collect();
    assert_eq!(states, [TicketState::Called, TicketState::Waiting]);

    // Signed out, the cookie is worth nothing.
    let out = request(
        addr,
        "POST",
        "/counter/3/sign-out",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let (status, _) = press(addr, "/counter/3", &cookie, &csrf, call_next(&json!(2))).await;
    assert_eq!(status, 401);

    office.finish().await;
}

/// The console page in Chromium: signed in, a double click on "Gọi số tiếp" calls
/// one citizen, and the call is on the board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_double_click_at_the_counter_page_calls_one_citizen() {
    let Some(browser) = Browser::start(1366, 768).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    let mut labels = Vec::new();
    for _ in 0..2 {
        let issued = office.issue("cccd").await;
        labels.push(issued.ticket.expect("a ticket").label);
    }
    browser
        .goto(&format!("http://{}/counter/2", office.addr))
        .await;
    browser
        .wait_for_text("h1", |t| t == "Màn hình cán bộ · Quầy 2")
        .await;
    if let Some(path) = example("counter-sign-in.png") {
        browser.screenshot(&path).await;
    }
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#waiting-count", |t| t == "(2)")
        .await;
    browser.wait_for_text("#stale", str::is_empty).await;
    let mut board = EventStream::open(office.addr, "/board/events").await;

    browser.double_click("#call_next").await;
    browser
        .wait_for_text("#serving-label", |t| t == labels[0])
        .await;
    browser
        .wait_for_text("#result", |t| t == format!("Đã gọi số {}", labels[0]))
        .await;
    let mut seq = 0;
    board
        .board(&mut seq, |v| v["calling"]["label"] == labels[0].as_str())
        .await;
    // The desk takes presses in order: had the second click called anyone, the recall
    // after it would name that citizen.
    browser.click("#recall").await;
    browser
        .wait_for_text("#result", |t| t == format!("Đã gọi lại số {}", labels[0]))
        .await;
    assert_eq!(browser.text("#waiting-count").await.as_deref(), Some("(1)"));
    if let Some(path) = example("counter.png") {
        browser.screenshot(&path).await;
        browser.click("#open_transfer").await;
        browser
            .wait_for_text("#transfer-procedures button", |t| !t.is_empty())
            .await;
        browser
            .screenshot(&path.with_file_name("counter-transfer.png"))
            .await;
    }

    browser.close().await;
    office.finish().await;
}

/// The rating page in Chromium: after the counter completes a citizen, the three faces;
/// one tap sends one rating, recorded with the ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_rating_page_asks_once_and_the_rating_is_recorded() {
    let Some(browser) = Browser::start(1280, 800).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    browser
        .goto(&format!("http://{}/rating/1", office.addr))
        .await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#idle h1", |t| t == "Kính chào ông/bà")
        .await;

    let label = office.issue_and_call().await;
    office
        .at_counter_1(Command::Complete {
            counter: Some(1),
            dossier: None,
        })
        .await;
    browser.wait_for_text("#label", |t| t == label).await;
    if let Some(path) = example("rating.png") {
        browser.screenshot(&path).await;
    }
    browser.click(".face.satisfied").await;
    browser
        .wait_for_text("#thanks h1", |t| t == "Cảm ơn ông/bà!")
        .await;

    let rated = timeout(WAIT, async {
        loop {
            if let Some(rating) = office.tickets().await[0].rating {
                return rating;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the rating is recorded");
    assert_eq!(rated, qms_core::protocol::Rating::Satisfied);

    browser.close().await;
    office.finish().await;
}

/// `qms web` with the HTTPS certificate `qms broker setup` makes: signing in over TLS
/// gives a cookie that is only ever sent back over HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_with_the_office_certificate_a_sign_in_gives_a_secure_cookie() {
    let (broker, _) = start_broker(BrokerKind::Embedded);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, broker, store.path(), Arc::new(SystemClock)).await;
    let files = tempfile::tempdir().unwrap();
    let setup = qms::broker_setup::SetupOptions {
        out: files.path().to_path_buf(),
        hosts: vec!["127.0.0.1".into()],
        lan_port: 8883,
        loopback_port: 1883,
        tls: true,
        require_client_certificates: false,
        broker_user: "mosquitto".into(),
    };
    let mut for_mosquitto = config.clone();
    for_mosquitto.broker.embedded = false;
    qms::broker_setup::setup(&for_mosquitto, &setup).expect("the office's files are made");
    let acceptor =
        qms_web::https::acceptor(&files.path().join("web.crt"), &files.path().join("web.key"))
            .expect("the web certificate loads");
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = https.local_addr().unwrap();
    let listeners = qms_web::Listeners {
        http,
        https: Some(qms_web::https::HttpsListener {
            listener: https,
            acceptor,
        }),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(qms_web::serve(
        listeners,
        Arc::new(config.clone()),
        options_for(&config, broker, "web"),
        async {
            let _ = stopped.await;
        },
    ));
    let ca = files.path().join("ca.crt");

    let page = https_request(addr, &ca, "GET", "/counter/3", &[], "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/counter/3/sign-in\""),
        "{}",
        page.body
    );
    let signed = https_request(
        addr,
        &ca,
        "POST",
        "/counter/3/sign-in",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "password=",
    )
    .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let cookie = signed.header("set-cookie").expect("a session cookie");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let board = https_request(addr, &ca, "GET", "/board", &[], "").await;
    assert_eq!(board.status, 200);

    stop.send(()).unwrap();
    timeout(WAIT, server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    authority.stop().await;
}

/// The citizen's page of a ticket, from the address its QR holds: live through the call,
/// the recall and the completion, then one rating; a token of no ticket gets a page that
/// says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_page_follows_its_ticket_to_the_end_and_sends_one_rating() {
    let mut office = WebOffice::start().await;
    let addr = office.addr;
    let issued = office.issue("cccd").await;
    let ticket = issued.ticket.expect("a ticket");
    let url = issued.follow_url.expect("the QR's address");
    let path = url
        .strip_prefix(&format!("http://{addr}"))
        .expect("on public_url");
    let token = path.strip_prefix("/t/").unwrap();
    assert_eq!(token.len(), 22);
    assert!(
        !token.contains(&ticket.label),
        "the token is not the number"
    );

    let (status, page) = get(addr, path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("data-base=\"/t/{token}\"")),
        "{page}"
    );
    let mut follow = EventStream::open(addr, &format!("{path}/events")).await;
    let waiting = follow.state("ticket", |t| t["state"] == "waiting").await;
    assert_eq!(waiting["label"], ticket.label.as_str());
    assert_eq!(waiting["detail"], "Ông/bà là người tiếp theo.");

    office
        .at_counter_1(Command::CallNext {
            counter: Some(1),
            dossier: None,
        })
        .await;
    let called = follow.state("ticket", |t| t["state"] == "called").await;
    assert_eq!(called["headline"], "Mời ông/bà đến Quầy 1");
    office
        .at_counter_1(Command::Recall { counter: Some(1) })
        .await;
    let recalled = follow
        .state("ticket", |t| t["headline"] == "Mời lại ông/bà đến Quầy 1")
        .await;
    assert_ne!(
        recalled["call"], called["call"],
        "a recall vibrates the phone again"
    );
    office
        .at_counter_1(Command::Complete {
            counter: Some(1),
            dossier: None,
        })
        .await;
    let done = follow.state("ticket", |t| t["state"] == "done").await;
    assert_eq!(done["ask_rating"], true);

    let rate = |rating: &str| {
        let body = json!({ "rating": rating }).to_string();
        async move {
            request(
                addr,
                "POST",
                &format!("{path}/rate"),
                &[("Content-Type", "application/json")],
                &body,
            )
            .await
        }
    };
    let first = rate("satisfied").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = rate("unsatisfied").await;
    assert_eq!(second.status, 409, "one rating: {}", second.body);
    let rated = follow.state("ticket", |t| t["ask_rating"] == false).await;
    assert_eq!(rated["detail"], "Ông/bà đã đánh giá: hài lòng.");
    let rating = office.tickets().await[0].rating;
    assert_eq!(rating, Some(qms_core::protocol::Rating::Satisfied));

    let (status, unknown) = get(addr, "/t/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, 404);
    assert!(unknown.contains("Không tìm thấy phiếu"), "{unknown}");
    let (status, _) = get(addr, &format!("/t/{}", ticket.id)).await;
    assert_eq!(status, 404, "a ticket's id opens nothing");

    office.finish().await;
}

/// The citizen's page on a phone-sized Chromium: the call made at the counter's page
/// shows on it without a reload, as it does on the board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_call_at_the_counter_page_reaches_the_citizens_phone() {
    let Some(phone) = Browser::start(412, 915).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    let addr = office.addr;
    let mut labels = Vec::new();
    for _ in 0..3 {
        let issued = office.issue("cccd").await;
        labels.push((issued.ticket.unwrap().label, issued.follow_url.unwrap()));
    }
    let (label, url) = &labels[2];
    phone.goto(url).await;
    phone.wait_for_text("#label", |t| t == label).await;
    phone
        .wait_for_text("#detail", |t| t.starts_with("Trước ông/bà: 2 người"))
        .await;
    if let Some(path) = example("ticket-waiting-412x915.png") {
        phone.screenshot(&path).await;
    }

    let (cookie, csrf) = sign_in(addr, "/counter/1", "").await;
    let mut screens = EventStream::open_with(addr, "/counter/1/events", &cookie).await;
    let mut board = EventStream::open(addr, "/board/events").await;
    let mut seq = 0;
    for _ in 0..3 {
        let ready = screens
            .screen(|s| {
                s["online"] == true
                    && s["busy"] == false
                    && s["waiting"].as_array().is_some_and(|w| !w.is_empty())
            })
            .await;
        let (_, sent) = press(
            addr,
            "/counter/1",
            &cookie,
            &csrf,
            json!({"action": "call_next", "turn": ready["turn"]}),
        )
        .await;
        assert_eq!(sent, json!({"sent": true}));
        screens
            .screen(|s| s["busy"] == false && s["turn"] != ready["turn"])
            .await;
    }
    board
        .board(&mut seq, |v| v["calling"]["label"] == label.as_str())
        .await;
    phone
        .wait_for_text("#headline", |t| t == "Mời ông/bà đến Quầy 1")
        .await;
    if let Some(path) = example("ticket-called-412x915.png") {
        phone.screenshot(&path).await;
        phone
            .goto(&format!("http://{addr}/t/AAAAAAAAAAAAAAAAAAAAAA"))
            .await;
        phone
            .wait_for_text("h1", |t| t == "Không tìm thấy phiếu")
            .await;
        phone
            .screenshot(&path.with_file_name("ticket-unknown-412x915.png"))
            .await;
    }

    phone.close().await;
    office.finish().await;
}

/// The board page's voice in a Chromium that plays no sound before a tap, as a TV's
/// browser may: one "Bấm để bật âm thanh", then every call spoken once, in order, each
/// after the one before ended (a call lasts about twelve seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_board_page_asks_once_for_sound_then_speaks_each_call_in_order() {
    let flags = ["--autoplay-policy=document-user-activation-required"];
    let Some(browser) = Browser::start_with(1080, 1920, &flags).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    browser.goto(&format!("http://{}/board", office.addr)).await;
    browser
        .wait_for_text("#sound", |t| t == "Bấm để bật âm thanh gọi số")
        .await;
    browser.click("#sound").await;
    browser.wait_for_text("#sound", str::is_empty).await;

    office.issue("cccd").await;
    // A call and its recall at once: the recall waits for the call's twelve seconds.
    office
        .at_counter_1(Command::CallNext {
            counter: Some(1),
            dossier: None,
        })
        .await;
    office
        .at_counter_1(Command::Recall { counter: Some(1) })
        .await;
    let spoken = timeout(WAIT * 4, async {
        loop {
            let spoken = browser.script("return Qms.spoken;").await;
            if spoken.as_array().is_some_and(|s| s.len() >= 2) {
                return spoken;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("both calls are spoken");
    assert_eq!(spoken, json!([1, 2]), "each call once, in order");
    assert_eq!(browser.text("#heading").await.as_deref(), Some("MỜI LẠI"));
    if let Some(path) = example("board-recall-1080x1920.png") {
        browser.screenshot(&path).await;
    }

    browser.close().await;
    office.finish().await;
}

/// The API's answer to GET `path` with `authorization`, its body as JSON.
async fn api_get(
    addr: SocketAddr,
    path: &str,
    authorization: &str,
) -> (u16, serde_json::Value, String) {
    let headers = [("Authorization", authorization)];
    let headers: &[(&str, &str)] = if authorization.is_empty() {
        &[]
    } else {
        &headers
    };
    let answer = request(addr, "GET", path, headers, "").await;
    let body = serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {}", answer.body));
    (answer.status, body, answer.head)
}

/// The schema the document gives for `path`'s answer with `status`.
fn response_schema(document: &serde_json::Value, path: &str, status: u16) -> serde_json::Value {
    let route = path.split('?').next().unwrap();
    let mut response = document["paths"][route]["get"]["responses"][status.to_string()].clone();
    if let Some(reference) = response.get("$ref").and_then(|r| r.as_str()) {
        response = document
            .pointer(reference.trim_start_matches('#'))
            .unwrap()
            .clone();
    }
    match response.pointer("/content/application~1json/schema") {
        Some(schema) => schema.clone(),
        // A route the document does not have answers with its Error.
        None => json!({"$ref": "#/components/schemas/Error"}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_every_route_as_its_openapi_document_says() {
    let mut office = WebOffice::start().await;
    office.issue("cccd").await;
    office.issue("cccd").await;
    office
        .at_counter_1(Command::CallNext {
            counter: None,
            dossier: None,
        })
        .await;
    let dossier = "000.00.14.H29-261126-0001";
    office
        .at_counter_1(Command::Complete {
            counter: None,
            dossier: Some(dossier.into()),
        })
        .await;
    let addr = office.addr;
    let (status, document, _) = api_get(addr, "/api/openapi.json", "").await;
    assert_eq!(status, 200);
    let kept = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/openapi.json"));
    let kept: serde_json::Value = serde_json::from_str(&kept.unwrap()).unwrap();
    assert_eq!(
        document, kept,
        "the server serves the document kept in the repository"
    );
    let today = office
        .config
        .site
        .business_day(time::OffsetDateTime::now_utc())
        .to_string();
    let bearer = format!("Bearer {}", office.api_token);
    let cases: Vec<(String, u16)> = vec![
        ("/api/v1/tickets".into(), 200),
        (format!("/api/v1/tickets?day={today}"), 200),
        (format!("/api/v1/tickets?dossier={dossier}"), 200),
        (format!("/api/v1/report?from={today}&to={today}"), 200),
        ("/api/v1/tickets?day=26-11-2026".into(), 400),
        (
            "/api/v1/tickets?dossier=m%C3%A3%20h%E1%BB%93%20s%C6%A1".into(),
            400,
        ),
        (
            format!("/api/v1/tickets?day={today}&dossier={dossier}"),
            400,
        ),
        ("/api/v1/tickets?colour=red".into(), 400),
        ("/api/v1/report?from=2026-11-30&to=2026-11-01".into(), 400),
        ("/api/v1/report?from=2025-01-01&to=2026-11-01".into(), 400),
        ("/api/v1/report?from=2026-11-01".into(), 400),
        ("/api/v1/report".into(), 400),
        ("/api/v1/nothing-here".into(), 404),
    ];
    let mut answered = std::collections::BTreeMap::new();
    for (path, expected) in &cases {
        let (status, body, _) = api_get(addr, path, &bearer).await;
        assert_eq!(status, *expected, "GET {path}: {body}");
        let schema = response_schema(&document, path, status);
        let problems = qms_tests::schema::problems(&document, &schema, &body);
        assert!(
            problems.is_empty(),
            "GET {path} ({status}): {problems:?}\n{body}"
        );
        if status >= 400 {
            assert!(
                !body["message"].as_str().unwrap().is_empty(),
                "{path}: {body}"
            );
        }
        answered.insert(path.clone(), body);
    }
    let documented: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    for route in documented.iter().filter(|r| r.starts_with("/api/v1/")) {
        assert!(
            cases
                .iter()
                .any(|(p, s)| p.split('?').next() == Some(route.as_str()) && *s == 200),
            "{route} is documented and tried"
        );
        for authorization in ["", "Bearer not-the-token", "Basic bW90LWN1YTp4"] {
            let (status, body, head) = api_get(addr, route, authorization).await;
            assert_eq!(status, 401, "{route} with {authorization:?}: {body}");
            assert!(
                head.to_lowercase().contains("www-authenticate: bearer"),
                "{head}"
            );
            let schema = response_schema(&document, route, 401);
            assert!(qms_tests::schema::problems(&document, &schema, &body).is_empty());
        }
    }
    let today_tickets = &answered["/api/v1/tickets"]["tickets"];
    assert_eq!(today_tickets.as_array().unwrap().len(), 2);
    let found = &answered[&format!("/api/v1/tickets?dossier={dossier}")]["tickets"];
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["dossier"], dossier);
    assert_eq!(found[0]["state"], "completed");
    let report = &answered[&format!("/api/v1/report?from={today}&to={today}")];
    assert_eq!(report["total"]["issued"], 2);
    assert_eq!(report["total"]["served"], 1);
    office.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_signs_in_with_a_pin_and_reads_the_report_and_its_csv() {
    let mut office = WebOffice::start().await;
    office.issue_and_call().await;
    let addr = office.addr;
    let (status, page) = get(addr, "/report").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Đỗ Minh Trưởng") && page.contains("name=\"pin\""),
        "{page}"
    );
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let wrong = request(
        addr,
        "POST",
        "/report/sign-in",
        &form,
        "officer=truong-cong-an&pin=0000",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("mã PIN không đúng"), "{}", wrong.body);
    let right = request(
        addr,
        "POST",
        "/report/sign-in",
        &form,
        "officer=truong-cong-an&pin=1357",
    )
    .await;
    assert_eq!(right.status, 303, "{}", right.body);
    let cookie = right
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let signed_in = [("Cookie", cookie.as_str())];
    let today = office
        .config
        .site
        .business_day(time::OffsetDateTime::now_utc())
        .to_string();
    let report = request(
        addr,
        "GET",
        &format!("/report?from={today}&to={today}"),
        &signed_in,
        "",
    )
    .await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(report.body.contains("Báo cáo tiếp nhận công dân"));
    assert!(report.body.contains("<svg"), "the charts are in the page");
    assert!(report.body.contains("class=\"toolbar\""));
    let csv = request(
        addr,
        "GET",
        &format!("/report.csv?from={today}&to={today}"),
        &signed_in,
        "",
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'), "Excel's byte-order mark");
    let mut reader = csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
    let total = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "Tổng")
        .expect("a total row");
    assert_eq!(&total[2], "1", "one ticket issued");
    let bad = request(addr, "GET", "/report?from=26/11/2026", &signed_in, "").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("không phải là ngày"), "{}", bad.body);
    let (status, page) = get(addr, "/report.csv").await;
    assert_ne!(status, 200, "no CSV without signing in: {page}");
    office.finish().await;
}

/// The console page where officers sign in: the PIN is asked first, a wrong one refused;
/// the dossier code typed (as a USB scanner types it) goes with "Hoàn thành" and is kept
/// with the ticket and the officer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_an_officer_signs_in_with_a_pin_and_the_dossier_code_goes_with_the_completion()
{
    let Some(browser) = Browser::start(1366, 768).await else {
        return;
    };
    let mut office = WebOffice::start_with(|config| {
        config.officers.push(qms_core::config::Officer {
            id: "cb-an".into(),
            name: "Nguyễn Văn An".into(),
            pin_hash: qms_core::secret::PinHash::of("2468"),
            head: false,
        });
    })
    .await;
    let label = office.issue("cccd").await.ticket.expect("a ticket").label;
    // Counter 2: the office's own client is counter 1's device.
    browser
        .goto(&format!("http://{}/counter/2", office.addr))
        .await;
    browser
        .wait_for_text("h1", |t| t == "Màn hình cán bộ · Quầy 2")
        .await;
    browser.click("button[type=submit]").await;
    let an = "#officers button[data-target=cb-an]";
    browser.wait_for_text(an, |t| t == "Nguyễn Văn An").await;
    browser.click_enabled(an).await;
    browser
        .script("document.getElementById('pin').value = '0000'")
        .await;
    browser.click_enabled("#pin-form button").await;
    browser
        .wait_for_text("#sign-in-result", |t| t == "Mã cán bộ hoặc PIN không đúng")
        .await;
    if let Some(path) = example("counter-officer-sign-in.png") {
        browser.screenshot(&path).await;
    }
    browser
        .script("document.getElementById('pin').value = '2468'")
        .await;
    browser.click_enabled("#pin-form button").await;
    browser
        .wait_for_text("#officer", |t| t == "Cán bộ: Nguyễn Văn An")
        .await;
    browser.click_enabled("#call_next").await;
    browser
        .wait_for_text("#result", |t| t == format!("Đã gọi số {label}"))
        .await;
    let dossier = "000.00.14.H29-261126-0001";
    browser
        .script(&format!(
            "document.getElementById('dossier').value = '{dossier}'"
        ))
        .await;
    if let Some(path) = example("counter-dossier.png") {
        browser.screenshot(&path).await;
    }
    browser.click_enabled("#complete").await;
    browser
        .wait_for_text("#result", |t| {
            t == format!("Đã hoàn thành số {label}, mã hồ sơ {dossier}")
        })
        .await;
    let served = office
        .tickets()
        .await
        .into_iter()
        .find(|t| t.label == label)
        .unwrap();
    assert_eq!(served.state, TicketState::Completed);
    assert_eq!(served.dossier.as_deref(), Some(dossier));
    assert_eq!(served.officer.as_deref(), Some("cb-an"));
    assert_eq!(
        browser
            .script("return document.getElementById('dossier').value")
            .await,
        ""
    );
    browser.close().await;
    office.finish().await;
}

/// The report of a busy week, as the head opens it: in Chromium every chart is drawn with
/// its Vietnamese labels, and printed on A4 it takes a few pages, charts first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_report_of_a_busy_week_shows_its_charts_and_prints_on_a4() {
    use qms_core::history::{self, Dice};
    use qms_core::report::Report;
    let Some(browser) = Browser::start(900, 1400).await else {
        return;
    };
    let config = history::office();
    let (from, to) = (
        time::macros::date!(2026 - 11 - 23),
        time::macros::date!(2026 - 11 - 28),
    );
    let records = history::records(&config, from, to, 300, &mut Dice::new(15));
    let report = Report::of(&config, from, to, &records);
    assert!(
        report.total.issued >= 1500,
        "a busy week: {}",
        report.total.issued
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, qms_report::html(&report)).unwrap();
    browser.goto(&format!("file://{}", page.display())).await;
    browser
        .wait_for_text("h1", |t| t == "Báo cáo tiếp nhận công dân")
        .await;
    let charts = browser
        .script(
            "return Array.from(document.querySelectorAll('figure')).map(function (f) { \
             var svg = f.querySelector('svg'); var box = svg ? svg.getBoundingClientRect() : null; \
             return [f.querySelector('figcaption').textContent, box ? box.width : 0, box ? box.height : 0, \
             svg ? svg.querySelectorAll('rect, polyline, path').length : 0, \
             svg ? Array.from(svg.querySelectorAll('text')).map(function (t) { return t.textContent; }).join('|') : '']; })",
        )
        .await;
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), 5, "{charts:?}");
    for chart in charts {
        let caption = chart[0].as_str().unwrap();
        assert!(
            chart[1].as_f64().unwrap() > 200.0,
            "{caption} is drawn wide enough: {chart}"
        );
        assert!(chart[2].as_f64().unwrap() > 150.0, "{caption}: {chart}");
        assert!(
            chart[3].as_u64().unwrap() > 5,
            "{caption} has bars or lines: {chart}"
        );
    }
    assert!(
        charts[0][4].as_str().unwrap().contains("Đã cấp số"),
        "{:?}",
        charts[0]
    );
    assert!(
        charts[4][4].as_str().unwrap().contains("Văn An"),
        "{:?}",
        charts[4]
    );
    let pdf = browser.print_a4().await;
    assert!(pdf.starts_with(b"%PDF"));
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert!((2..=4).contains(&pages), "{pages} A4 pages");
    if let Some(path) = example("report-week.png") {
        browser.screenshot(&path).await;
    }
    browser.close().await;
}
