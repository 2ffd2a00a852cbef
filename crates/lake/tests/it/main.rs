//! The lake's one integration-test binary: decoding of every supported format with fixtures made here,
//! zip-bomb and path-traversal archives, the raw zone, the curated zone and property-based fuzzing.

mod common;
mod csv;
mod curated;
mod fuzz;
mod raw;
mod s3;
mod xlsx;
mod zip;
