fn main() -> std::process::ExitCode {
    platform::cli::main_with::<tournament::TournamentService, tournament::cli::Command>(
        |command, settings| Box::pin(tournament::cli::run(command, settings)),
    )
}
