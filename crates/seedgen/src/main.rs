fn main() -> std::process::ExitCode {
    seedgen::cli::main()
}
