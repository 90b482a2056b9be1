//! The pages, compiled into the binary: plain HTML and CSS and a little of the project's
//! own JavaScript, no build step.

/// `/board`: the hall board for a TV's browser.
pub const BOARD_HTML: &str = include_str!("../pages/board.html");
/// The board's script: it listens to `/board/events` and draws what it gets.
pub const BOARD_JS: &str = include_str!("../pages/board.js");
/// The pages' styles.
pub const PAGE_CSS: &str = include_str!("../pages/page.css");
/// Any address that is no page.
pub const NOT_FOUND_HTML: &str = include_str!("../pages/not-found.html");
