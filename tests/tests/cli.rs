//! The `qms` command line, run as a person would.

use std::process::{Command, Output};
use std::sync::Arc;

use qms_core::SiteConfig;
use qms_queue::{ManualClock, SystemClock};
use qms_tests::{client, qms_node, Authority, TestOffice, WAIT};
use time::{Duration, OffsetDateTime, Time};

fn qms(args: &[&str]) -> Output {
    Command::new(qms_node())
        .args(args)
        .output()
        .expect("qms runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `qms` against the office's broker: whether it succeeded, and what it printed.
fn run_at(office: &TestOffice, rest: &[&str]) -> (bool, String) {
    let broker = office.broker.to_string();
    let config = office.config_file.to_str().unwrap();
    let mut args = vec!["--config", config, "--broker", &broker];
    args.extend_from_slice(rest);
    let out = qms(&args);
    (out.status.success(), text(&out.stdout) + &text(&out.stderr))
}

/// The numbers of a report row: issued, served, absent, open, left at closing.
fn report_row(report: &str, label: &str) -> Vec<u32> {
    let line = report.lines().find(|l| l.starts_with(label));
    let line = line.unwrap_or_else(|| panic!("no row \"{label}\" in\n{report}"));
    let numbers = line[label.len()..].split_whitespace().take(5);
    numbers.map(|n| n.parse().expect("a count")).collect()
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
fn config_check_lists_every_problem_each_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qms.toml");
    let bad = qms_core::config::DEFAULT_CONFIG
        .replacen("\"xu-phat\", \"chung\"]", "\"xu-phat\", \"chungg\"]", 1)
        .replacen("counter = 5", "counter = 9", 1);
    std::fs::write(&path, &bad).unwrap();
    let out = qms(&["config", "check", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let at = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let expected = format!(
        "2 problems:\n  line {}, counter[5].procedures: unknown procedure \"chungg\"\n  \
         line {}, device[9].counter: no [[counter]] has number 9",
        at("chungg"),
        at("counter = 9")
    );
    assert!(stderr.contains(&expected), "{stderr}");
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
    let authority = Authority::start(
        &office.config,
        office.broker,
        &office.store,
        Arc::new(SystemClock),
    )
    .await;
    let run = |rest: &[&str]| run_at(&office, rest);
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

/// The defect: `qms issue` spoke as admin and only kiosks got print jobs, so the command
/// line's tickets were never printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_never_prints() {
    let office = TestOffice::start();
    let authority = Authority::start(
        &office.config,
        office.broker,
        &office.store,
        Arc::new(SystemClock),
    )
    .await;
    let topics = qms_bus::Topics::new(&office.config.site.id);
    let mut printer = client(
        &office.config,
        office.broker,
        "printer-1",
        &[topics.job("printer-1")],
    )
    .await;
    let mut next_job = async || {
        let message = printer.next_message(WAIT).await?;
        serde_json::from_slice::<qms_core::protocol::PrintJob>(&message.payload).ok()
    };
    let (ok, out) = tokio::task::block_in_place(|| run_at(&office, &["issue", "cccd"]));
    assert!(ok, "{out}");
    let job = next_job()
        .await
        .expect("the ticket goes to the office's printer");
    assert_eq!(job.ticket.label, "1001");
    let (ok, out) = tokio::task::block_in_place(|| run_at(&office, &["reprint", "1001"]));
    assert!(ok, "{out}");
    let again = next_job().await.expect("the reprint goes to the printer");
    assert_eq!(again.ticket.label, "1001");
    assert_ne!(again.key(), job.key());
    let (ok, out) =
        tokio::task::block_in_place(|| run_at(&office, &["issue", "cu-tru", "--no-print"]));
    assert!(ok, "{out}");
    let (ok, out) =
        tokio::task::block_in_place(|| run_at(&office, &["issue", "cccd", "--print", "printer-1"]));
    assert!(ok, "{out}");
    assert_eq!(
        next_job().await.unwrap().ticket.label,
        "1002",
        "2001 was not printed"
    );
    authority.stop().await;
}

/// The defects: `qms watch` printed UTC times, ticket ids, "đánh giá Unsatisfied" and
/// finished tickets as "đang gọi"; `qms tickets` printed states as `waiting`; and
/// `qms tickets | head` panicked on the closed pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_tickets_speak_vietnamese_in_local_time_and_a_closed_pipe_ends_quietly() {
    let office = TestOffice::start();
    let authority = Authority::start(
        &office.config,
        office.broker,
        &office.store,
        Arc::new(SystemClock),
    )
    .await;
    let broker = office.broker.to_string();
    let config = office.config_file.to_str().unwrap().to_string();
    let mut watch = Command::new(qms_node())
        .args(["--config", &config, "--broker", &broker, "watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    // The watch says so on stderr once it listens.
    let mut stderr = std::io::BufReader::new(watch.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.starts_with("watching"), "{first}");
    let run = |rest: &[&str]| tokio::task::block_in_place(|| run_at(&office, rest));
    for step in [
        &["issue", "cccd", "--no-print"][..],
        &["counter", "1", "call-next"],
        &["counter", "1", "complete"],
    ] {
        let (ok, out) = run(step);
        assert!(ok, "{out}");
    }
    let mut admin = client(&office.config, office.broker, "admin", &[]).await;
    let rate = qms_core::protocol::Command::Rate {
        ticket: "1001".into(),
        rating: qms_core::protocol::Rating::Unsatisfied,
    };
    assert!(admin.send(rate, WAIT).await.unwrap().ok);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("đánh giá")) {
        let line = tokio::task::block_in_place(|| lines.recv_timeout(WAIT))
            .unwrap_or_else(|_| panic!("no rating line in:\n{}", seen.join("\n")));
        seen.push(line);
    }
    watch.kill().unwrap();
    let _ = watch.wait();
    let watched = seen.join("\n");
    let local = OffsetDateTime::now_utc().to_offset(office.config.site.utc_offset);
    let hour = format!(" {:02}:", local.hour());
    let event = |word: &str| {
        seen.iter()
            .find(|l| l.contains(word))
            .unwrap_or_else(|| panic!("no \"{word}\" in:\n{watched}"))
    };
    assert!(event("xong ở quầy 1").contains("số 1001"), "{watched}");
    assert!(
        event("được đánh giá chưa hài lòng").contains(&hour),
        "local time: {watched}"
    );
    assert!(
        !watched.contains("20261") && !watched.contains("Unsatisfied"),
        "{watched}"
    );
    assert!(!watched.contains("đang gọi"), "{watched}");

    let (ok, out) = run(&["tickets"]);
    assert!(
        ok && out.contains("1001") && out.contains("đã hoàn thành"),
        "{out}"
    );
    assert!(!out.contains("completed"), "{out}");
    // A reader that is gone before anything is written.
    let mut tickets = Command::new(qms_node())
        .args(["--config", &config, "--broker", &broker, "tickets"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(tickets.stdout.take());
    let out = tokio::task::block_in_place(|| tickets.wait_with_output()).unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));
    authority.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_day_and_a_period_are_reported_from_the_authoritys_store() {
    let office = TestOffice::start();
    let offset = office.config.site.utc_offset;
    let today = OffsetDateTime::now_utc().to_offset(offset).date();
    let (day1, day2) = (today - Duration::days(2), today - Duration::days(1));
    let morning = |day: time::Date| day.with_time(Time::from_hms(9, 0, 0).unwrap());
    let clock = ManualClock::new(morning(day1).assume_offset(offset));
    let authority =
        Authority::start(&office.config, office.broker, &office.store, clock.clone()).await;
    let run = |rest: &[&str]| {
        let (ok, out) = run_at(&office, rest);
        assert!(ok, "qms {rest:?}: {out}");
        out
    };
    // Day 1: two citizens for the card, one served; the other is still waiting at closing.
    run(&["issue", "cccd"]);
    run(&["issue", "cccd"]);
    run(&["counter", "1", "call-next"]);
    let completed = run(&[
        "counter",
        "1",
        "complete",
        "--dossier",
        "H29-0001",
        "--json",
    ]);
    let completed: serde_json::Value = serde_json::from_str(&completed).expect("JSON");
    assert_eq!(completed["ticket"]["dossier"], "H29-0001", "{completed}");
    // Day 2: one citizen for residence.
    clock.set(morning(day2).assume_offset(offset));
    run(&["issue", "cu-tru"]);

    let (d1, d2) = (day1.to_string(), day2.to_string());
    let tickets = run(&["tickets", "--day", &d1]);
    let lines: Vec<Vec<&str>> = tickets
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    let cccd = "Cấp, đổi, cấp lại thẻ Căn cước";
    assert_eq!(
        lines,
        [
            vec!["1001", "đã hoàn thành", "09:00", cccd, "(chờ 0 phút)"],
            vec!["1002", "hết hạn", "09:00", cccd],
            vec!["2 số"],
        ],
        "{tickets}"
    );
    let closed = run(&["report", "--day", &d1]);
    assert_eq!(report_row(&closed, "Cả ngày"), [2, 1, 0, 0, 1], "{closed}");
    assert_eq!(
        report_row(&closed, "Cấp, đổi, cấp lại thẻ Căn cước"),
        [2, 1, 0, 0, 1]
    );
    let period = run(&["report", "--from", &d1, "--to", &d2]);
    let vietnamese =
        |d: time::Date| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year());
    assert!(
        period.starts_with(&format!(
            "Báo cáo từ ngày {} đến ngày {}",
            vietnamese(day1),
            vietnamese(day2)
        )),
        "{period}"
    );
    assert_eq!(report_row(&period, &vietnamese(day1)), [2, 1, 0, 0, 1]);
    assert_eq!(report_row(&period, &vietnamese(day2)), [1, 0, 0, 1, 0]);
    assert_eq!(
        report_row(&period, "Tổng cộng"),
        [3, 1, 0, 1, 1],
        "{period}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["report", "--day", &d1, "--format", "json"])).expect("JSON");
    assert_eq!(json["total"]["served"], 1, "{json}");

    let (ok, out) = run_at(
        &office,
        &["report", "--day", &today.next_day().unwrap().to_string()],
    );
    assert!(!ok && out.contains("has not come yet"), "{out}");
    authority.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_too_busy_for_one_message_is_reported_one_procedure_at_a_time() {
    let office = TestOffice::start();
    // A small limit stands for the 1 MiB one: 30 tickets do not fit, 10 or 20 do.
    let authority = Authority::start_with(
        &office.config,
        office.broker,
        &office.store,
        Arc::new(SystemClock),
        |options| options.bus.max_packet = 6 * 1024,
    )
    .await;
    let mut kiosk = client(&office.config, office.broker, "kiosk-1", &[]).await;
    for procedure in ["cccd"; 10].into_iter().chain(["cu-tru"; 20]) {
        let issue = qms_core::protocol::Command::issue(procedure, None);
        assert!(kiosk.send(issue, WAIT).await.unwrap().ok);
    }
    let (ok, report) = run_at(&office, &["report"]);
    assert!(ok, "{report}");
    assert_eq!(
        report_row(&report, "Cả ngày"),
        [30, 0, 0, 30, 0],
        "{report}"
    );
    assert_eq!(report_row(&report, "Đăng ký cư trú"), [20, 0, 0, 20, 0]);
    authority.stop().await;
}

#[test]
fn regression_config_print_into_qms_toml_does_not_read_the_empty_file_the_shell_made() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("qms.toml")).unwrap();
    let out = Command::new(qms_node())
        .args(["config", "print"])
        .current_dir(dir.path())
        .stdout(file)
        .output()
        .expect("qms runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("qms.toml")).unwrap();
    let config = SiteConfig::parse(&written).expect("the printed configuration is valid");
    assert_eq!(config.site.id, SiteConfig::default_site().site.id);
}
