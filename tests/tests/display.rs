//! The board against a real broker that stops and comes back: the stale mark appears,
//! then clears by itself.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use qms_bus::BusOptions;
use qms_queue::{QueueOptions, SystemClock};
use qms_tests::{office, BrokerKind, BrokerProcess};

#[test]
fn the_stale_mark_appears_when_the_broker_stops_and_clears_when_it_returns() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let mut broker = BrokerProcess::start(BrokerKind::Embedded);
    let config = Arc::new(office());
    let store = tempfile::tempdir().unwrap();
    let mut authority = QueueOptions::new(config.clone(), &broker.addr.to_string());
    authority.store_path = store.path().to_path_buf();
    authority.clock = Arc::new(SystemClock);
    qms_queue::run_on_thread(authority);

    let mut options = BusOptions::new("display-hall", &config.site.id, &broker.addr.to_string());
    options.reconnect_delay = Duration::from_millis(50);
    let display = qms_display::start(config, options).unwrap();
    let seen = Rc::new(std::cell::RefCell::new(Vec::<&'static str>::new()));
    let log = seen.clone();
    let started = Instant::now();
    let timer = slint::Timer::default();
    let weak = Rc::downgrade(&display);
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(50),
        move || {
            let Some(display) = weak.upgrade() else {
                return;
            };
            let stale = ElementHandle::find_by_accessible_label(display.window(), "Mất kết nối")
                .next()
                .is_some();
            let mut log = log.borrow_mut();
            match (log.len(), stale) {
                // Connected and the authority heard: stop the broker.
                (0, false) => {
                    log.push("fresh");
                    broker.kill();
                }
                (1, true) => {
                    log.push("stale");
                    broker.restart();
                }
                (2, false) => {
                    log.push("fresh again");
                    let _ = slint::quit_event_loop();
                }
                _ => {}
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = slint::quit_event_loop();
            }
        },
    );
    slint::run_event_loop_until_quit().unwrap();
    assert_eq!(*seen.borrow(), ["fresh", "stale", "fresh again"]);
}
