//! `pathogait`: the `PathoGait` Studio binary. Subcommands run the core headless; see `--help`.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc keeps freed tensor buffers for reuse; glibc's malloc handed megabyte-sized ones
/// back to the kernel after every operation, and the page faults of getting them again took
/// about a tenth of a training step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
