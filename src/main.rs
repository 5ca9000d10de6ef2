fn main() -> std::process::ExitCode {
    claimtrail::cli::main()
}
