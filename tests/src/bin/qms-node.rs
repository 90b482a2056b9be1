//! `qms` itself, built inside this package so that its tests can start it as a process.
fn main() -> std::process::ExitCode {
    qms::main()
}
