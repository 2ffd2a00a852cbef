//! The `lianrong` binary. Thin by design: it parses the command line, opens the app and hands over to
//! `web` (serve), `app::demo` (demo) or the admin use cases.
#![forbid(unsafe_code)]

mod admin;
mod bench;
mod mail;
mod options;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use options::{DbOptions, ServeOptions};

#[derive(Parser)]
#[command(name = "lianrong", version, about = "Lianrong 链融 — industry-chain supply-chain finance platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and console on an existing (or new) database.
    Serve {
        #[command(flatten)]
        db: DbOptions,
        #[command(flatten)]
        serve: ServeOptions,
    },
    /// Build a fresh demo world in a SQLite file and serve it.
    Demo {
        /// Seed of the demo world; the same seed builds the same world.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Folder for the demo database (`demo.db`, replaced on every run).
        #[arg(long, default_value = "./lianrong-data")]
        data_dir: std::path::PathBuf,
        #[command(flatten)]
        serve: ServeOptions,
        /// Build the world and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Build and serve the world on this business date (YYYY-MM-DD) instead of today's: its trade,
        /// due dates, maturities and consents are placed relative to it, and every rule is judged on it.
        /// Instants (sessions, audit times) still follow the wall clock.
        #[arg(long, env = "LIANRONG_BUSINESS_DATE", value_parser = parse_business_date)]
        business_date: Option<jiff::civil::Date>,
    },
    /// Administration: organisations, users, passwords, API keys, migrations.
    Admin {
        #[command(flatten)]
        db: DbOptions,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Measure start-up, demo build time and memory; prints figures for docs/BENCHMARKS.md.
    Bench(bench::BenchArgs),
    /// Check the verifiable log's proofs offline against saved tree heads (no network, no database).
    Verify {
        #[command(subcommand)]
        command: verify::VerifyCommand,
    },
}

fn parse_business_date(text: &str) -> Result<jiff::civil::Date, String> {
    lianrong_app::clock::parse_business_date(text)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let json = std::env::var("LIANRONG_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { db, serve } => options::serve(db, serve).await,
            Command::Demo { seed, data_dir, serve, no_serve, business_date } => {
                options::demo(seed, &data_dir, serve, no_serve, business_date).await
            }
            Command::Admin { db, command } => admin::run(db, command).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Verify { command } => verify::run(command),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("错误 / error: {message}");
            ExitCode::FAILURE
        }
    }
}
