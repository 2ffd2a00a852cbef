use encoding_rs::GB18030;
use lianrong_lake::file::{CellKind, Format, TextEncoding, open_bytes, open_path};

use crate::common::{one_table, open_error, read_all};

const HEADER: &str = "发票号码,销方名称,购方名称,开票日期,金额\n";

#[test]
fn utf8_with_bom_keeps_thousands_separators_as_text() {
    let text =
        format!("\u{feff}{HEADER}00012345,重庆长安汽车股份有限公司,重庆某某配件有限公司,2026-11-05,\"1,234.56\"\n");
    let table = one_table("发票.csv", text.into_bytes());
    assert_eq!(table.format, Format::Csv);
    assert_eq!(table.encoding, Some(TextEncoding::Utf8Bom));
    assert_eq!(table.delimiter, Some(b','));
    let rows = table.texts();
    assert_eq!(rows[0], (1, vec!["发票号码", "销方名称", "购方名称", "开票日期", "金额"]));
    assert_eq!(
        rows[1],
        (2, vec!["00012345", "重庆长安汽车股份有限公司", "重庆某某配件有限公司", "2026-11-05", "1,234.56"])
    );
    assert_eq!(table.kind_at(2, 4), CellKind::Text);
}

#[test]
fn gbk_csv_as_chinese_windows_saves_it_is_decoded() {
    let text = format!("{HEADER}00012345,重庆长安汽车股份有限公司,两江新区配件厂,2026/11/5,9800.00\r\n");
    let (gbk, _, unmappable) = GB18030.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the fixture really is not UTF-8");
    let table = one_table("invoices.csv", gbk.into_owned());
    assert_eq!(table.encoding, Some(TextEncoding::Gb18030));
    assert_eq!(table.text_at(2, 1), "重庆长安汽车股份有限公司");
    assert_eq!(table.text_at(2, 2), "两江新区配件厂");
    assert_eq!(table.text_at(2, 4), "9800.00");
}

#[test]
fn utf16_unicode_text_with_tabs_is_decoded() {
    let text = "名称\t金额\r\n重庆\t100\r\n成都\t200\r\n";
    let mut bytes_le = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes_le.extend(unit.to_le_bytes());
    }
    let table = one_table("export.txt", bytes_le);
    assert_eq!(table.encoding, Some(TextEncoding::Utf16Le));
    assert_eq!(table.delimiter, Some(b'\t'));
    assert_eq!(table.texts(), vec![(1, vec!["名称", "金额"]), (2, vec!["重庆", "100"]), (3, vec!["成都", "200"])]);
    let mut be = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        be.extend(unit.to_be_bytes());
    }
    let table = one_table("export.txt", be);
    assert_eq!(table.encoding, Some(TextEncoding::Utf16Be));
    assert_eq!(table.text_at(3, 0), "成都");
}

#[test]
fn a_lone_surrogate_in_utf16_is_a_row_error() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "a\tb\r\n".encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes.extend(0xD800u16.to_le_bytes());
    for unit in "x\tb\r\nc\td\r\n".encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    let table = one_table("u.txt", bytes);
    assert_eq!(table.errors().len(), 1);
    assert_eq!(table.errors()[0].code, "encoding_invalid");
    assert_eq!(table.errors()[0].row_no, Some(2));
    assert_eq!(table.texts(), vec![(1, vec!["a", "b"]), (3, vec!["c", "d"])]);
}

#[test]
fn an_invalid_sequence_late_in_a_utf8_file_names_its_row() {
    let mut bytes = HEADER.as_bytes().to_vec();
    for i in 0..20 {
        bytes.extend(format!("{i},重庆公司,成都公司,2026-11-05,1\n").as_bytes());
    }
    bytes.extend(b"99,\xff\xfe bad,x,2026-11-05,1\n");
    bytes.extend("100,重庆公司,成都公司,2026-11-05,1\n".as_bytes());
    let table = one_table("late.csv", bytes);
    assert_eq!(table.encoding, Some(TextEncoding::Utf8));
    let errors = table.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "encoding_invalid");
    assert_eq!(errors[0].row_no, Some(22));
    assert!(errors[0].en.contains("Row 22") && errors[0].en.contains("column B"), "{}", errors[0].en);
    assert!(errors[0].zh.contains("第 22 行"));
    assert_eq!(table.text_at(23, 1), "重庆公司", "rows after the bad one still come");
}

#[test]
fn blank_rows_are_skipped_but_row_numbers_stay_true() {
    let text = "a,b\n\n,,\n  ,\t\n1,2\n\"multi\nline\",3\n4,5,,,\n";
    let table = one_table("blank.csv", text);
    assert_eq!(
        table.texts(),
        vec![(1, vec!["a", "b"]), (5, vec!["1", "2"]), (6, vec!["multi\nline", "3"]), (7, vec!["4", "5"])]
    );
}

#[test]
fn crlf_and_a_missing_final_newline_are_fine() {
    let table = one_table("crlf.csv", "a,b\r\n\r\nc,d");
    assert_eq!(table.texts(), vec![(1, vec!["a", "b"]), (3, vec!["c", "d"])]);
}

#[test]
fn semicolon_and_tab_delimiters_are_sniffed() {
    let table = one_table("eu.csv", "名称;金额\n重庆;1,5\n成都;2,5\n");
    assert_eq!(table.delimiter, Some(b';'));
    assert_eq!(table.text_at(2, 1), "1,5");
    let table = one_table("tabs.tsv", "a\tb\n1\t2\n");
    assert_eq!(table.delimiter, Some(b'\t'));
    assert_eq!(table.texts()[1], (2, vec!["1", "2"]));
}

#[test]
fn error_literals_are_error_cells() {
    let table = one_table("e.csv", "a,b\n#DIV/0!,#N/A\n=SUM(A1),x\n");
    assert_eq!(table.kind_at(2, 0), CellKind::Error);
    assert_eq!(table.kind_at(2, 1), CellKind::Error);
    assert_eq!(table.kind_at(3, 0), CellKind::Text, "CSV has no formulas: text that looks like one is text");
}

#[test]
fn an_unclosed_quote_stops_with_a_bounded_error() {
    let mut text = String::from("a,b\n1,\"never closed\n");
    for i in 0..200_000 {
        text.push_str(&format!("{i},row\n"));
    }
    let table = one_table("q.csv", text);
    assert_eq!(table.ok_rows().len(), 1);
    let errors = table.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "csv_malformed");
    assert_eq!(errors[0].row_no, Some(2));
}

#[test]
fn too_many_columns_and_overlong_cells_are_row_errors() {
    let wide = vec!["x"; 1100].join(",");
    let long = "长".repeat(40_000);
    let text = format!("a,b\n{wide}\n{long},y\nc,d\n");
    let table = one_table("w.csv", text);
    let codes: Vec<_> = table.errors().iter().map(|e| (e.code, e.row_no)).collect();
    assert_eq!(codes, vec![("too_many_columns", Some(2)), ("cell_too_long", Some(3))]);
    assert_eq!(table.texts().last().unwrap(), &(4, vec!["c", "d"]));
}

#[test]
fn an_empty_file_has_no_rows() {
    let table = one_table("empty.csv", Vec::new());
    assert!(table.rows.is_empty());
}

#[test]
fn non_spreadsheets_are_refused() {
    assert_eq!(open_error("a.pdf", b"%PDF-1.7 ...".to_vec()).code, "unsupported_format");
    assert_eq!(open_error("a.csv", b"%PDF-1.7 ...".to_vec()).code, "unsupported_format");
    assert_eq!(open_error("a.json", b"{\"a\":1}".to_vec()).code, "unsupported_format");
    assert_eq!(open_error("a.csv", b"\x00\x01\x02binary".to_vec()).code, "unsupported_format");
    assert_eq!(open_error("a.rar", b"Rar!\x1a\x07\x00".to_vec()).code, "unsupported_format");
    let html = open_error("report.xls", b"<html><table><tr><td>1</td></tr></table></html>".to_vec());
    assert_eq!(html.code, "unsupported_format");
    assert!(html.zh.contains("网页"));
}

#[test]
fn a_tab_separated_file_named_xls_is_read_as_text() {
    let table = one_table("erp-export.xls", "单号\t金额\nA1\t10\n");
    assert_eq!(table.format, Format::Csv);
    assert_eq!(table.delimiter, Some(b'\t'));
    assert_eq!(table.text_at(2, 1), "10");
}

#[test]
fn a_file_on_disk_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    let all = read_all(open_path(&path).unwrap());
    let table = all.into_iter().next().unwrap().unwrap();
    assert_eq!(table.file_name, "disk.csv");
    assert_eq!(table.rows.len(), 2);
    drop(open_bytes("x.csv", Vec::new()));
}

#[test]
fn row_numbers_count_blank_lines_before_a_final_record_without_newline() {
    let table = one_table("end.csv", "a,b\n\nc,d");
    assert_eq!(table.texts(), vec![(1, vec!["a", "b"]), (3, vec!["c", "d"])]);
    let table = one_table("crlf.csv", "a,\"b\"\r\n\r\n\r\nc,d\r\n");
    assert_eq!(table.texts(), vec![(1, vec!["a", "b"]), (4, vec!["c", "d"])]);
}
