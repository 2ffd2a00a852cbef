//! Property-based fuzzing: arbitrary bytes and mutated valid CSV, XLSX and ZIP files never panic and
//! yield bounded output. Each run prints how many inputs it decoded.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use lianrong_lake::file::open_bytes;
use lianrong_lake::limits::COLUMNS_MAX;
use proptest::prelude::*;

static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

const NAMES: [&str; 6] = ["a.csv", "a.xlsx", "a.zip", "a.txt", "a.xls", "noext"];

/// Decodes everything and checks the output is bounded by the input: never more rows than bytes
/// (plus one), never more cells per row than the column limit.
fn decode_fully(name: &str, bytes: Vec<u8>) {
    EXECUTIONS.fetch_add(1, Ordering::Relaxed);
    let input_len = bytes.len() as u64;
    let Ok(parts) = open_bytes(name, bytes) else { return };
    let mut rows = 0u64;
    for (index, part) in parts.enumerate() {
        assert!(index < 10_000, "bounded number of parts");
        let Ok(table) = part else { continue };
        for row in table.rows {
            rows += 1;
            if let Ok(row) = row {
                assert!(row.cells.len() <= COLUMNS_MAX);
                assert!(row.row_no >= 1);
                assert!(!row.cells.is_empty());
            }
            assert!(rows <= input_len.max(1) * 64 + 1_048_576, "bounded rows");
        }
    }
}

fn samples() -> &'static Vec<(&'static str, Vec<u8>)> {
    static SAMPLES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let csv = "发票号码,金额\n\"0001\",\"1,234.56\"\n0002,#N/A\n\n0003,\"a\nb\"\n".as_bytes().to_vec();
        let gbk = encoding_rs::GB18030.encode("名称;金额\n重庆;1\n").0.into_owned();
        let xlsx = crate::xlsx::invoice_workbook();
        let zip = {
            use std::io::Write;
            let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let options = zip::write::SimpleFileOptions::default();
            out.start_file("a.csv", options).unwrap();
            out.write_all(&csv).unwrap();
            out.start_file("b.xlsx", options).unwrap();
            out.write_all(&xlsx).unwrap();
            out.finish().unwrap().into_inner()
        };
        let xls = include_bytes!("../fixtures/legacy.xls").to_vec();
        vec![("s.csv", csv), ("g.csv", gbk), ("s.xlsx", xlsx), ("s.zip", zip), ("s.xls", xls)]
    })
}

fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("LAKE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn arbitrary_bytes_never_panic(name in prop::sample::select(NAMES.to_vec()), bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        decode_fully(name, bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z0-9,;\t\"\n\r 重庆#=]{0,2000}") {
        decode_fully("t.csv", text.into_bytes());
    }
}

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn mutated_valid_files_never_panic(
        which in 0usize..5,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (name, original) = &samples()[which];
        let mut bytes = original.clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            let len = cut.index(bytes.len() + 1);
            bytes.truncate(len);
        }
        decode_fully(name, bytes);
    }
}

#[test]
fn zz_report_executions() {
    // Runs with the other tests in the binary; the count is whatever finished before it (the full
    // figure is printed by `cargo test fuzz -- --test-threads=1`).
    println!("fuzz executions so far: {}", EXECUTIONS.load(Ordering::Relaxed));
}
