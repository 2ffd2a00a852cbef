//! Which decoder a file needs: magic bytes first, then the extension.

use std::io::{Read, Seek, SeekFrom};

use super::source::{Depth, Source};
use crate::error::FileError;

/// The formats the decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Delimited text: CSV, TSV or "Unicode text"; comma, tab or semicolon.
    Csv,
    /// Office Open XML workbook (Excel 2007+, WPS).
    Xlsx,
    /// Legacy Excel 97-2003 workbook.
    Xls,
    /// A ZIP of such files.
    Zip,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Zip => "zip",
        }
    }
}

const SNIFF_BYTES: usize = 8192;
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ARCHIVE_EXTENSIONS: [&str; 9] = ["zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "zipx"];
const TEXT_EXTENSIONS: [&str; 4] = ["csv", "txt", "tsv", "tab"];

/// The lowercase extension of a file name, without the dot.
pub(crate) fn extension(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

pub(crate) fn read_prefix(source: &mut Source, len: usize) -> Result<Vec<u8>, FileError> {
    let mut prefix = Vec::with_capacity(len.min(64 * 1024));
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    source.by_ref().take(len as u64).read_to_end(&mut prefix).map_err(|e| FileError::io(&e))?;
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    Ok(prefix)
}

pub(crate) fn detect(file_name: &str, source: &mut Source, depth: Depth) -> Result<Format, FileError> {
    let prefix = read_prefix(source, SNIFF_BYTES)?;
    let ext = extension(file_name);
    if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06") || prefix.starts_with(b"PK\x07\x08") {
        return detect_zip_package(source, depth);
    }
    if prefix.starts_with(&CFB_MAGIC) {
        return Ok(Format::Xls);
    }
    if let Some(kind) = other_archive(&prefix) {
        return Err(refuse_archive(kind, depth));
    }
    if let Some(kind) = known_binary(&prefix) {
        return Err(FileError::unsupported(
            format!("This is a {kind} file, not a spreadsheet; send CSV, XLSX, XLS or a ZIP of them."),
            format!("这是 {kind} 文件，不是表格；请提交 CSV、XLSX、XLS 文件或其 ZIP 压缩包。"),
        ));
    }
    if ARCHIVE_EXTENSIONS.contains(&ext.as_str()) {
        return Err(refuse_archive(&ext, depth));
    }
    let texty = TEXT_EXTENSIONS.contains(&ext.as_str()) || matches!(ext.as_str(), "" | "xls" | "xlsx" | "et");
    if !texty {
        return Err(unsupported_extension(&ext));
    }
    if looks_like_markup(&prefix) {
        return Err(FileError::unsupported(
            "This file is a web page or XML saved under a spreadsheet name; open it in Excel or WPS and save it as XLSX or CSV.",
            "该文件是以表格文件名保存的网页或 XML；请用 Excel 或 WPS 打开后另存为 XLSX 或 CSV。",
        ));
    }
    if !looks_like_text(&prefix) {
        return Err(unsupported_extension(&ext));
    }
    Ok(Format::Csv)
}

fn unsupported_extension(ext: &str) -> FileError {
    let shown = if ext.is_empty() { "(none)".to_owned() } else { format!(".{ext}") };
    FileError::unsupported(
        format!("The file type {shown} is not supported; send CSV, XLSX, XLS or a ZIP of them."),
        format!("不支持 {shown} 类型的文件；请提交 CSV、XLSX、XLS 文件或其 ZIP 压缩包。"),
    )
}

fn refuse_archive(kind: &str, depth: Depth) -> FileError {
    match depth {
        Depth::InZip => FileError::new(
            "zip_nested",
            format!("An archive ({kind}) inside the ZIP is not opened; put the spreadsheets in the ZIP directly."),
            format!("ZIP 内的压缩包（{kind}）不会被打开；请将表格文件直接放入 ZIP。"),
        ),
        Depth::TopLevel => FileError::unsupported(
            format!("{kind} archives are not supported; send a ZIP."),
            format!("不支持 {kind} 压缩格式；请使用 ZIP。"),
        ),
    }
}

/// A ZIP is an XLSX when it holds a workbook part; other Office packages are refused by name.
fn detect_zip_package(source: &mut Source, depth: Depth) -> Result<Format, FileError> {
    let names: Vec<Vec<u8>> = {
        let archive = zip::ZipArchive::new(&mut *source).map_err(|e| {
            FileError::new("zip_unreadable", format!("The ZIP file is damaged: {e}."), format!("ZIP 文件已损坏：{e}。"))
        })?;
        archive.file_names_raw().take(crate::limits::XLSX_ENTRIES_MAX + 1).map(<[u8]>::to_vec).collect()
    };
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    let has = |wanted: &str| names.iter().any(|n| n.eq_ignore_ascii_case(wanted.as_bytes()));
    if has("xl/workbook.xml") {
        return Ok(Format::Xlsx);
    }
    if has("xl/workbook.bin") {
        return Err(FileError::unsupported(
            "Binary workbooks (.xlsb) are not supported; save the file as XLSX.",
            "不支持二进制工作簿（.xlsb）；请另存为 XLSX。",
        ));
    }
    if has("word/document.xml") || has("ppt/presentation.xml") || has("content.xml") {
        return Err(FileError::unsupported(
            "This is a document or presentation, not a spreadsheet; send CSV, XLSX or XLS.",
            "这是文档或演示文稿，不是表格；请提交 CSV、XLSX 或 XLS。",
        ));
    }
    match depth {
        Depth::TopLevel => Ok(Format::Zip),
        Depth::InZip => Err(refuse_archive("ZIP", depth)),
    }
}

fn other_archive(prefix: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 5] = [
        (b"Rar!\x1a\x07", "RAR"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
    ];
    MAGICS.iter().find(|(magic, _)| prefix.starts_with(magic)).map(|(_, kind)| *kind)
}

fn known_binary(prefix: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 6] = [
        (b"%PDF", "PDF"),
        (b"\x89PNG", "PNG"),
        (b"\xff\xd8\xff", "JPEG"),
        (b"GIF8", "GIF"),
        (b"{\\rtf", "RTF"),
        (b"MZ", "executable"),
    ];
    MAGICS.iter().find(|(magic, _)| prefix.starts_with(magic)).map(|(_, kind)| *kind)
}

fn looks_like_markup(prefix: &[u8]) -> bool {
    let body = prefix.strip_prefix(b"\xef\xbb\xbf").unwrap_or(prefix);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &body[i..]).unwrap_or(&[]);
    let head: Vec<u8> = start.iter().take(14).map(u8::to_ascii_lowercase).collect();
    head.starts_with(b"<?xml")
        || head.starts_with(b"<html")
        || head.starts_with(b"<!doctype html")
        || head.starts_with(b"<table")
}

/// Text has no NUL bytes, except UTF-16 text, which starts with its byte-order mark.
fn looks_like_text(prefix: &[u8]) -> bool {
    if prefix.starts_with(b"\xff\xfe") || prefix.starts_with(b"\xfe\xff") {
        return true;
    }
    let controls = prefix.iter().filter(|&&b| b < 0x09 || (0x0e..0x1a).contains(&b)).count();
    !prefix.contains(&0) && controls * 100 <= prefix.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_lowercase_without_dot() {
        assert_eq!(extension("发票.CSV"), "csv");
        assert_eq!(extension("dir.v2/noext"), "");
        assert_eq!(extension(".hidden"), "");
        assert_eq!(extension("a.tar.gz"), "gz");
    }
}
