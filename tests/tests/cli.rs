//! The `qms` command line, run as a person would.

use std::process::{Command, Output};
use std::sync::Arc;

use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::{qms_node, Authority, TestOffice};

fn qms(args: &[&str]) -> Output {
    Command::new(qms_node())
        .args(args)
        .output()
        .expect("qms runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_print_gives_the_default_office_and_it_checks_clean() {
    let out = qms(&["config", "print"]);
    assert!(out.status.success());
    let printed = SiteConfig::parse(&text(&out.stdout)).expect("printed config parses");
    assert_eq!(printed.site.name, "Công an phường Sài Gòn");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qms.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = qms(&["config", "check", path.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("valid — 6 procedures, 5 counters"));
}

#[test]
fn config_check_names_the_bad_field_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qms.toml");
    let bad = qms_core::config::DEFAULT_CONFIG.replacen(
        "procedures = [\"xu-phat\", \"chung\"]",
        "procedures = [\"xu-phat\", \"chungg\"]",
        1,
    );
    std::fs::write(&path, &bad).unwrap();
    let line = bad.lines().position(|l| l.contains("chungg")).unwrap() + 1;
    let out = qms(&["config", "check", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "line {line}, counter[5].procedures: unknown procedure \"chungg\""
        )),
        "{stderr}"
    );
}

#[test]
fn the_embedded_broker_on_a_taken_port_says_how_to_use_the_broker_there() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = qms(&["broker", "--listen", &addr]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("port is taken") && stderr.contains(&format!("--broker {addr}")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_and_counter_commands_speak_vietnamese() {
    let office = TestOffice::start();
    let (addr, config_file) = (office.broker, &office.config_file);
    let authority =
        Authority::start(&office.config, addr, &office.store, Arc::new(SystemClock)).await;
    let base = ["--config", config_file.to_str().unwrap(), "--broker"];
    let run = |rest: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        let broker = addr.to_string();
        args.push(&broker);
        args.extend_from_slice(rest);
        let out = qms(&args);
        (out.status.success(), text(&out.stdout))
    };
    let (ok, out) = run(&["issue", "cccd"]);
    assert!(ok, "{out}");
    assert!(
        out.starts_with("Số thứ tự 1001 — Cấp, đổi, cấp lại thẻ Căn cước — đang chờ"),
        "{out}"
    );
    let (ok, out) = run(&["counter", "1", "call-next"]);
    assert!(
        ok && out.contains("1001") && out.contains("tại quầy 1"),
        "{out}"
    );
    // A counter device cannot act for another counter.
    let (ok, out) = run(&["counter", "2", "recall", "--device", "counter-1"]);
    assert!(
        !ok && out.contains("không thể thao tác cho quầy 2"),
        "{out}"
    );
    let (ok, out) = run(&["issue", "passport"]);
    assert!(
        !ok && out.contains("Không có thủ tục \"passport\""),
        "{out}"
    );
    authority.stop().await;
}
