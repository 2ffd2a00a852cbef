//! The command line of `lianrong bench`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    /// Which benchmark: `startup`, `lake` (the data lake pipeline), `log` (appends and proofs of the verifiable
    /// log), `four-flow` (verifying invoices against orders, deliveries and payments), `commitment`
    /// (concurrent commitment transfers, against pgbench / a bare TPC-B-like run) or `http` (the served
    /// demo under 64 connections, against its own /healthz).
    #[arg(default_value = "startup")]
    pub which: String,
    /// Rows of the generated invoice file (`lake`), or invoices to verify (`four-flow`).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Rounds of the server start-up measurement.
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Also measure on PostgreSQL: a fresh database is created next to this one (and dropped after).
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Working folder (a fresh one under the system temp folder by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Leaves appended by `bench log` (twice: one per transaction, then in batches).
    #[arg(long, default_value_t = 2000)]
    pub leaves: u32,
    /// Concurrent clients of `bench commitment` (each a tier-1 supplier on its own commitment).
    #[arg(long, default_value_t = 16)]
    pub clients: u32,
    /// Seconds each `bench commitment` run lasts (ours, then the bare engine's), or each target of `bench http`.
    #[arg(long, default_value_t = 25)]
    pub seconds: u64,
    /// Operations per client for `bench commitment` instead of a fixed time.
    #[arg(long)]
    pub ops: Option<u64>,
}
