// Mystery rolls and provider payloads allocate many small strings; mimalloc handles that
// workload markedly faster than the system allocator (see the benchmark in the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    seedgen::cli::main()
}
