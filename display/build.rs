//! Compiles the board UI with the bundled font.

fn main() {
    qms_ui_build::compile("ui/board.slint", None);
}
