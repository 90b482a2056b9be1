//! The console and the rating screen of counter 3 as devices: their windows (Slint
//! testing backend, real event loop) against the embedded broker and the real authority.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::config::Hours;
use qms_core::protocol::{Command, CommandEnvelope, Rating, Reply};
use qms_core::SiteConfig;
use qms_queue::QueueOptions;

/// Sends `command` as `device` and waits for the reply.
fn send(config: &SiteConfig, broker: &str, device: &str, command: Command) -> Reply {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let topics = Topics::new(&config.site.id);
        let mut options = BusOptions::new(device, &config.site.id, broker);
        options.announce = false;
        options.subscriptions = vec![topics.reply(device)];
        let (bus, mut events) = Bus::connect(options).unwrap();
        let envelope = CommandEnvelope::new(uuid::Uuid::new_v4().to_string(), command);
        let payload = serde_json::to_vec(&envelope).unwrap();
        let started = Instant::now();
        // The authority may not listen yet: the same id again every half second.
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the authority answers"
            );
            let event = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
            match event {
                Ok(Some(BusEvent::Message { payload, .. })) => {
                    let reply: Reply = serde_json::from_slice(&payload).unwrap();
                    if reply.id.as_deref() == Some(envelope.id.as_str()) {
                        bus.close().await;
                        return reply;
                    }
                }
                Ok(Some(BusEvent::Connected)) | Err(_) => {
                    bus.publish(&topics.command(device), payload.clone(), false, None);
                }
                Ok(_) => {}
            }
        }
    })
}

#[test]
fn the_officer_calls_and_completes_and_the_citizen_rates() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let broker = qms_bus::start_embedded_on_free_port().unwrap().to_string();
    let mut config = SiteConfig::default_site();
    config.hours = Hours::always();
    let config = Arc::new(config);
    let store = tempfile::tempdir().unwrap();
    let mut authority = QueueOptions::new(config.clone(), &broker);
    authority.store_path = store.path().to_path_buf();
    qms_queue::run_on_thread(authority);
    let issue = Command::issue("cu-tru", None);
    let ticket = send(&config, &broker, "kiosk-1", issue).ticket.unwrap();

    let options = |device: &str| BusOptions::new(device, &config.site.id, &broker);
    let console = qms_counter::start_console(config.clone(), 3, options("counter-3")).unwrap();
    let rating = qms_counter::start_rating(config.clone(), 3, options("rating-3")).unwrap();
    let steps = Rc::new(Cell::new(0));
    let started = Instant::now();
    let label = ticket.label.clone();
    let timer = slint::Timer::default();
    let (console_ref, rating_ref) = (console.clone(), rating.clone());
    let progress = steps.clone();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(50),
        move || {
            let on_console = |text: &str| {
                qms_headless::find(console_ref.window(), text)
                    .into_iter()
                    .next()
            };
            let on_rating = |text: &str| {
                qms_headless::find(rating_ref.window(), text)
                    .into_iter()
                    .next()
            };
            let serving = on_console("Số đang phục vụ")
                .and_then(|e| e.accessible_value())
                .unwrap_or_default();
            match progress.get() {
                // Connected, and the ticket is on this counter's waiting list.
                0 if on_console(&format!("Gọi số {label}")).is_some() => {
                    on_console("Gọi số tiếp")
                        .unwrap()
                        .invoke_accessible_default_action();
                    progress.set(1);
                }
                1 if serving == label.as_str() => {
                    on_console("Hoàn thành")
                        .unwrap()
                        .invoke_accessible_default_action();
                    progress.set(2);
                }
                2 => {
                    if let Some(face) = on_rating("Rất hài lòng") {
                        face.invoke_accessible_default_action();
                        progress.set(3);
                    }
                }
                3 if on_rating("Cảm ơn ông/bà đã đánh giá!").is_some() => {
                    progress.set(4);
                    let _ = slint::quit_event_loop();
                }
                _ => {}
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = slint::quit_event_loop();
            }
        },
    );
    slint::run_event_loop_until_quit().unwrap();
    assert_eq!(steps.get(), 4, "called, completed, asked and rated");
    // The rating reached the authority, with the ticket.
    let list = Command::todays_tickets();
    let rated = loop {
        let tickets = send(&config, &broker, "admin", list.clone())
            .tickets
            .unwrap();
        if tickets[0].rating.is_some() || started.elapsed() > Duration::from_secs(25) {
            break tickets[0].rating;
        }
    };
    assert_eq!(rated, Some(Rating::VerySatisfied));
}
