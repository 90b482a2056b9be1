use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::config::{Hours, DEFAULT_CONFIG};
use crate::protocol::Rating;

/// Thursday 26 November 2026, 08:00 in Hồ Chí Minh City.
const MORNING: OffsetDateTime = datetime!(2026-11-26 08:00 +7);

struct Office {
    config: SiteConfig,
    state: QueueState,
    now: OffsetDateTime,
    log: Vec<Event>,
}

impl Office {
    fn new() -> Office {
        Office::with(DEFAULT_CONFIG)
    }

    /// Every counter's console online.
    fn with(text: &str) -> Office {
        let config = SiteConfig::parse(text).unwrap();
        let mut state = QueueState::default();
        for device in config.devices.iter().filter(|d| d.role == Role::Counter) {
            state.device_online(&device.id, true);
        }
        Office {
            config,
            state,
            now: MORNING,
            log: Vec::new(),
        }
    }

    fn run(&mut self, device: &str, command: Command) -> Result<Answer, CommandError> {
        let actor = Actor::of(&self.config, device)?;
        let outcome = self.state.execute(&self.config, &actor, &command, self.now);
        self.log.extend(outcome.events);
        outcome.answer
    }

    fn issue(&mut self, procedure: &str) -> Ticket {
        self.issue_with(procedure, None)
    }

    fn issue_with(&mut self, procedure: &str, priority: Option<PriorityReason>) -> Ticket {
        match self.run("kiosk-1", Command::issue(procedure, priority)) {
            Ok(Answer::Ticket { ticket, .. }) => ticket,
            other => panic!("issue failed: {other:?}"),
        }
    }

    fn counter(&mut self, n: u16, command: Command) -> Result<Answer, CommandError> {
        self.run(&format!("counter-{n}"), command)
    }

    fn call_next(&mut self, n: u16) -> String {
        match self.counter(
            n,
            Command::CallNext {
                counter: None,
                dossier: None,
            },
        ) {
            Ok(Answer::Ticket { ticket, .. }) => ticket.label,
            other => panic!("call_next failed: {other:?}"),
        }
    }

    fn code(result: Result<Answer, CommandError>) -> ErrorCode {
        result.expect_err("the command should be refused").code
    }
}

#[test]
fn numbers_start_at_the_block_and_follow_per_procedure() {
    let mut o = Office::new();
    assert_eq!(o.issue("cccd").label, "1001");
    assert_eq!(o.issue("cccd").label, "1002");
    assert_eq!(o.issue("cu-tru").label, "2001");
    let t = o.issue("cccd");
    assert_eq!(t.label, "1003");
    assert_eq!(t.id, "20261126-1003");
    assert_eq!(t.issued_by, "kiosk-1");
}

#[test]
fn numbering_restarts_the_next_day_and_unserved_tickets_expire() {
    let mut o = Office::new();
    let served = o.issue("cccd");
    let left = o.issue("cccd");
    assert_eq!(o.call_next(1), served.label);
    o.now += Duration::days(1);
    assert_eq!(o.issue("cccd").label, "1001");
    let closed = o
        .log
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::DayClosed { expired, .. } => Some(expired.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(closed, vec![served.id, left.id]);
    assert_eq!(o.state.day(), Some(time::macros::date!(2026 - 11 - 27)));
}

#[test]
fn the_day_turns_at_midnight_in_the_site_offset_not_utc() {
    let mut o = Office::new();
    o.config.hours = Hours::always();
    o.now = datetime!(2026-11-26 23:59 +7);
    assert_eq!(o.issue("cccd").label, "1001");
    // 00:10 in Hồ Chí Minh City is still 26 November in UTC.
    o.now = datetime!(2026-11-26 17:10 UTC);
    let t = o.issue("cccd");
    assert_eq!((t.label.as_str(), t.id.as_str()), ("1001", "20261127-1001"));
}

#[test]
fn quota_and_end_of_block_refuse_with_a_reason_for_the_kiosk() {
    let mut o = Office::with(&DEFAULT_CONFIG.replacen("daily_quota = 200", "daily_quota = 2", 1));
    o.issue("cccd");
    o.issue("cccd");
    let e = o.run("kiosk-1", Command::issue("cccd", None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::QuotaReached);
    assert_eq!(e.message, "Hết số hôm nay");
    let board = o.state.board(&o.config, o.now);
    assert_eq!(board.waiting[0].quota_left, Some(0));

    let mut o = Office::with(&DEFAULT_CONFIG.replacen("\"6001-6999\"", "\"6001-6002\"", 1));
    o.issue("chung");
    o.issue("chung");
    assert_eq!(
        Office::code(o.run("kiosk-1", Command::issue("chung", None))),
        ErrorCode::QuotaReached
    );
}

#[test]
fn outside_hours_the_kiosk_is_told_when_the_office_reopens() {
    let mut o = Office::new();
    o.now = datetime!(2026-11-26 12:00 +7);
    let e = o.run("kiosk-1", Command::issue("cccd", None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::OutsideHours);
    assert_eq!(e.message, "Ngoài giờ làm việc — mở lại lúc 13:30");
    o.now = datetime!(2026-11-28 12:00 +7);
    let e = o.run("kiosk-1", Command::issue("cccd", None)).unwrap_err();
    assert_eq!(e.message, "Ngoài giờ làm việc — mở lại lúc 7:30 30/11");
}

#[test]
fn a_counter_calls_the_oldest_ticket_of_the_procedures_it_serves() {
    let mut o = Office::new();
    o.issue("cu-tru"); // 2001, counter 1 does not serve it
    o.issue("cccd"); // 1001
    o.issue("vneid"); // 5001
    o.issue("cccd"); // 1002
    assert_eq!(o.call_next(1), "1001");
    assert_eq!(o.call_next(2), "5001");
    assert_eq!(o.call_next(2), "1002");
    assert_eq!(
        Office::code(o.counter(
            1,
            Command::CallNext {
                counter: None,
                dossier: None
            }
        )),
        ErrorCode::NobodyWaiting
    );
    assert_eq!(o.call_next(3), "2001");
}

#[test]
fn calling_next_completes_the_ticket_being_served() {
    let mut o = Office::new();
    let first = o.issue("cccd");
    o.issue("cccd");
    o.call_next(1);
    o.now += Duration::minutes(7);
    o.call_next(1);
    assert_eq!(
        o.state.ticket(&first.id).unwrap().state,
        TicketState::Completed
    );
    assert!(o.log.iter().any(|e| e.kind
        == EventKind::Completed {
            ticket: first.id.clone(),
            counter: 1,
            service_seconds: 420,
            officer: None,
            dossier: None,
        }));
}

#[test]
fn priority_tickets_are_interleaved_one_after_every_n_normal() {
    let mut o = Office::new(); // every = 2
    for _ in 0..4 {
        o.issue("cccd");
    }
    o.issue_with("cccd", Some(PriorityReason::Elderly)); // 1005
    o.issue_with("cccd", Some(PriorityReason::Pregnant)); // 1006
    o.issue("cccd"); // 1007
    let order: Vec<String> = (0..7).map(|_| o.call_next(1)).collect();
    // The first call of the day takes a waiting priority ticket.
    assert_eq!(
        order,
        ["1005", "1001", "1002", "1006", "1003", "1004", "1007"]
    );
}

/// The defect: a priority ticket called next said "1 person before you", counting the
/// normal tickets it goes before.
#[test]
fn priority_is_invisible_a_priority_ticket_is_told_its_true_place() {
    let mut o = Office::new(); // every = 2
    let ahead = |o: &mut Office, priority| match o.run("kiosk-1", Command::issue("cccd", priority))
    {
        Ok(Answer::Ticket { ahead, .. }) => ahead,
        other => panic!("issue failed: {other:?}"),
    };
    for _ in 0..4 {
        ahead(&mut o, None);
    }
    // Called in the order 1005, 1001, 1002, 1006, 1003, 1004, 1007.
    assert_eq!(ahead(&mut o, Some(PriorityReason::Elderly)), 0, "1005");
    assert_eq!(ahead(&mut o, Some(PriorityReason::Pregnant)), 3, "1006");
    assert_eq!(ahead(&mut o, None), 6, "1007");
    assert_eq!(o.call_next(1), "1005");
    assert_eq!(o.call_next(1), "1001");
    // Counter 2 has called no normal ticket since a priority one: there 1006, 1002 and
    // 1003 come before the new priority ticket.
    assert_eq!(ahead(&mut o, Some(PriorityReason::Disabled)), 3, "1008");
}

/// The defect: counters with no console connected counted as open, so procedures nobody
/// served showed "khoảng 6 phút".
#[test]
fn wait_estimates_count_counters_with_no_console_connected_as_open() {
    let mut o = Office::new();
    o.issue("cu-tru");
    let waiting = |o: &Office| {
        let board = o.state.board(&o.config, o.now);
        let w = board
            .waiting
            .into_iter()
            .find(|w| w.procedure == "cu-tru")
            .unwrap();
        (w.open_counters, w.wait_minutes)
    };
    let (open, minutes) = waiting(&o);
    assert!(open > 0 && minutes.is_some());
    let residence: Vec<String> = o
        .config
        .devices
        .iter()
        .filter(|d| {
            d.role == Role::Counter
                && d.counter.is_some_and(|n| {
                    o.config
                        .counter(n)
                        .unwrap()
                        .procedures
                        .contains(&"cu-tru".to_string())
                })
        })
        .map(|d| d.id.clone())
        .collect();
    assert!(!residence.is_empty());
    for device in &residence {
        assert!(o.state.device_online(device, false));
    }
    assert_eq!(waiting(&o), (0, None), "nobody serves it: no estimate");
    o.state.device_online(&residence[0], true);
    assert_eq!(waiting(&o).0, 1);
}

#[test]
fn a_transferred_ticket_keeps_its_place_in_the_new_line() {
    let mut o = Office::new();
    let t = o.issue("cccd"); // 1001
    o.issue("cu-tru"); // 2001
    o.issue("cu-tru"); // 2002
    o.call_next(1);
    o.counter(
        1,
        Command::Transfer {
            counter: None,
            to_procedure: Some("cu-tru".into()),
            to_counter: None,
        },
    )
    .unwrap();
    let moved = o.state.ticket(&t.id).unwrap();
    assert_eq!(
        (moved.procedure.as_str(), moved.state),
        ("cu-tru", TicketState::Waiting)
    );
    // Issued before 2001 and 2002, so it is called first at a residence counter.
    assert_eq!(o.call_next(3), "1001");
    assert_eq!(o.call_next(3), "2001");
}

#[test]
fn a_ticket_transferred_to_a_counter_is_called_only_there() {
    let mut o = Office::new();
    o.issue("cu-tru"); // 2001
    o.issue("cu-tru"); // 2002
    o.call_next(3);
    o.counter(
        3,
        Command::Transfer {
            counter: None,
            to_procedure: None,
            to_counter: Some(4),
        },
    )
    .unwrap();
    assert_eq!(o.call_next(3), "2002");
    assert_eq!(o.call_next(4), "2001");
    // Counter 1 does not serve residence: a transfer there is refused.
    o.issue("cu-tru");
    o.call_next(3);
    assert_eq!(
        Office::code(o.counter(
            3,
            Command::Transfer {
                counter: None,
                to_procedure: None,
                to_counter: Some(1)
            }
        )),
        ErrorCode::InvalidState
    );
}

#[test]
fn a_no_show_can_be_reactivated_and_returns_to_its_place() {
    let mut o = Office::new();
    let t = o.issue("cccd");
    o.issue("cccd");
    o.call_next(1);
    o.counter(1, Command::Recall { counter: None }).unwrap();
    o.counter(1, Command::NoShow { counter: None }).unwrap();
    assert_eq!(o.state.ticket(&t.id).unwrap().state, TicketState::NoShow);
    assert_eq!(o.state.ticket(&t.id).unwrap().recalls, 1);
    o.counter(
        1,
        Command::Reactivate {
            ticket: t.label.clone(),
            counter: None,
        },
    )
    .unwrap();
    assert_eq!(o.call_next(1), "1001");
    // Only a no-show can be reactivated.
    assert_eq!(
        Office::code(o.counter(
            1,
            Command::Reactivate {
                ticket: t.id.clone(),
                counter: None
            }
        )),
        ErrorCode::InvalidState
    );
}

#[test]
fn recalls_show_again_on_the_board() {
    let mut o = Office::new();
    o.issue("cccd");
    o.call_next(1);
    o.counter(1, Command::Recall { counter: None }).unwrap();
    let board = o.state.board(&o.config, o.now);
    assert_eq!(
        board.calls.len(),
        1,
        "a recall moves the call up, it is not listed twice"
    );
    assert_eq!(
        (board.calls[0].label.as_str(), board.calls[0].recall),
        ("1001", 1)
    );
    assert_eq!(board.counters[0].status, CounterStatus::Serving);
}

#[test]
fn roles_are_checked_per_device() {
    let mut o = Office::new();
    o.issue("cccd");
    // A display cannot call; a kiosk cannot call; counter 3 cannot act for counter 4.
    assert_eq!(
        Office::code(o.run(
            "display-hall",
            Command::CallNext {
                counter: Some(1),
                dossier: None
            }
        )),
        ErrorCode::Forbidden
    );
    assert_eq!(
        Office::code(o.run(
            "kiosk-1",
            Command::CallNext {
                counter: Some(1),
                dossier: None
            }
        )),
        ErrorCode::Forbidden
    );
    assert_eq!(
        Office::code(o.counter(
            3,
            Command::CallNext {
                counter: Some(4),
                dossier: None
            }
        )),
        ErrorCode::Forbidden
    );
    assert_eq!(
        Office::code(o.counter(3, Command::issue("cccd", None))),
        ErrorCode::Forbidden
    );
    assert_eq!(
        Office::code(o.run(
            "stranger",
            Command::CallNext {
                counter: Some(1),
                dossier: None
            }
        )),
        ErrorCode::UnknownDevice
    );
    // An admin acts for the counter it names, and must name one.
    assert_eq!(
        Office::code(o.run(
            "admin",
            Command::CallNext {
                counter: None,
                dossier: None
            }
        )),
        ErrorCode::BadRequest
    );
    assert!(o
        .run(
            "admin",
            Command::CallNext {
                counter: Some(1),
                dossier: None
            }
        )
        .is_ok());
}

#[test]
fn the_wait_estimate_uses_recent_service_times_and_open_counters() {
    let mut o = Office::new(); // cccd: 10 minutes, counters 1 and 2
    let first = o.issue("cccd");
    match o.run("kiosk-1", Command::issue("cccd", None)) {
        Ok(Answer::Ticket {
            ahead,
            wait_minutes,
            ..
        }) => assert_eq!((ahead, wait_minutes), (1, Some(5))),
        other => panic!("{other:?}"),
    }
    o.counter(2, Command::Pause { counter: None }).unwrap();
    o.call_next(1);
    o.now += Duration::minutes(4);
    o.counter(
        1,
        Command::Complete {
            counter: None,
            dossier: None,
        },
    )
    .unwrap();
    assert_eq!(
        o.state.ticket(&first.id).unwrap().state,
        TicketState::Completed
    );
    for _ in 0..3 {
        o.issue("cccd");
    }
    // 4 waiting × 4 minutes ÷ 1 open counter.
    let w = &o.state.board(&o.config, o.now).waiting[0];
    assert_eq!(
        (w.waiting, w.open_counters, w.wait_minutes),
        (4, 1, Some(16))
    );
    o.counter(1, Command::Pause { counter: None }).unwrap();
    assert_eq!(
        o.state.board(&o.config, o.now).waiting[0].wait_minutes,
        None
    );
}

#[test]
fn a_completed_ticket_is_rated_once() {
    let mut o = Office::new();
    let t = o.issue("cccd");
    o.call_next(1);
    let rate = Command::Rate {
        ticket: t.id.clone(),
        rating: Rating::VerySatisfied,
    };
    assert_eq!(
        Office::code(o.run("rating-1", rate.clone())),
        ErrorCode::InvalidState
    );
    o.counter(
        1,
        Command::Complete {
            counter: None,
            dossier: None,
        },
    )
    .unwrap();
    assert_eq!(
        Office::code(o.run("rating-2", rate.clone())),
        ErrorCode::Forbidden,
        "another counter's rating screen"
    );
    o.run("rating-1", rate.clone()).unwrap();
    assert_eq!(
        o.state.ticket(&t.id).unwrap().rating,
        Some(Rating::VerySatisfied)
    );
    assert_eq!(
        Office::code(o.run("rating-1", rate)),
        ErrorCode::InvalidState
    );
}

#[test]
fn replaying_the_events_rebuilds_the_same_state() {
    let mut o = Office::new();
    for s in ["cccd", "cu-tru", "cccd", "vneid", "xu-phat"] {
        o.issue(s);
    }
    o.issue_with("cccd", Some(PriorityReason::Disabled));
    o.call_next(1);
    o.call_next(2);
    o.counter(2, Command::NoShow { counter: None }).unwrap();
    o.call_next(3);
    o.counter(
        3,
        Command::Transfer {
            counter: None,
            to_procedure: Some("chung".into()),
            to_counter: Some(4),
        },
    )
    .unwrap();
    o.counter(5, Command::Pause { counter: None }).unwrap();

    let mut replayed = QueueState::default();
    for e in &o.log {
        replayed.apply(e);
    }
    // Who is online is not an event: the broker tells a restarted authority again.
    replayed.online = o.state.online.clone();
    let board = |s: &QueueState| serde_json::to_string(&s.board(&o.config, o.now)).unwrap();
    assert_eq!(board(&replayed), board(&o.state));
    assert_eq!(replayed.seq(), o.state.seq());
    assert_eq!(replayed.tickets, o.state.tickets);
    // And both carry on the same way.
    assert_eq!(o.call_next(4), "2001");
    let mut replayed_office = Office {
        state: replayed,
        ..Office::new()
    };
    assert_eq!(replayed_office.call_next(4), "2001");
}

#[test]
fn event_sequence_numbers_only_grow() {
    let mut o = Office::new();
    o.issue("cccd");
    o.call_next(1);
    o.now += Duration::days(1);
    o.issue("cccd");
    let seqs: Vec<u64> = o.log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn a_counter_lists_what_it_may_call_serves_or_marked_absent() {
    let mut o = Office::new();
    o.config.hours = Hours::always();
    let cccd = o.issue("cccd");
    let _ = o.issue("xu-phat");
    let second = o.issue("cccd");
    let third = o.issue("cccd");
    assert_eq!(o.call_next(1), cccd.label);
    o.counter(1, Command::NoShow { counter: None }).unwrap();
    assert_eq!(o.call_next(1), second.label);
    let list = |o: &mut Office, counter: u16| match o.run(
        "admin",
        Command::List {
            procedure: None,
            state: None,
            counter: Some(counter),
            day: None,
        },
    ) {
        Ok(Answer::Tickets(list)) => list
            .into_iter()
            .map(|t| (t.label, t.state))
            .collect::<Vec<_>>(),
        other => panic!("list failed: {other:?}"),
    };
    assert_eq!(
        list(&mut o, 1),
        [
            (cccd.label.clone(), TicketState::NoShow),
            (second.label.clone(), TicketState::Called),
            (third.label.clone(), TicketState::Waiting),
        ],
        "counter 1 does not serve fines"
    );
    assert_eq!(
        list(&mut o, 2),
        [(third.label, TicketState::Waiting)],
        "another counter's no-show and serving ticket are not counter 2's"
    );
}

#[test]
fn a_list_of_another_day_is_empty_here_and_today_by_date_is_today() {
    let mut o = Office::new();
    o.config.hours = Hours::always();
    let ticket = o.issue("cccd");
    let today = o.config.site.business_day(o.now);
    let mut labels = |day: time::Date| match o.run(
        "admin",
        Command::List {
            procedure: None,
            state: None,
            counter: None,
            day: Some(day),
        },
    ) {
        Ok(Answer::Tickets(list)) => list.into_iter().map(|t| t.label).collect::<Vec<_>>(),
        other => panic!("list failed: {other:?}"),
    };
    assert_eq!(labels(today), [ticket.label]);
    assert!(
        labels(today - Duration::days(1)).is_empty(),
        "yesterday's tickets are in the authority's store, not in today's state"
    );
}

#[test]
fn regression_the_clock_stepping_back_across_midnight_never_reopens_a_closed_day() {
    let mut office = Office::new();
    office.config.hours = Hours::always();
    office.now = datetime!(2026-12-03 00:10 +7);
    assert_eq!(office.issue("cccd").id, "20261203-1001");
    // The clock is corrected back to the evening before.
    office.now = datetime!(2026-12-02 23:50 +7);
    assert_eq!(office.issue("cccd").id, "20261203-1002");
    assert_eq!(
        office.state.day(),
        Some(time::macros::date!(2026 - 12 - 03))
    );
    assert!(
        !office
            .log
            .iter()
            .any(|e| matches!(e.kind, EventKind::DayOpened { day } if day.day() == 2)),
        "no day of the 2nd was opened: {:?}",
        office.log
    );
    office.now = datetime!(2026-12-03 00:20 +7);
    assert_eq!(office.issue("cccd").id, "20261203-1003");
}

#[test]
fn the_last_event_time_never_goes_back() {
    let mut office = Office::new();
    office.issue("cccd");
    office.now = MORNING - Duration::minutes(30);
    office.issue("cccd");
    assert_eq!(office.state.last_event_at(), Some(MORNING));
}

/// The default office with two officers who sign in with PIN 2468 and 1357.
fn office_with_officers() -> Office {
    let mut o = Office::new();
    for (id, name, pin) in [
        ("cb-an", "Nguyễn Văn An", "2468"),
        ("cb-binh", "Trần Thị Bình", "1357"),
    ] {
        o.config.officers.push(crate::config::Officer {
            id: id.into(),
            name: name.into(),
            pin_hash: crate::secret::PinHash::of(pin),
            head: false,
        });
    }
    o
}

fn sign_in(officer: &str, pin: &str) -> Command {
    Command::SignIn {
        counter: None,
        officer: officer.into(),
        pin: pin.into(),
    }
}

#[test]
fn where_officers_sign_in_a_counter_calls_only_with_someone_signed_in_and_counts_as_open_then() {
    let mut o = office_with_officers();
    o.issue("cccd");
    let board = o.state.board(&o.config, o.now);
    assert_eq!(board.counters[0].status, CounterStatus::Closed);
    assert_eq!(
        board.waiting[0].open_counters, 0,
        "consoles online, nobody signed in"
    );
    assert_eq!(board.waiting[0].wait_minutes, None);
    let call = Command::CallNext {
        counter: None,
        dossier: None,
    };
    assert_eq!(
        Office::code(o.counter(1, call.clone())),
        ErrorCode::Forbidden
    );
    o.counter(1, sign_in("cb-an", "2468")).unwrap();
    let board = o.state.board(&o.config, o.now);
    assert_eq!(board.counters[0].status, CounterStatus::Idle);
    assert_eq!(board.counters[0].officer.as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(board.waiting[0].open_counters, 1);
    let Answer::Ticket { ticket, .. } = o.counter(1, call).unwrap() else {
        panic!("a call");
    };
    assert_eq!(ticket.officer.as_deref(), Some("cb-an"));
    assert!(o.log.iter().any(|e| matches!(&e.kind,
        EventKind::Called { officer: Some(who), .. } if who == "cb-an")));
    o.counter(1, Command::SignOut { counter: None }).unwrap();
    assert_eq!(o.state.officer_at(1), None);
    assert_eq!(
        Office::code(o.counter(1, Command::SignOut { counter: None })),
        ErrorCode::InvalidState
    );
}

#[test]
fn an_officer_is_at_one_counter_and_a_counter_has_one_officer() {
    let mut o = office_with_officers();
    o.counter(1, sign_in("cb-an", "2468")).unwrap();
    o.counter(2, sign_in("cb-an", "2468")).unwrap();
    assert_eq!(
        o.state.officer_at(1),
        None,
        "signing in at 2 left counter 1"
    );
    assert_eq!(o.state.officer_at(2), Some("cb-an"));
    o.counter(2, sign_in("cb-binh", "1357")).unwrap();
    assert_eq!(o.state.officer_at(2), Some("cb-binh"));
    let signed_out: Vec<(u16, String)> = o
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::OfficerSignedOut { counter, officer } => Some((*counter, officer.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        signed_out,
        [(1, "cb-an".to_string()), (2, "cb-an".to_string())]
    );
}

#[test]
fn wrong_pins_are_refused_alike_and_five_lock_the_counter_for_five_minutes() {
    let mut o = office_with_officers();
    let wrong = o.counter(1, sign_in("cb-an", "0000")).unwrap_err();
    let unknown = o.counter(1, sign_in("cb-nobody", "2468")).unwrap_err();
    assert_eq!(wrong, unknown, "no telling which officers exist");
    assert_eq!(wrong.message, "Mã cán bộ hoặc PIN không đúng");
    for _ in 0..3 {
        o.counter(1, sign_in("cb-an", "0000")).unwrap_err();
    }
    let locked = o.counter(1, sign_in("cb-an", "2468")).unwrap_err();
    assert!(locked.message.contains("thử lại sau 5 phút"), "{locked:?}");
    o.counter(2, sign_in("cb-an", "2468"))
        .expect("another counter is not locked");
    o.now += Duration::minutes(5);
    o.counter(1, sign_in("cb-binh", "1357"))
        .expect("five minutes later the counter may try again");
}

#[test]
fn a_dossier_code_is_checked_and_kept_with_the_ticket() {
    let mut o = Office::new();
    o.issue("cccd");
    o.issue("cccd");
    o.call_next(1);
    let bad = Command::Complete {
        counter: None,
        dossier: Some("mã hồ sơ; DROP".into()),
    };
    let refused = o.counter(1, bad).unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadRequest);
    assert!(
        refused.message.starts_with("Mã hồ sơ không hợp lệ"),
        "{refused:?}"
    );
    assert!(
        o.state.serving(1).is_ok(),
        "a refused completion completes nothing"
    );
    let next = Command::CallNext {
        counter: None,
        dossier: Some(" H29.22-261126-0007 ".into()),
    };
    o.counter(1, next).unwrap();
    let found = o
        .run(
            "admin",
            Command::FindDossier {
                dossier: "H29.22-261126-0007".into(),
            },
        )
        .unwrap();
    let Answer::Tickets(found) = found else {
        panic!("tickets");
    };
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].label, "1001");
    assert_eq!(found[0].state, TicketState::Completed);
    assert_eq!(
        Office::code(o.run(
            "admin",
            Command::FindDossier {
                dossier: "x".repeat(41)
            }
        )),
        ErrorCode::BadRequest
    );
}

#[test]
fn refused_tickets_are_recorded_once_as_demand_not_met() {
    let mut o = Office::new();
    o.config.procedures[0].daily_quota = Some(1);
    o.issue("cccd");
    assert_eq!(
        Office::code(o.run("kiosk-1", Command::issue("cccd", None))),
        ErrorCode::QuotaReached
    );
    o.now = datetime!(2026-11-26 20:00 +7);
    assert_eq!(
        Office::code(o.run("kiosk-1", Command::issue("cu-tru", None))),
        ErrorCode::OutsideHours
    );
    assert_eq!(
        Office::code(o.run("kiosk-1", Command::issue("nope", None))),
        ErrorCode::UnknownProcedure
    );
    let refused: Vec<(String, ErrorCode)> = o
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::IssueRefused { procedure, code } => Some((procedure.clone(), *code)),
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("cccd".to_string(), ErrorCode::QuotaReached),
            ("cu-tru".to_string(), ErrorCode::OutsideHours)
        ]
    );
}

#[test]
fn a_long_wait_a_long_pause_and_unusual_services_become_staff_alerts() {
    use crate::alerts::QueueAlert;
    let mut o = Office::new();
    o.config.alerts.wait_minutes = 30;
    o.config.alerts.pause_minutes = 20;
    o.config.alerts.unusual_factor = 3.0;
    let complete = || Command::Complete {
        counter: None,
        dossier: None,
    };
    // Five services of 10 minutes at counter 1 make the usual.
    for _ in 0..5 {
        o.issue("cccd");
        o.call_next(1);
        o.now += Duration::minutes(10);
        o.counter(1, complete()).unwrap();
    }
    assert_eq!(o.state.queue_alerts(&o.config, o.now), []);
    let a = o.issue("cccd");
    let b = o.issue("cccd");
    o.call_next(1);
    o.now += Duration::minutes(2);
    o.counter(1, complete()).unwrap();
    assert_eq!(
        o.state.queue_alerts(&o.config, o.now),
        [QueueAlert::UnusualService {
            counter: 1,
            label: a.label.clone(),
            minutes: 2,
            usual_minutes: 10,
            longer: false
        }],
        "2 minutes where 10 is usual"
    );
    o.counter(5, Command::Pause { counter: None }).unwrap();
    o.now += Duration::minutes(16);
    assert_eq!(
        o.state.queue_alerts(&o.config, o.now),
        [],
        "the short service is 16 minutes old, B has waited 18, the pause is 16"
    );
    o.now += Duration::minutes(9);
    assert_eq!(
        o.state.queue_alerts(&o.config, o.now),
        [QueueAlert::LongPause {
            counter: 5,
            minutes: 25
        }]
    );
    o.now += Duration::minutes(5);
    let alerts = o.state.queue_alerts(&o.config, o.now);
    assert_eq!(
        alerts[0],
        QueueAlert::LongWait {
            service: "cccd".into(),
            label: b.label.clone(),
            minutes: 32
        }
    );
    assert_eq!(
        alerts[0].words(&o.config),
        format!(
            "Cấp, đổi, cấp lại thẻ Căn cước: số {} đã chờ 32 phút",
            b.label
        )
    );
    o.call_next(1);
    o.now += Duration::minutes(31);
    let alerts = o.state.queue_alerts(&o.config, o.now);
    let words: Vec<String> = alerts.iter().map(|a| a.words(&o.config)).collect();
    assert_eq!(
        alerts,
        [
            QueueAlert::LongPause {
                counter: 5,
                minutes: 61
            },
            QueueAlert::UnusualService {
                counter: 1,
                label: b.label.clone(),
                minutes: 31,
                usual_minutes: 10,
                longer: true
            }
        ],
        "{words:?}"
    );
    assert_eq!(words[0], "Quầy 5 tạm dừng đã 61 phút");
    assert!(
        words[1].starts_with("Phiên bất thường: Quầy 1 số"),
        "{words:?}"
    );
}
