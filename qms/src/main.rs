fn main() -> std::process::ExitCode {
    qms::main()
}
