fn main() -> std::process::ExitCode {
    platform::cli::main::<seedgen::SeedgenService>()
}
