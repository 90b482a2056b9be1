//! The pages in a real browser (Debian's Chromium, headless): how long a call takes to
//! show on the board page, and how heavy and how quick the citizen's page is on a slow
//! mobile link. `cargo bench -p qms-tests --bench pages`; the figures are in
//! BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qms_core::protocol::Command;
use qms_queue::SystemClock;
use qms_tests::browser::Browser;
use qms_tests::{client, office, options_for, start_broker, Authority, BrokerKind, WAIT};
use tokio::net::TcpListener;

const CALLS: usize = 200;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        * 1e3
}

fn percentile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(browser) = Browser::start(1920, 1080).await else {
        return;
    };
    let (broker, _) = start_broker(BrokerKind::Embedded);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = office();
    config.web.public_url = Some(format!("http://{addr}"));
    config.procedures[0].numbers = "10000-99999".parse().unwrap();
    config.procedures[0].daily_quota = None;
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, broker, store.path(), Arc::new(SystemClock)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(qms_web::serve(
        listener.into(),
        Arc::new(config.clone()),
        options_for(&config, broker, "web"),
        async {
            let _ = stopped.await;
        },
    ));
    let mut kiosk = client(&config, broker, "kiosk-1", &[]).await;
    let mut counter = client(&config, broker, "counter-1", &[]).await;

    // 1. Call → the number on the board page, timed by the page itself when it draws.
    browser.goto(&format!("http://{addr}/board")).await;
    browser.wait_for_text("#stale", str::is_empty).await;
    browser
        .script(
            "window.seen = {}; var n = document.getElementById('number');
             new MutationObserver(function () {
               if (!(n.textContent in window.seen)) window.seen[n.textContent] = Date.now();
             }).observe(n, {childList: true, characterData: true, subtree: true});
             return true;",
        )
        .await;
    let mut latencies = Vec::new();
    for _ in 0..CALLS {
        kiosk
            .send(Command::issue("cccd", None), WAIT)
            .await
            .unwrap();
        let start = now_ms();
        let called = counter
            .send(
                Command::CallNext {
                    counter: Some(1),
                    dossier: None,
                },
                WAIT,
            )
            .await
            .unwrap();
        let label = called.ticket.expect("a call").label;
        let script = format!("return window.seen['{label}'] || null;");
        let shown = tokio::time::timeout(WAIT, async {
            loop {
                if let Some(at) = browser.script(&script).await.as_f64() {
                    return at;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .expect("the board page shows the call");
        latencies.push(shown - start);
    }
    println!(
        "call → board page drawn in Chromium   p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms  ({CALLS} calls)",
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
        percentile(&mut latencies, 1.0),
    );

    // 2. The citizen's page on a slow mobile link: 400 ms round trips, 400 kbit/s down.
    let issued = kiosk
        .send(Command::issue("cccd", None), WAIT)
        .await
        .unwrap();
    let url = issued.follow_url.expect("the QR's address");
    browser
        .throttle(Duration::from_millis(400), 50_000, 20_000)
        .await;
    browser.goto(&url).await;
    browser
        .wait_for_text("#headline", |t| t == "Đang chờ đến lượt")
        .await;
    let measured = browser
        .script(
            "var paint = performance.getEntriesByName('first-contentful-paint')[0];
             var nav = performance.getEntriesByType('navigation')[0];
             var bytes = nav.transferSize;
             performance.getEntriesByType('resource').forEach(function (r) { bytes += r.transferSize; });
             var shown = performance.getEntriesByName('ticket-shown')[0];
             return [paint ? paint.startTime : null, bytes, shown ? shown.startTime : null];",
        )
        .await;
    println!(
        "citizen's page on 400 ms RTT, 400 kbit/s: first paint {:.0} ms, ticket shown {:.0} ms, {} bytes over the wire (page, scripts, styles)",
        measured[0].as_f64().unwrap_or(f64::NAN),
        measured[2].as_f64().unwrap_or(f64::NAN),
        measured[1],
    );

    browser.close().await;
    stop.send(()).unwrap();
    let _ = server.await;
    kiosk.close().await;
    counter.close().await;
    authority.stop().await;
}
