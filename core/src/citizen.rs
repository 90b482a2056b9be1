//! What the citizen's page says about their ticket, in the words the citizen reads: where
//! it is in line, the call to a counter, and how it ended. No personal data: the ticket
//! carries none.

use serde::Serialize;

use crate::protocol::{Followed, TicketState};
use crate::SiteConfig;

/// The key a ticket's page is found by where the token is not known (at the city): the
/// SHA-256 of the token in the ticket's QR, in hex. The token cannot be worked back from
/// it, so whoever reads the events cannot open or rate the ticket's page.
pub fn page_key(token: &str) -> String {
    let hash = crate::secret::TokenHash::of(token).to_string();
    hash.trim_start_matches("sha256$").to_string()
}

/// The citizen's page of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketPage {
    /// The office's name.
    pub office: String,
    /// "1023".
    pub label: String,
    /// The procedure it is in line for now.
    pub procedure: String,
    /// `waiting`, `called`, `absent`, `done` or `expired`: how the page looks.
    pub state: &'static str,
    /// The line in large type: "Mời ông/bà đến Quầy 3".
    pub headline: String,
    /// What else to know: people ahead and the wait, a transfer.
    pub detail: String,
    /// Changes with every call and recall: a new one vibrates the phone.
    pub call: Option<String>,
    /// Served and not rated yet: the page asks for a rating.
    pub ask_rating: bool,
}

impl TicketPage {
    /// The page for `followed`.
    pub fn of(followed: &Followed, config: &SiteConfig) -> TicketPage {
        let ticket = &followed.ticket;
        let procedure_name = |id: &str| {
            config
                .procedure(id)
                .map_or(id.to_string(), |p| p.name_vi.clone())
        };
        let counter = ticket.counter.map(|n| config.counter_name(n));
        let transferred = ticket
            .issued_for
            .as_ref()
            .filter(|from| **from != ticket.procedure)
            .map(|_| {
                format!(
                    "Ông/bà đã được chuyển sang: {}.",
                    procedure_name(&ticket.procedure)
                )
            });
        let (state, headline, detail) = match ticket.state {
            TicketState::Waiting => {
                let line = match (followed.ahead, followed.wait_minutes) {
                    (0, _) => "Ông/bà là người tiếp theo.".to_string(),
                    (n, Some(m)) if m > 0 => {
                        format!("Trước ông/bà: {n} người · khoảng {m} phút.")
                    }
                    (n, _) => format!("Trước ông/bà: {n} người."),
                };
                let line = match &transferred {
                    Some(moved) => format!("{moved} {line}"),
                    None => line,
                };
                ("waiting", "Đang chờ đến lượt".to_string(), line)
            }
            TicketState::Called => {
                let at = counter.clone().unwrap_or_else(|| "quầy".into());
                let headline = if ticket.recalls > 0 {
                    format!("Mời lại ông/bà đến {at}")
                } else {
                    format!("Mời ông/bà đến {at}")
                };
                ("called", headline, "Xin mời ông/bà đến ngay.".to_string())
            }
            TicketState::NoShow => (
                "absent",
                "Ông/bà đã vắng mặt khi được gọi".to_string(),
                "Hãy đến quầy và đưa phiếu cho cán bộ để được vào lại hàng chờ.".to_string(),
            ),
            TicketState::Completed => (
                "done",
                "Đã giải quyết xong. Cảm ơn ông/bà!".to_string(),
                match ticket.rating {
                    Some(rating) => format!("Ông/bà đã đánh giá: {}.", rating.name_vi()),
                    None => String::new(),
                },
            ),
            TicketState::Expired => (
                "expired",
                "Phiếu đã hết hạn".to_string(),
                "Ngày làm việc của phiếu đã kết thúc. Hãy lấy số mới.".to_string(),
            ),
        };
        TicketPage {
            office: config.site.name.clone(),
            label: ticket.label.clone(),
            procedure: procedure_name(&ticket.procedure),
            state,
            headline,
            detail,
            call: (ticket.state == TicketState::Called)
                .then(|| format!("{}-{}", counter.unwrap_or_default(), ticket.recalls)),
            ask_rating: ticket.state == TicketState::Completed && ticket.rating.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Rating;

    fn followed(state: TicketState) -> Followed {
        let mut ticket = crate::sample::print_job("1023").ticket;
        ticket.state = state;
        Followed {
            token: "t".into(),
            ticket,
            ahead: 4,
            wait_minutes: Some(20),
        }
    }

    #[test]
    fn the_page_follows_the_ticket_in_words() {
        let config = SiteConfig::default_site();
        let waiting = TicketPage::of(&followed(TicketState::Waiting), &config);
        assert_eq!(waiting.detail, "Trước ông/bà: 4 người · khoảng 20 phút.");
        assert_eq!(waiting.call, None);

        let mut called = followed(TicketState::Called);
        called.ticket.counter = Some(3);
        let page = TicketPage::of(&called, &config);
        assert_eq!(page.headline, "Mời ông/bà đến Quầy 3");
        called.ticket.recalls = 1;
        let again = TicketPage::of(&called, &config);
        assert_eq!(again.headline, "Mời lại ông/bà đến Quầy 3");
        assert_ne!(again.call, page.call, "a recall vibrates again");

        let mut done = followed(TicketState::Completed);
        assert!(TicketPage::of(&done, &config).ask_rating);
        done.ticket.rating = Some(Rating::Satisfied);
        let rated = TicketPage::of(&done, &config);
        assert!(!rated.ask_rating, "rated once");
        assert_eq!(rated.detail, "Ông/bà đã đánh giá: hài lòng.");
    }

    #[test]
    fn a_transferred_ticket_says_where_it_went() {
        let config = SiteConfig::default_site();
        let mut moved = followed(TicketState::Waiting);
        moved.ticket.issued_for = Some("cccd".into());
        moved.ticket.procedure = "cu-tru".into();
        let page = TicketPage::of(&moved, &config);
        assert!(
            page.detail
                .starts_with("Ông/bà đã được chuyển sang: Đăng ký cư trú."),
            "{}",
            page.detail
        );
    }
}
