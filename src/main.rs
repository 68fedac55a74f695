//! The `citymesh` binary: parse the command line, set up logging, run, map errors to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = citymesh::cli::Cli::parse();
    // A running node tells what it does (its dependencies only when something is wrong);
    // one-off commands speak only when something is wrong.
    let default_level = if matches!(cli.command, citymesh::cli::Command::Run(_)) {
        "warn,citymesh=info,libp2p_kad=error"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let colour = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour).init();
    match citymesh::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if citymesh::cli::reader_gone(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
