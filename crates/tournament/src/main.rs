fn main() -> std::process::ExitCode {
    platform::cli::main::<tournament::TournamentService>()
}
