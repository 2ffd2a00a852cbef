//! Lianrong's domain: the types that parse, the state machines that refuse illegal moves and the
//! calculations of the platform. This crate does no I/O and knows no database, HTTP or async runtime;
//! every other crate depends on it and it depends on none of them.
#![forbid(unsafe_code)]

pub mod application;
pub mod chain;
pub mod cluster;
pub mod collection_account;
pub mod commitment;
pub mod confirmation;
pub mod consent;
pub mod core_library;
pub mod credit_line;
pub mod four_flow;
pub mod labelled;
pub mod limits;
pub mod loan;
pub mod log;
pub mod mailbox;
pub mod money;
pub mod org;
pub mod page;
pub mod password;
pub mod penetration;
pub mod product;
pub mod receivable;
pub mod refusal;
pub mod registration;
pub mod role;
pub mod submission;
pub mod text;
pub mod trade;
pub mod uscc;

pub use money::Money;
pub use uscc::Uscc;
