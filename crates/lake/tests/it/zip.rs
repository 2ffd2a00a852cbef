use std::io::{Cursor, Write};

use encoding_rs::GB18030;
use lianrong_lake::file::{Format, open_bytes};
use zip::write::SimpleFileOptions;

use crate::common::{open_error, read_all};
use crate::xlsx::invoice_workbook;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        if name.ends_with('/') {
            out.add_directory(*name, options).unwrap();
        } else {
            out.start_file(*name, options).unwrap();
            out.write_all(data).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

/// Replaces an ASCII placeholder name with raw bytes of the same length, in the local header and the
/// central directory, the way Chinese Windows writes GBK names without the UTF-8 flag.
fn rename_raw(mut archive: Vec<u8>, placeholder: &[u8], raw: &[u8]) -> Vec<u8> {
    assert_eq!(placeholder.len(), raw.len());
    let mut found = 0;
    let mut i = 0;
    while i + placeholder.len() <= archive.len() {
        if &archive[i..i + placeholder.len()] == placeholder {
            archive[i..i + placeholder.len()].copy_from_slice(raw);
            found += 1;
        }
        i += 1;
    }
    assert_eq!(found, 2, "placeholder in the local header and the central directory");
    archive
}

#[test]
fn every_entry_becomes_its_own_file_and_litter_is_skipped() {
    let gbk_name = GB18030.encode("发票.csv").0.into_owned();
    let placeholder = b"XXXX.csv";
    let inner_zip = zip_of(&[("a.csv", b"a,b\n")]);
    let archive = zip_of(&[
        ("2026-11/", b""),
        ("2026-11/订单.csv", "单号,金额\nA1,10\n".as_bytes()),
        ("XXXX.csv", &GB18030.encode("号码,名称\n1,重庆\n").0),
        ("../../etc/passwd.csv", b"x,y\n1,2\n"),
        ("__MACOSX/2026-11/._订单.csv", b"\x00\x05\x16\x07junk"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("book.xlsx", &invoice_workbook()),
        ("inner.zip", &inner_zip),
        ("notes.docx.pdf", b"%PDF-1.4"),
    ]);
    let archive = rename_raw(archive, placeholder, &gbk_name);
    let parts = read_all(open_bytes("上传.zip", archive).unwrap());
    let summary: Vec<(String, Option<String>, Result<usize, &str>)> = parts
        .iter()
        .map(|p| match p {
            Ok(t) => (t.file_name.clone(), t.sheet_name.clone(), Ok(t.rows.len())),
            Err(e) => (e.file_name.clone(), e.sheet_name.clone(), Err(e.error.code)),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("上传.zip/2026-11/订单.csv".to_owned(), None, Ok(2)),
            ("上传.zip/发票.csv".to_owned(), None, Ok(2)),
            ("上传.zip/../../etc/passwd.csv".to_owned(), None, Ok(2)),
            ("上传.zip/book.xlsx".to_owned(), Some("发票".to_owned()), Ok(4)),
            ("上传.zip/book.xlsx".to_owned(), Some("空表".to_owned()), Err("sheet_empty")),
            ("上传.zip/book.xlsx".to_owned(), Some("参数".to_owned()), Ok(1)),
            ("上传.zip/inner.zip".to_owned(), None, Err("zip_nested")),
            ("上传.zip/notes.docx.pdf".to_owned(), None, Err("unsupported_format")),
        ]
    );
    let gbk = parts[1].as_ref().unwrap();
    assert_eq!(gbk.text_at(2, 1), "重庆");
    assert_eq!(parts[3].as_ref().unwrap().format, Format::Xlsx);
}

#[test]
fn a_zip_disguised_inside_a_zip_is_refused_by_content_too() {
    let inner = zip_of(&[("a.csv", b"a,b\n")]);
    let archive = zip_of(&[("data.csv", &inner)]);
    let parts = read_all(open_bytes("u.zip", archive).unwrap());
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].as_ref().unwrap_err().error.code, "zip_nested");
}

#[test]
fn a_zip_bomb_is_refused_without_inflating() {
    let zeros = vec![b'0'; 16 * 1024 * 1024];
    let bomb = zip_of(&[("big.csv", &zeros)]);
    assert!(bomb.len() < 64 * 1024);
    let err = open_error("bomb.zip", bomb);
    assert_eq!(err.code, "zip_bomb");
    assert!(err.zh.contains("解压"));
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..1001).map(|i| format!("f{i}.csv")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"a\n".as_slice())).collect();
    assert_eq!(open_error("many.zip", zip_of(&entries)).code, "zip_too_many_entries");
}

#[test]
fn an_empty_zip_says_so() {
    let parts = read_all(open_bytes("e.zip", zip_of(&[("dir/", b"")])).unwrap());
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].as_ref().unwrap_err().error.code, "zip_empty");
}

#[test]
fn an_encrypted_entry_is_refused_per_entry() {
    // Set the "encrypted" flag of the first entry in its local header and its central directory
    // record, as a ZipCrypto archive has it.
    let mut archive = zip_of(&[("secret.csv", b"a,b\n"), ("open.csv", b"a,b\n")]);
    assert_eq!(&archive[..4], b"PK\x03\x04");
    archive[6] |= 1;
    let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    archive[central + 8] |= 1;
    let parts = read_all(open_bytes("p.zip", archive).unwrap());
    assert_eq!(parts[0].as_ref().unwrap_err().error.code, "zip_encrypted");
    assert!(parts[1].is_ok());
}
