//! Compiles the kiosk UI with the bundled font and the English translation.

fn main() {
    qms_ui_build::compile("ui/kiosk.slint", Some("lang"));
}
