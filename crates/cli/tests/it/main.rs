//! The one integration-test binary. Every test gets a fresh database — SQLite by default, PostgreSQL
//! when `LIANRONG_TEST_DATABASE_URL` names a server — and a fresh server on 127.0.0.1:0, so the same
//! tests prove the platform on both backends (`scripts/test` runs them twice).

mod adversary;
mod application;
mod browser;
mod cli;
mod clock;
mod collection_account;
mod commitment;
mod common;
mod confirmation;
mod consent;
mod credit_line;
mod files;
mod foundation;
mod four_flow;
mod home;
mod lake;
mod lake_bulk;
mod lake_console;
mod library;
mod log;
mod mailbox;
mod paging;
mod product;
mod registration;
mod rules;
mod tenancy;
