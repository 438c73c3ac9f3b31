fn main() -> std::process::ExitCode {
    platform::cli::main_with::<api::ApiService, api::cli::Command>(|command, settings| {
        Box::pin(api::cli::run(command, settings))
    })
}
