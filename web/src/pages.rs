//! The pages, compiled into the binary: plain HTML and CSS and a little of the project's
//! own JavaScript, no build step. The words are in the pages as the server sends them.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// `/board`: the hall board for a TV's browser.
pub const BOARD_HTML: &str = include_str!("../pages/board.html");
/// The board's script: it listens to `/board/events` and draws what it gets.
pub const BOARD_JS: &str = include_str!("../pages/board.js");
/// What every page's script shares: drawing in place, the event stream, actions.
pub const DRAW_JS: &str = include_str!("../pages/draw.js");
/// `/counter/{n}` once signed in: the officer's console.
pub const COUNTER_HTML: &str = include_str!("../pages/counter.html");
/// The console's script: it draws the desk's screen and sends the officer's presses.
pub const COUNTER_JS: &str = include_str!("../pages/counter.js");
/// `/rating/{n}` once signed in: the three faces for the citizen.
pub const RATING_HTML: &str = include_str!("../pages/rating.html");
/// The rating page's script.
pub const RATING_JS: &str = include_str!("../pages/rating.js");
/// `/t/{token}`: the citizen's ticket, live, on their phone.
pub const TICKET_HTML: &str = include_str!("../pages/ticket.html");
/// The citizen's page's script.
pub const TICKET_JS: &str = include_str!("../pages/ticket.js");
/// A token of no ticket of today.
pub const UNKNOWN_TICKET_HTML: &str = include_str!("../pages/unknown-ticket.html");
/// Signing in at a counter's console or rating screen.
pub const SIGN_IN_HTML: &str = include_str!("../pages/sign-in.html");
/// The pages' styles.
pub const PAGE_CSS: &str = include_str!("../pages/page.css");
/// The citizen's page's own styles: the phone loads nothing else.
pub const TICKET_CSS: &str = include_str!("../pages/ticket.css");
/// Any address that is no page.
pub const NOT_FOUND_HTML: &str = include_str!("../pages/not-found.html");

/// The city's pages' style.
pub const CITY_CSS: &str = include_str!("../pages/city.css");

/// The scripts and styles, by address.
pub const ASSETS: [(&str, &str, &str); 8] = [
    ("/static/draw.js", "text/javascript", DRAW_JS),
    ("/static/board.js", "text/javascript", BOARD_JS),
    ("/static/counter.js", "text/javascript", COUNTER_JS),
    ("/static/rating.js", "text/javascript", RATING_JS),
    ("/static/ticket.js", "text/javascript", TICKET_JS),
    ("/static/page.css", "text/css", PAGE_CSS),
    ("/static/ticket.css", "text/css", TICKET_CSS),
    ("/static/city.css", "text/css", CITY_CSS),
];

/// Text made safe to put in HTML.
pub fn escape(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("&lt;"),
            '>' => safe.push_str("&gt;"),
            '"' => safe.push_str("&quot;"),
            '\'' => safe.push_str("&#39;"),
            c => safe.push(c),
        }
    }
    safe
}

/// The Vietnamese "no such page".
pub fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND_HTML)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_markup_is_shown_as_text() {
        assert_eq!(
            escape("Quầy <b>3</b> & \"4\""),
            "Quầy &lt;b&gt;3&lt;/b&gt; &amp; &quot;4&quot;"
        );
    }
}
