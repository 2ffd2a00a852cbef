use lianrong_lake::file::{CellKind, Format, MergedRange, open_bytes};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Formula, Workbook};

use crate::common::{open_error, read_all};

/// A workbook as finance staff send it: a data sheet with text, numbers, a date, a formula and a
/// merged title, an empty sheet and a hidden sheet.
pub fn invoice_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let date = XFormat::new().set_num_format("yyyy-mm-dd");
    let datetime = XFormat::new().set_num_format("yyyy-mm-dd hh:mm");
    let merged = XFormat::new();
    let sheet = book.add_worksheet();
    sheet.set_name("发票").unwrap();
    sheet.merge_range(0, 0, 0, 3, "2026年11月发票清单", &merged).unwrap();
    for (col, title) in ["发票号码", "金额", "开票日期", "数量", "合计", "开票时间", "已核"].iter().enumerate()
    {
        sheet.write_string(1, col as u16, *title).unwrap();
    }
    sheet.write_string(2, 0, "00012345").unwrap();
    sheet.write_number(2, 1, 1234.56).unwrap();
    sheet.write_datetime_with_format(2, 2, ExcelDateTime::from_ymd(2026, 11, 5).unwrap(), &date).unwrap();
    sheet.write_number(2, 3, 42.0).unwrap();
    sheet.write_formula(2, 4, Formula::new("=B3*D3").set_result("51851.52")).unwrap();
    sheet
        .write_datetime_with_format(2, 5, ExcelDateTime::parse_from_str("2026-11-05 13:45:00").unwrap(), &datetime)
        .unwrap();
    sheet.write_boolean(2, 6, true).unwrap();
    sheet.write_string(4, 0, "00012346").unwrap();
    sheet.write_number(4, 1, 0.1 + 0.2).unwrap();
    sheet.write_number(4, 2, 46000.0).unwrap(); // a serial date without a date format stays a number
    sheet.write_number(4, 3, 7.0).unwrap();
    sheet.write_string(4, 6, "   ").unwrap();
    let empty = book.add_worksheet();
    empty.set_name("空表").unwrap();
    let hidden = book.add_worksheet();
    hidden.set_name("参数").unwrap();
    hidden.write_string(0, 1, "隐藏").unwrap();
    hidden.set_hidden(true);
    book.save_to_buffer().unwrap()
}

#[test]
fn a_workbook_becomes_one_table_per_sheet_with_true_kinds() {
    let parts = read_all(open_bytes("发票.xlsx", invoice_workbook()).unwrap());
    assert_eq!(parts.len(), 3);
    let sheet = parts[0].as_ref().unwrap();
    assert_eq!(sheet.format, Format::Xlsx);
    assert_eq!(sheet.sheet_name.as_deref(), Some("发票"));
    assert_eq!(sheet.encoding, None);
    assert_eq!(sheet.merged, vec![MergedRange { first_row_no: 1, last_row_no: 1, first_col: 0, last_col: 3 }]);
    assert!(sheet.merged[0].covers_row(1) && !sheet.merged[0].covers_row(2));
    let texts = sheet.texts();
    assert_eq!(texts[0], (1, vec!["2026年11月发票清单"]));
    assert_eq!(
        texts[2],
        (3, vec!["00012345", "1234.56", "2026-11-05", "42", "51851.52", "2026-11-05 13:45:00", "TRUE"])
    );
    assert_eq!(texts[3], (5, vec!["00012346", "0.3", "46000", "7"]), "row 4 is empty and skipped, whitespace trims");
    assert_eq!(sheet.kind_at(3, 0), CellKind::Text);
    assert_eq!(sheet.kind_at(3, 1), CellKind::Number);
    assert_eq!(sheet.kind_at(3, 2), CellKind::Date);
    assert_eq!(sheet.kind_at(3, 4), CellKind::Formula);
    assert_eq!(sheet.kind_at(3, 6), CellKind::Bool);
    assert_eq!(sheet.kind_at(5, 2), CellKind::Number);

    let empty = parts[1].as_ref().unwrap_err();
    assert_eq!((empty.error.code, empty.sheet_name.as_deref()), ("sheet_empty", Some("空表")));

    let hidden = parts[2].as_ref().unwrap();
    assert!(hidden.sheet_hidden);
    assert_eq!(hidden.texts(), vec![(1, vec!["", "隐藏"])], "cells keep their columns from A");
}

#[test]
fn an_all_empty_workbook_is_reported_once() {
    let mut book = Workbook::new();
    book.add_worksheet();
    book.add_worksheet();
    let parts = read_all(open_bytes("empty.xlsx", book.save_to_buffer().unwrap()).unwrap());
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].as_ref().unwrap_err().error.code, "workbook_empty");
}

#[test]
fn the_extension_does_not_decide_a_workbook() {
    let parts = read_all(open_bytes("renamed.csv", invoice_workbook()).unwrap());
    assert_eq!(parts[0].as_ref().unwrap().format, Format::Xlsx);
}

/// A minimal XLSX package whose worksheet part inflates far beyond its compressed size.
fn xlsx_bomb(sheet_bytes: usize) -> Vec<u8> {
    use std::io::Write;
    let real = invoice_workbook();
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(real)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.start_file(name.as_str(), options).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let pad = vec![b' '; sheet_bytes];
            out.write_all(&data[..data.len() - 12]).unwrap();
            out.write_all(&pad).unwrap();
            out.write_all(&data[data.len() - 12..]).unwrap();
        } else {
            out.write_all(&data).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn an_xlsx_zip_bomb_is_refused_before_it_is_read() {
    let bomb = xlsx_bomb(8 * 1024 * 1024);
    assert!(bomb.len() < 100 * 1024, "the fixture is small: {} bytes", bomb.len());
    assert_eq!(open_error("bomb.xlsx", bomb).code, "zip_bomb");
}

#[test]
fn a_password_protected_or_damaged_workbook_is_an_error_not_a_crash() {
    let mut damaged = invoice_workbook();
    let cut = damaged.len() / 2;
    damaged.truncate(cut);
    let err = match open_bytes("cut.xlsx", damaged) {
        Err(e) => e.code,
        Ok(parts) => read_all(parts).into_iter().find_map(|p| p.err()).map(|p| p.error.code).unwrap_or("none"),
    };
    assert!(
        ["zip_unreadable", "xlsx_unreadable", "unsupported_format", "csv_malformed", "encoding_invalid"].contains(&err),
        "{err}"
    );
}

#[test]
fn a_cfb_that_is_not_a_workbook_is_refused() {
    let mut fake = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    fake.extend(vec![0u8; 600]);
    assert_eq!(open_error("old.xls", fake).code, "xls_unreadable");
}

const LEGACY_XLS: &[u8] = include_bytes!("../fixtures/legacy.xls");

#[test]
fn a_legacy_xls_workbook_is_read_like_xlsx() {
    let parts = read_all(open_bytes("旧版.xls", LEGACY_XLS.to_vec()).unwrap());
    let sheet = parts[0].as_ref().unwrap();
    assert_eq!(sheet.format, Format::Xls);
    assert_eq!(sheet.sheet_name.as_deref(), Some("发票"));
    assert_eq!(sheet.merged, vec![MergedRange { first_row_no: 1, last_row_no: 1, first_col: 0, last_col: 2 }]);
    let texts = sheet.texts();
    assert_eq!(texts[0], (1, vec!["2026年11月发票清单"]));
    assert_eq!(&texts[2].1[..4], &["00012345", "1234.56", "2026-11-05", "42"]);
    assert_eq!(sheet.kind_at(3, 2), CellKind::Date);
    assert_eq!(sheet.kind_at(3, 4), CellKind::Formula);
    assert_eq!(texts[3], (5, vec!["00012346", "0.5"]));
    assert_eq!(parts[1].as_ref().unwrap_err().error.code, "sheet_empty");
}

#[test]
fn a_legacy_xls_claiming_a_huge_sheet_is_refused_before_calamine_allocates() {
    // Rewrite the sheet's DIMENSIONS record (type 0x0200, 14 bytes) to claim 1,000,000 rows × 256 columns.
    let mut bytes = LEGACY_XLS.to_vec();
    let at = bytes.windows(4).position(|w| w == [0x00, 0x02, 0x0E, 0x00]).expect("a DIMENSIONS record");
    bytes[at + 4..at + 8].copy_from_slice(&0u32.to_le_bytes());
    bytes[at + 8..at + 12].copy_from_slice(&1_000_000u32.to_le_bytes());
    bytes[at + 12..at + 14].copy_from_slice(&0u16.to_le_bytes());
    bytes[at + 14..at + 16].copy_from_slice(&256u16.to_le_bytes());
    assert_eq!(open_error("huge.xls", bytes).code, "xls_too_large");
}

#[test]
fn a_long_sheet_streams_and_a_table_dropped_early_does_not_disturb_the_next() {
    let mut book = Workbook::new();
    let first = book.add_worksheet();
    first.set_name("长表").unwrap();
    for row in 0..5000u32 {
        first.write_number(row, 0, f64::from(row)).unwrap();
        first.write_string(row, 1, format!("第{row}行")).unwrap();
    }
    let second = book.add_worksheet();
    second.set_name("第二").unwrap();
    second.write_string(2, 0, "尾").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let all = read_all(open_bytes("long.xlsx", bytes.clone()).unwrap());
    let long = all[0].as_ref().unwrap();
    assert_eq!(long.rows.len(), 5000);
    assert_eq!(long.texts()[4999], (5000, vec!["4999", "第4999行"]));

    let mut parts = open_bytes("long.xlsx", bytes).unwrap();
    let table = parts.next().unwrap().unwrap();
    let first_rows: Vec<_> = table.rows.take(3).map(Result::unwrap).collect();
    assert_eq!(first_rows[2].row_no, 3);
    let next = parts.next().unwrap().unwrap();
    assert_eq!(next.sheet_name.as_deref(), Some("第二"));
    let rows: Vec<_> = next.rows.map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].row_no, rows[0].cells[0].text.as_str()), (3, "尾"));
    assert!(parts.next().is_none());
}
