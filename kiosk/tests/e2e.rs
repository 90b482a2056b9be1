//! The kiosk as a device: its window (Slint testing backend, real event loop) against the
//! embedded broker and the real authority.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use qms_bus::BusOptions;
use qms_core::config::Hours;
use qms_core::SiteConfig;
use qms_queue::QueueOptions;

#[test]
fn a_tap_on_the_kiosk_gets_a_ticket_from_the_authority() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let broker = qms_bus::start_embedded_on_free_port().unwrap();
    let mut config = SiteConfig::default_site();
    config.hours = Hours::always();
    let config = Arc::new(config);
    let store = tempfile::tempdir().unwrap();
    let mut authority = QueueOptions::new(config.clone(), &broker.to_string());
    authority.store_path = store.path().to_path_buf();
    qms_queue::run_on_thread(authority);

    let options = BusOptions::new("kiosk-1", &config.site.id, &broker.to_string());
    let kiosk = qms_kiosk::start(config, options).unwrap();
    let find = |label: &str| qms_headless::find(kiosk.window(), label);
    let shown = Rc::new(RefCell::new(None));
    let started = Instant::now();
    let mut tapped = false;
    let timer = slint::Timer::default();
    let result = shown.clone();
    let kiosk_ref = kiosk.clone();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(50),
        move || {
            let number = qms_headless::value(kiosk_ref.window(), "Số thứ tự của ông/bà");
            if let Some(number) = number {
                *result.borrow_mut() = Some(number);
                let _ = slint::quit_event_loop();
            } else if !tapped && kiosk_ref.pending_id().is_none() {
                // Tap once the kiosk knows it is connected: the red line has gone.
                let offline = !qms_headless::find(
                    kiosk_ref.window(),
                    "Đang mất kết nối với hệ thống — vui lòng báo cán bộ",
                )
                .is_empty();
                if !offline {
                    if let Some(button) =
                        qms_headless::find(kiosk_ref.window(), "Đăng ký cư trú").first()
                    {
                        button.invoke_accessible_default_action();
                        tapped = true;
                    }
                }
            }
            if started.elapsed() > Duration::from_secs(15) {
                let _ = slint::quit_event_loop();
            }
        },
    );
    slint::run_event_loop_until_quit().unwrap();
    assert_eq!(
        shown.borrow().as_deref(),
        Some("2001"),
        "the replied number is on screen"
    );
    assert!(
        !find("Ông/bà là người tiếp theo").is_empty(),
        "nobody waits before the first ticket"
    );
}
