//! The `scanrig` command.

fn main() -> std::process::ExitCode {
    scanrig::cli::main()
}
