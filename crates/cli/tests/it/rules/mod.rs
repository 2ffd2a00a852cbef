//! Table-driven tests at the middle boundary: each capability's rules run in-process against
//! `lianrong_app`'s use cases (no HTTP), one table of named cases per rule, each row with its input and the
//! outcome it expects — the refusal's `code` (and `field`), or the figures that result. They run on the
//! suite's database, SQLite or PostgreSQL (`LIANRONG_TEST_DATABASE_URL`). Each capability also pins the
//! API's whole problem document (RFC 9457) for one representative refusal.

mod application;
mod commitment;
mod confirmation;
mod conservation;
mod credit_line;
mod problem;
mod registration;
mod table;
mod world;
