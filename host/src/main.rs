//! `floor`: parse arguments, hand over to [`floor_host::cli`].

fn main() -> std::process::ExitCode {
    floor_host::cli::main()
}
