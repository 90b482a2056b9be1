//! The authority killed with SIGKILL at random points while a client issues and calls.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use qms_core::protocol::{Command, Reply, Ticket};
use qms_tests::{client, AuthorityProcess, Random, TestOffice, WAIT};

/// What each device does, again and again: two kiosks issue, two counters call.
fn script(device: &str) -> Command {
    match device {
        "kiosk-1" => Command::issue("cccd", None),
        "admin" => Command::issue("cu-tru", None),
        _ => Command::CallNext {
            counter: None,
            dossier: None,
        },
    }
}

const DEVICES: [&str; 4] = ["kiosk-1", "admin", "counter-1", "counter-3"];
const ROUNDS: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kills_at_random_points_no_number_is_issued_twice_and_every_replied_ticket_exists() {
    let office = TestOffice::start();
    let (addr, config, config_file, store) = (
        office.broker,
        &office.config,
        &office.config_file,
        &office.store,
    );
    let mut random = Random::new();
    let mut authority = AuthorityProcess::start(config_file, addr, store);

    // Four devices at once keep the authority busy, so kills land mid-write.
    let mut scripts = Vec::new();
    for device in DEVICES {
        let mut device_client = client(config, addr, device, &[]).await;
        device_client.set_attempt_timeout(Duration::from_millis(300));
        scripts.push(tokio::spawn(async move {
            let mut replies: Vec<(Command, Reply)> = Vec::new();
            for i in 0..ROUNDS {
                let id = format!("{device}-{i}");
                // The same id until a reply comes, across every restart.
                let reply = device_client
                    .send_with_id(&id, script(device), Duration::from_secs(60))
                    .await
                    .unwrap();
                replies.push((script(device), reply));
            }
            replies
        }));
    }

    let mut kills = 0;
    while kills < 10 && !scripts.iter().all(|s| s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(20 + random.below(200))).await;
        authority.kill();
        kills += 1;
        authority = AuthorityProcess::start(config_file, addr, store);
    }
    let mut replies = Vec::new();
    for script in scripts {
        replies.extend(script.await.unwrap());
    }
    assert!(
        kills >= 3,
        "only {kills} kills happened while the clients worked"
    );
    let mut admin = client(config, addr, "admin", &[]).await;

    let issued: Vec<&Ticket> = replies
        .iter()
        .filter(|(c, _)| matches!(c, Command::Issue { .. }))
        .map(|(_, r)| r.ticket.as_ref().expect("every issue got a ticket"))
        .collect();
    let labels: BTreeSet<&str> = issued.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels.len(), issued.len(), "a number was issued twice");
    assert_eq!(issued.len(), 2 * ROUNDS);

    let all = admin
        .send(Command::todays_tickets(), WAIT)
        .await
        .unwrap()
        .tickets
        .unwrap();
    let stored: BTreeMap<&str, &Ticket> = all.iter().map(|t| (t.id.as_str(), t)).collect();
    assert_eq!(stored.len(), all.len());
    for ticket in &issued {
        let kept = stored
            .get(ticket.id.as_str())
            .expect("a replied ticket exists after restart");
        assert_eq!(
            (kept.label.as_str(), kept.procedure.as_str()),
            (ticket.label.as_str(), ticket.procedure.as_str())
        );
    }
    // No ticket exists that nobody was told about: numbering has no holes and no extras.
    assert_eq!(all.len(), issued.len());
    for (command, reply) in &replies {
        if let (Command::CallNext { .. }, Some(called)) = (command, &reply.ticket) {
            assert!(
                stored[called.id.as_str()].called_at.is_some(),
                "{} was called",
                called.label
            );
        }
    }
    authority.kill();
}
