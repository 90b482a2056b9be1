//! Compiles the console and the rating screen with the bundled font.

fn main() {
    qms_ui_build::compile("ui/counter.slint", None);
}
