//! `lianrong bench <which>`: the benchmarks. This module holds the dispatch, `args` the command line,
//! `common` the helpers they share (working folder, scratch PostgreSQL databases, the process's memory,
//! the bare engine's one-row transactions, psql, the actor a benchmark acts as); and one file per
//! benchmark. A benchmark's file uses only `args` and `common`, never another benchmark's file.
//! Figures go to docs/BENCHMARKS.md.

mod args;
mod commitment;
mod common;
mod four_flow;
mod http;
mod lake;
mod log;
mod startup;

pub use args::BenchArgs;

pub async fn run(args: BenchArgs) -> Result<(), String> {
    match args.which.as_str() {
        "startup" => startup::run(&args).await,
        "lake" => lake::run(&args).await,
        "log" => log::run(&args).await,
        "four-flow" => four_flow::run(&args).await,
        "commitment" => commitment::run(&args).await,
        "http" => http::run(&args).await,
        other => {
            Err(format!("unknown benchmark '{other}'; available: startup, lake, log, four-flow, commitment, http"))
        }
    }
}
