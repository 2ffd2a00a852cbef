//! Micro-benchmark of the lake's hot path: decode a generated 1,000,000-row invoice-like CSV
//! (12 columns, about 150 MB) from disk, then write 1,000,000 rows of Parquet to a local lake.
//!
//! `cargo run --release -p lianrong-lake --example lake_bench [rows]`; wrap it in `/usr/bin/time -v`
//! for peak memory. Prints figures, asserts nothing about time. Two more modes measure workbooks:
//! `lake_bench make-xlsx <path> <rows>` writes an invoice workbook, `lake_bench read <path>` decodes any
//! file (run it alone under `/usr/bin/time -v` for the decoder's own peak memory).

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use lianrong_lake::file::open_path;
use lianrong_lake::{Lake, PartitionKey};

const COLUMNS: [&str; 12] = [
    "发票代码",
    "发票号码",
    "开票日期",
    "销方税号",
    "销方名称",
    "购方税号",
    "购方名称",
    "金额",
    "税率",
    "税额",
    "价税合计",
    "备注",
];
const BATCH_ROWS: usize = 8192;

fn write_csv(path: &std::path::Path, rows: usize) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all("\u{feff}".as_bytes())?;
    writeln!(out, "{}", COLUMNS.join(","))?;
    for i in 0..rows {
        let amount_fen = 10_000 + (i as u64 * 7919) % 9_000_000;
        let tax_fen = amount_fen * 13 / 100;
        writeln!(
            out,
            "5000{:08},{:08},2026-{:02}-{:02},91500000{:010},重庆长安汽车股份有限公司,91500112{:010},重庆两江新区{}号配件有限公司,{}.{:02},13%,{}.{:02},\"{}\",第{}批",
            i % 1000,
            i,
            1 + i % 12,
            1 + i % 28,
            i % 97,
            i % 5000,
            i % 5000,
            amount_fen / 100,
            amount_fen % 100,
            tax_fen / 100,
            tax_fen % 100,
            format_thousands(amount_fen + tax_fen),
            i % 40
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn format_thousands(fen: u64) -> String {
    let yuan = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", fen % 100)
}

fn make_xlsx(path: &str, rows: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string(0, col as u16, *name)?;
    }
    for i in 0..rows {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, format!("5000{:08}", i % 1000))?;
        sheet.write_string(r, 1, format!("{i:08}"))?;
        sheet.write_string(r, 2, format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28))?;
        sheet.write_string(r, 3, format!("91500000{:010}", i % 97))?;
        sheet.write_string(r, 4, "重庆长安汽车股份有限公司")?;
        sheet.write_string(r, 5, format!("91500112{:010}", i % 5000))?;
        sheet.write_string(r, 6, format!("重庆两江新区{}号配件有限公司", i % 5000))?;
        sheet.write_number(r, 7, (10_000 + (i as u64 * 7919) % 9_000_000) as f64 / 100.0)?;
        sheet.write_string(r, 8, "13%")?;
        sheet.write_number(r, 9, 13.0 + (i % 1000) as f64 / 100.0)?;
        sheet.write_number(r, 10, 113.0 + (i % 1000) as f64 / 100.0)?;
        sheet.write_string(r, 11, format!("第{}批", i % 40))?;
    }
    book.save(path)?;
    Ok(())
}

fn read(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (mut rows, mut cells) = (0u64, 0u64);
    for part in open_path(std::path::Path::new(path))? {
        let Ok(table) = part else { continue };
        for row in table.rows.flatten() {
            rows += 1;
            cells += row.cells.len() as u64;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("read {path}: {rows} rows ({cells} cells) in {seconds:.2} s = {:.0} rows/s", rows as f64 / seconds);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("make-xlsx") => {
            let rows = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
            return make_xlsx(args.get(2).map_or("bench.xlsx", String::as_str), rows);
        }
        Some("read") => return read(args.get(2).map_or("bench.xlsx", String::as_str)),
        _ => {}
    }
    let rows: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    // LAKE_BENCH_KEEP=/some/dir keeps the lake there (to inspect it with DuckDB).
    let lake_dir =
        std::env::var_os("LAKE_BENCH_KEEP").map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("lake"));
    let csv_path = dir.path().join("invoices.csv");
    let bytes = write_csv(&csv_path, rows)?;
    println!("generated {rows} rows, {:.1} MB of CSV", bytes as f64 / 1e6);

    // 1. Decode only.
    let started = Instant::now();
    let mut decoded = 0u64;
    let mut cells = 0u64;
    for part in open_path(&csv_path)? {
        let table = part.map_err(|e| e.error)?;
        for row in table.rows {
            let row = row?;
            decoded += 1;
            cells += row.cells.len() as u64;
        }
    }
    let decode_s = started.elapsed().as_secs_f64();
    assert_eq!(decoded, rows as u64 + 1);
    println!(
        "decode: {decoded} rows ({cells} cells) in {decode_s:.2} s = {:.0} rows/s, {:.0} MB/s",
        decoded as f64 / decode_s,
        bytes as f64 / 1e6 / decode_s
    );

    // 2. Decode and write Parquet in one pass (the submission path).
    let schema = Arc::new(Schema::new(
        COLUMNS
            .iter()
            .enumerate()
            .map(|(i, name)| Field::new(*name, if i == 7 { DataType::Int64 } else { DataType::Utf8 }, true))
            .collect::<Vec<_>>(),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let lake = Lake::open(lake_dir.to_str().unwrap_or("lake"))?;
    let key = PartitionKey::new("invoice", "bench", "2026-11")?;
    let started = Instant::now();
    let table = open_path(&csv_path)?.next().ok_or("no table")?.map_err(|e| e.error)?;
    let batch_schema = schema.clone();
    let mut rows_iter = table.rows.skip(1).map_while(Result::ok);
    let batches = std::iter::from_fn(move || {
        let chunk: Vec<_> = rows_iter.by_ref().take(BATCH_ROWS).collect();
        if chunk.is_empty() {
            return None;
        }
        let columns: Vec<ArrayRef> = (0..COLUMNS.len())
            .map(|c| -> ArrayRef {
                if c == 7 {
                    Arc::new(chunk.iter().map(|r| parse_fen(&r.cells[c].text)).collect::<Int64Array>())
                } else {
                    Arc::new(chunk.iter().map(|r| r.cells.get(c).map(|x| x.text.as_str())).collect::<StringArray>())
                }
            })
            .collect();
        RecordBatch::try_new(batch_schema.clone(), columns).ok()
    });
    let file = runtime.block_on(lake.curated().write_partition(&key, schema, batches))?;
    let write_s = started.elapsed().as_secs_f64();
    println!(
        "decode + parquet: {} rows in {write_s:.2} s = {:.0} rows/s, {:.1} MB of Parquet (ZSTD)",
        file.rows.unwrap_or(0),
        file.rows.unwrap_or(0) as f64 / write_s,
        file.bytes as f64 / 1e6
    );
    Ok(())
}

fn parse_fen(text: &str) -> Option<i64> {
    let (yuan, fen) = text.split_once('.').unwrap_or((text, "0"));
    Some(yuan.parse::<i64>().ok()? * 100 + fen.parse::<i64>().ok()?)
}
