use super::*;
use crate::protocol::{Command, EventKind, PriorityReason};
use crate::secret::PinHash;
use crate::{Actor, Answer};
use time::macros::{date, datetime};
use time::Duration;

const DAY: Date = date!(2026 - 11 - 26);

/// The default office with three officers.
fn office() -> SiteConfig {
    let mut config = SiteConfig::default_site();
    config.hours = crate::config::Hours::always();
    for (id, name) in [
        ("cb-an", "Nguyễn Văn An"),
        ("cb-binh", "Trần Thị Bình"),
        ("cb-chi", "Lê Minh Chi"),
    ] {
        config.officers.push(crate::config::Officer {
            id: id.into(),
            name: name.into(),
            pin_hash: PinHash::of("2468"),
            head: false,
        });
    }
    config
}

/// How a ticket of the generated history went.
struct Story {
    procedure: &'static str,
    issued_for: Option<&'static str>,
    issued: (u8, u8),
    wait_minutes: Option<i64>,
    service_minutes: Option<i64>,
    state: TicketState,
    counter: Option<u16>,
    officer: Option<&'static str>,
    rating: Option<Rating>,
}

fn ticket(n: usize, s: &Story) -> Ticket {
    let issued_at = DAY
        .with_hms(s.issued.0, s.issued.1, 0)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
    let called_at = s.wait_minutes.map(|w| issued_at + Duration::minutes(w));
    let completed_at = s
        .service_minutes
        .and_then(|m| called_at.map(|c| c + Duration::minutes(m)));
    Ticket {
        id: format!("20261126-{n}"),
        label: n.to_string(),
        procedure: s.procedure.into(),
        priority: None,
        issued_at,
        issued_by: "kiosk-1".into(),
        issued_for: s.issued_for.map(str::to_string),
        state: s.state,
        queue_key: n as u64,
        counter: s.counter,
        target_counter: None,
        called_at,
        recalls: 0,
        completed_at,
        rating: s.rating,
        officer: s.officer.map(str::to_string),
        dossier: None,
    }
}

/// Eight tickets and three refusals whose figures are worked out by hand in the tests.
fn generated_day() -> DayRecord {
    use Rating::*;
    use TicketState::*;
    let done = |procedure, issued, wait, service, counter, officer, rating| Story {
        procedure,
        issued_for: None,
        issued,
        wait_minutes: Some(wait),
        service_minutes: Some(service),
        state: Completed,
        counter: Some(counter),
        officer: Some(officer),
        rating,
    };
    let stories = [
        done("cccd", (8, 5), 10, 6, 1, "cb-an", Some(VerySatisfied)),
        done("cccd", (8, 20), 20, 8, 1, "cb-an", Some(Satisfied)),
        done("cccd", (8, 40), 30, 12, 2, "cb-binh", Some(Unsatisfied)),
        Story {
            wait_minutes: Some(40),
            service_minutes: None,
            state: NoShow,
            ..done("cccd", (9, 10), 0, 0, 2, "cb-binh", None)
        },
        Story {
            wait_minutes: None,
            service_minutes: None,
            state: Waiting,
            counter: None,
            officer: None,
            ..done("cccd", (9, 30), 0, 0, 1, "cb-an", None)
        },
        Story {
            wait_minutes: None,
            service_minutes: None,
            state: Expired,
            counter: None,
            officer: None,
            ..done("cccd", (9, 50), 0, 0, 1, "cb-an", None)
        },
        done("cu-tru", (8, 15), 5, 20, 3, "cb-chi", None),
        // Issued for residence registration, transferred to residence confirmation.
        Story {
            issued_for: Some("cu-tru"),
            ..done(
                "xac-nhan-cu-tru",
                (9, 5),
                15,
                4,
                3,
                "cb-chi",
                Some(VerySatisfied),
            )
        },
    ];
    let at = |h, m| {
        DAY.with_hms(h, m, 0)
            .unwrap()
            .assume_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap())
    };
    let refusal = |procedure: &str, at, code| Refusal {
        at,
        procedure: procedure.into(),
        code,
    };
    DayRecord {
        day: DAY,
        tickets: stories
            .iter()
            .enumerate()
            .map(|(i, s)| ticket(1001 + i, s))
            .collect(),
        refused: vec![
            refusal("cccd", at(9, 45), ErrorCode::QuotaReached),
            refusal("cccd", at(10, 10), ErrorCode::QuotaReached),
            refusal("cu-tru", at(17, 30), ErrorCode::OutsideHours),
        ],
    }
}

fn minutes_spread(count: u32, median: u32, p90: u32, max: u32) -> Option<Spread> {
    Some(Spread {
        count,
        median_seconds: median * 60,
        p90_seconds: p90 * 60,
        max_seconds: max * 60,
    })
}

fn row<'r>(rows: &'r [Row], key: &str) -> &'r Figures {
    &rows.iter().find(|r| r.key == key).unwrap().figures
}

#[test]
fn every_figure_of_a_generated_day_is_the_one_worked_out_by_hand() {
    let report = Report::of(&office(), DAY, DAY, &[generated_day()]);
    let t = &report.total;
    // Eight tickets: the transferred one counted once.
    assert_eq!(
        (t.issued, t.served, t.no_show, t.open, t.expired, t.refused),
        (8, 5, 1, 1, 1, 3)
    );
    // Waits 5, 10, 15, 20, 30, 40: the 3rd of 6 and the ⌈5.4⌉ = 6th.
    assert_eq!(t.wait, minutes_spread(6, 15, 40, 40));
    // Services 4, 6, 8, 12, 20: the 3rd of 5 and the ⌈4.5⌉ = 5th.
    assert_eq!(t.service, minutes_spread(5, 8, 20, 20));
    assert_eq!(
        (
            t.ratings.very_satisfied,
            t.ratings.satisfied,
            t.ratings.unsatisfied
        ),
        (2, 1, 1)
    );
    assert_eq!(t.ratings.satisfied_percent(), Some(75));

    let cccd = row(&report.procedures, "cccd");
    assert_eq!(
        (
            cccd.issued,
            cccd.served,
            cccd.no_show,
            cccd.open,
            cccd.expired,
            cccd.refused
        ),
        (6, 3, 1, 1, 1, 2)
    );
    // Waits 10, 20, 30, 40: the 2nd of 4 and the 4th; services 6, 8, 12.
    assert_eq!(cccd.wait, minutes_spread(4, 20, 40, 40));
    assert_eq!(cccd.service, minutes_spread(3, 8, 12, 12));
    assert_eq!(cccd.ratings.satisfied_percent(), Some(67));
    let residence = row(&report.procedures, "cu-tru");
    assert_eq!(
        (
            residence.issued,
            residence.transferred_out,
            residence.transferred_in,
            residence.served,
            residence.refused
        ),
        (2, 1, 0, 1, 1)
    );
    assert_eq!(residence.wait, minutes_spread(1, 5, 5, 5));
    let confirmation = row(&report.procedures, "xac-nhan-cu-tru");
    assert_eq!(
        (
            confirmation.issued,
            confirmation.transferred_in,
            confirmation.served
        ),
        (0, 1, 1)
    );
    assert_eq!(confirmation.service, minutes_spread(1, 4, 4, 4));
    let issued_per_procedure: u32 = report.procedures.iter().map(|r| r.figures.issued).sum();
    assert_eq!(issued_per_procedure, 8, "a transfer issues nothing");

    let an = row(&report.officers, "cb-an");
    assert_eq!((an.issued, an.served), (2, 2));
    assert_eq!(an.ratings.satisfied_percent(), Some(100));
    assert_eq!(an.wait, minutes_spread(2, 10, 20, 20));
    let binh = row(&report.officers, "cb-binh");
    assert_eq!((binh.served, binh.no_show), (1, 1));
    assert_eq!(binh.ratings.satisfied_percent(), Some(0));
    let chi = row(&report.officers, "cb-chi");
    assert_eq!((chi.served, chi.ratings.total()), (2, 1));
    assert_eq!(chi.service, minutes_spread(2, 4, 20, 20));
    let names: Vec<&str> = report.officers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Chi"]);

    assert_eq!(row(&report.counters, "1").served, 2);
    assert_eq!(row(&report.counters, "2").issued, 2);
    assert_eq!(row(&report.counters, "3").served, 2);
    assert_eq!(row(&report.counters, "5"), &Figures::default());

    let hours: Vec<(u8, u32, u32)> = report
        .hours
        .iter()
        .map(|h| (h.hour, h.figures.issued, h.figures.refused))
        .collect();
    assert_eq!(hours, [(8, 4, 0), (9, 4, 1), (10, 0, 1), (17, 0, 1)]);
    // 08:00 and 09:00 both issued 4: the earlier is named.
    assert_eq!(report.busiest_hour, Some(8));
    let eight = &report.hours[0].figures;
    // Issued at 08:05, 08:15, 08:20, 08:40: waits 10, 5, 20, 30.
    assert_eq!(eight.wait, minutes_spread(4, 10, 30, 30));

    let bands: Vec<u32> = report.wait_bands.iter().map(|b| b.count).collect();
    assert_eq!(bands, [1, 2, 1, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(
        report.wait_bands[9].to_minutes, None,
        "the last band is open"
    );
    assert!(report.days.is_empty(), "one day has no rows per day");
}

#[test]
fn the_table_names_every_section_and_the_busiest_hour() {
    let report = Report::of(&office(), DAY, DAY, &[generated_day()]);
    let text = report.to_text();
    assert!(
        text.starts_with("Báo cáo ngày 26/11/2026 — Công an phường Sài Gòn\n"),
        "{text}"
    );
    for section in ["— Thủ tục", "— Quầy", "— Cán bộ", "— Giờ", "— Tổng"] {
        assert!(text.lines().any(|l| l == section), "{section}: {text}");
    }
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{start}: {text}"))
            .to_string()
    };
    let cccd = line("Cấp, đổi, cấp lại thẻ Căn cước");
    let cells: Vec<&str> = cccd[cccd.find("  ").unwrap()..]
        .split_whitespace()
        .collect();
    assert_eq!(
        &cells[..8],
        ["6", "3", "1", "1", "1", "2", "0", "0"],
        "{cccd}"
    );
    assert_eq!(&cells[8..11], ["20ph", "40ph", "40ph"], "{cccd}");
    assert!(line("Cả ngày").contains("75% (4)"), "{text}");
    assert!(text.contains("Giờ đông nhất: 08:00–08:59\n"), "{text}");
    let header = text.lines().nth(1).unwrap();
    assert!(!header.split_whitespace().any(|w| w == "Cấp"), "{header}");
}

#[test]
fn the_csv_reads_back_with_its_vietnamese_and_its_figures() {
    let report = Report::of(&office(), DAY, DAY, &[generated_day()]);
    let text = report.to_csv();
    assert!(
        text.starts_with('\u{feff}'),
        "Excel needs the byte-order mark"
    );
    assert!(text.contains("\r\n"));
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["Mục", "Tên", "Đã cấp số"]);
    assert!(header.contains(&"Chờ trung vị (phút)".to_string()));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let find = |section: &str, name: &str| {
        rows.iter()
            .find(|r| &r[0] == section && &r[1] == name)
            .unwrap_or_else(|| panic!("{section} {name}: {text}"))
    };
    let binh = find("Cán bộ", "Trần Thị Bình");
    assert_eq!(&binh[column("Vắng mặt")], "1");
    assert_eq!(&binh[column("Hài lòng (%)")], "0");
    let cccd = find("Thủ tục", "Cấp, đổi, cấp lại thẻ Căn cước");
    assert_eq!(&cccd[column("Từ chối (hết số, ngoài giờ)")], "2");
    assert_eq!(&cccd[column("Chờ P90 (phút)")], "40");
    let total = find("Tổng", "Cả ngày");
    assert_eq!(&total[column("Xử lý trung vị (phút)")], "8");
    assert_eq!(&total[column("Rất hài lòng")], "2");
    let quiet = find("Quầy", "Quầy 5");
    assert_eq!(
        &quiet[column("Chờ trung vị (phút)")],
        "",
        "no waits: an empty cell"
    );
}

#[test]
fn a_period_adds_up_its_days_shows_each_and_leaves_out_days_outside_it() {
    let config = office();
    let mut later = generated_day();
    later.day = date!(2026 - 11 - 27);
    let mut outside = generated_day();
    outside.day = date!(2026 - 11 - 30);
    let from = DAY;
    let to = date!(2026 - 11 - 28);
    let report = Report::of(&config, from, to, &[generated_day(), later, outside]);
    assert_eq!(report.total.issued, 16);
    assert_eq!(report.total.refused, 6);
    let days: Vec<(Date, u32)> = report
        .days
        .iter()
        .map(|d| (d.day, d.figures.issued))
        .collect();
    assert_eq!(days, [(DAY, 8), (date!(2026 - 11 - 27), 8)]);
    // The same waits twice: the 6th of 12 and the ⌈10.8⌉ = 11th.
    assert_eq!(report.total.wait, minutes_spread(12, 15, 40, 40));
    let text = report.to_text();
    assert!(
        text.starts_with("Báo cáo từ ngày 26/11/2026 đến ngày 28/11/2026"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("Tổng cộng")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("27/11/2026")), "{text}");
}

#[test]
fn officers_calls_dossier_codes_ratings_and_refusals_reach_the_days_record() {
    let mut config = office();
    config.procedures[0].daily_quota = Some(2);
    let mut state = QueueState::default();
    let start = datetime!(2026-11-26 08:00 +7);
    let mut log = Vec::new();
    let mut run = |device: &str, command: Command, minute: i64| {
        let actor = Actor::of(&config, device).unwrap();
        let at = start + Duration::minutes(minute);
        let outcome = state.execute(&config, &actor, &command, at);
        log.extend(outcome.events);
        outcome.answer
    };
    let sign_in = Command::SignIn {
        counter: None,
        officer: "cb-an".into(),
        pin: "2468".into(),
    };
    run("counter-1", sign_in, 0).unwrap();
    run("kiosk-1", Command::issue("cccd", None), 1).unwrap();
    run(
        "kiosk-1",
        Command::issue("cccd", Some(PriorityReason::Elderly)),
        2,
    )
    .unwrap();
    let refused = run("kiosk-1", Command::issue("cccd", None), 3);
    assert_eq!(refused.unwrap_err().code, ErrorCode::QuotaReached);
    run(
        "counter-1",
        Command::CallNext {
            counter: None,
            dossier: None,
        },
        5,
    )
    .unwrap();
    let complete = Command::Complete {
        counter: None,
        dossier: Some("000.00.14.H29-261126-0001".into()),
    };
    let Answer::Ticket { ticket, .. } = run("counter-1", complete, 12).unwrap() else {
        panic!("the ticket served");
    };
    let rate = Command::Rate {
        ticket: ticket.id.clone(),
        rating: Rating::Satisfied,
    };
    run("admin", rate, 13).unwrap();
    let rated = log.iter().find_map(|e| match &e.kind {
        EventKind::Rated {
            officer, dossier, ..
        } => Some((officer.clone(), dossier.clone())),
        _ => None,
    });
    assert_eq!(
        rated,
        Some((
            Some("cb-an".to_string()),
            Some("000.00.14.H29-261126-0001".to_string())
        )),
        "the rating names the officer and the dossier"
    );
    let record = DayRecord::of_events(DAY, &log);
    assert_eq!(record.refused.len(), 1);
    assert_eq!(record.refused[0].code, ErrorCode::QuotaReached);
    let served = record.tickets.iter().find(|t| t.id == ticket.id).unwrap();
    assert_eq!(served.officer.as_deref(), Some("cb-an"));
    assert_eq!(served.dossier.as_deref(), Some("000.00.14.H29-261126-0001"));
    let report = Report::of(&config, DAY, DAY, &[record]);
    let an = row(&report.officers, "cb-an");
    assert_eq!((an.served, an.ratings.satisfied), (1, 1));
    assert_eq!(row(&report.procedures, "cccd").refused, 1);
}
