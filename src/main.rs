//! `pathogait`: the `PathoGait` Studio binary. Subcommands run the core headless; see `--help`.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// jemalloc keeps freed tensor buffers for reuse, and never hands them back to the kernel (its
/// purge settings are fixed at build time in `.cargo/config.toml`): glibc's malloc returned
/// megabyte-sized buffers after every operation, mimalloc a second after their last use, and the
/// page faults of getting them again (the kernel zeroing each page) took up to a fifth of a
/// training fold.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// mimalloc where jemalloc does not build (MSVC).
#[cfg(target_env = "msvc")]
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
