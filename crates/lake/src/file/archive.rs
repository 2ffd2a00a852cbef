//! ZIP archives: every entry becomes its own file, unpacked only when its turn comes, under named
//! limits so a zip bomb is refused rather than inflated. Entry names are labels only, never paths.

use std::collections::VecDeque;
use std::io::{Cursor, Read};

use encoding_rs::GB18030;
use zip::ZipArchive;

use super::source::{Depth, Source};
use super::table::{Part, PartError, Parts};
use crate::error::FileError;
use crate::limits::{
    ZIP_ENTRIES_MAX, ZIP_ENTRY_BYTES_MAX, ZIP_RATIO_CHECK_BYTES_MIN, ZIP_RATIO_MAX, ZIP_UNCOMPRESSED_BYTES_MAX,
};

pub(crate) fn zip_unreadable(err: &dyn std::fmt::Display) -> FileError {
    FileError::new("zip_unreadable", format!("The ZIP file is damaged: {err}."), format!("ZIP 文件已损坏：{err}。"))
}

/// Whether an entry inflating to `inflated_bytes` from `compressed_bytes` compresses suspiciously well.
pub(crate) fn ratio_exceeded(inflated_bytes: u64, compressed_bytes: u64) -> bool {
    inflated_bytes >= ZIP_RATIO_CHECK_BYTES_MIN && inflated_bytes / compressed_bytes.max(1) > ZIP_RATIO_MAX
}

/// Checks the sizes the central directory declares, before anything is inflated.
pub(crate) fn check_declared(
    archive: &ZipArchive<Source>,
    entries_max: usize,
    total_bytes_max: u64,
) -> Result<(), FileError> {
    if archive.len() > entries_max {
        return Err(FileError::new(
            "zip_too_many_entries",
            format!("The archive lists more than {entries_max} entries."),
            format!("压缩包内条目超过 {entries_max} 个。"),
        ));
    }
    let mut total: u64 = 0;
    let metadata = archive.metadata();
    for index in 0..archive.len() {
        let entry = metadata.entry(index).map_err(|e| zip_unreadable(&e))?;
        let (size, compressed) = (entry.size(), entry.compressed_size());
        total = total.saturating_add(size);
        if ratio_exceeded(size, compressed) {
            return Err(FileError::zip_bomb(
                &format!("compression ratio above {ZIP_RATIO_MAX}:1"),
                &format!("压缩比超过 {ZIP_RATIO_MAX}:1"),
            ));
        }
    }
    if total > total_bytes_max {
        return Err(FileError::zip_bomb(
            &format!("{} MiB in all", total_bytes_max / (1024 * 1024)),
            &format!("合计超过 {} MiB", total_bytes_max / (1024 * 1024)),
        ));
    }
    Ok(())
}

/// Decodes an entry name: UTF-8 when it is valid UTF-8 (whether flagged or not, as macOS writes it),
/// else GB18030, as Chinese Windows writes it.
pub(crate) fn entry_name(raw: &[u8]) -> String {
    let name = match std::str::from_utf8(raw) {
        Ok(name) => name.to_owned(),
        Err(_) => GB18030.decode_without_bom_handling(raw).0.into_owned(),
    };
    name.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

/// Entries that are not files of the sender: folders, macOS resource forks and desktop litter.
fn is_litter(name: &str) -> bool {
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let Some(base) = parts.last() else { return true };
    parts.contains(&"__MACOSX")
        || base.starts_with("._")
        || base.eq_ignore_ascii_case(".DS_Store")
        || base.eq_ignore_ascii_case("Thumbs.db")
        || base.eq_ignore_ascii_case("desktop.ini")
}

/// Opens a file found inside an archive; the caller's dispatcher, passed in so that the archive reader
/// does not depend on the module that depends on it.
pub(crate) type OpenEntry = fn(&str, Source, Depth) -> Result<Parts, FileError>;

pub(crate) fn open_zip(file_name: &str, source: Source, open_entry: OpenEntry) -> Result<Parts, FileError> {
    let archive = ZipArchive::new(source).map_err(|e| zip_unreadable(&e))?;
    check_declared(&archive, ZIP_ENTRIES_MAX, ZIP_UNCOMPRESSED_BYTES_MAX)?;
    Ok(Parts::new(ZipParts {
        open_entry,
        archive,
        archive_name: file_name.to_owned(),
        next_index: 0,
        current: None,
        queued: VecDeque::new(),
        inflated_total: 0,
        any_file: false,
    }))
}

pub(crate) struct ZipParts {
    open_entry: OpenEntry,
    archive: ZipArchive<Source>,
    archive_name: String,
    next_index: usize,
    current: Option<Box<Parts>>,
    queued: VecDeque<Part>,
    inflated_total: u64,
    any_file: bool,
}

enum EntryOutcome {
    Skip,
    Refused(FileError),
    /// The archive itself is hostile: nothing after this entry is read.
    Stop(FileError),
    Bytes(Vec<u8>),
}

impl Iterator for ZipParts {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        loop {
            if let Some(part) = self.queued.pop_front() {
                return Some(part);
            }
            if let Some(current) = &mut self.current {
                if let Some(part) = current.next() {
                    return Some(part);
                }
                self.current = None;
            }
            if self.next_index >= self.archive.len() {
                if !self.any_file {
                    self.any_file = true;
                    return Some(Err(self.part_error(None, archive_empty())));
                }
                return None;
            }
            let index = self.next_index;
            self.next_index += 1;
            self.open_entry(index);
        }
    }
}

impl ZipParts {
    fn part_error(&self, inner: Option<&str>, error: FileError) -> PartError {
        let file_name = match inner {
            Some(inner) => format!("{}/{inner}", self.archive_name),
            None => self.archive_name.clone(),
        };
        PartError { file_name, sheet_name: None, error }
    }

    fn open_entry(&mut self, index: usize) {
        let (name, outcome) = self.read_entry(index);
        match outcome {
            EntryOutcome::Skip => {}
            EntryOutcome::Refused(error) => {
                self.any_file = true;
                self.queued.push_back(Err(self.part_error(Some(&name), error)));
            }
            EntryOutcome::Stop(error) => {
                self.any_file = true;
                self.next_index = self.archive.len();
                self.queued.push_back(Err(self.part_error(Some(&name), error)));
            }
            EntryOutcome::Bytes(bytes) => {
                self.any_file = true;
                let shown = format!("{}/{name}", self.archive_name);
                match (self.open_entry)(&shown, Box::new(Cursor::new(bytes)), Depth::InZip) {
                    Ok(parts) => self.current = Some(Box::new(parts)),
                    Err(error) => self.queued.push_back(Err(PartError { file_name: shown, sheet_name: None, error })),
                }
            }
        }
    }

    fn read_entry(&mut self, index: usize) -> (String, EntryOutcome) {
        let mut entry = match self.archive.by_index(index) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::UnsupportedArchive(what))
                if what.contains("assword") || what.contains("ncrypt") =>
            {
                return (format!("#{}", index + 1), EntryOutcome::Refused(encrypted()));
            }
            Err(e) => return (format!("#{}", index + 1), EntryOutcome::Refused(zip_unreadable(&e))),
        };
        let name = entry_name(entry.name_raw());
        if entry.is_dir() || is_litter(&name) {
            return (name, EntryOutcome::Skip);
        }
        if entry.encrypted() {
            return (name, EntryOutcome::Refused(encrypted()));
        }
        if ["zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "zipx"]
            .contains(&super::detect::extension(&name).as_str())
        {
            return (name, EntryOutcome::Refused(nested()));
        }
        if entry.size() > ZIP_ENTRY_BYTES_MAX {
            return (name, EntryOutcome::Refused(FileError::too_large(ZIP_ENTRY_BYTES_MAX)));
        }
        let compressed = entry.compressed_size();
        let mut bytes = Vec::with_capacity(entry.size().min(64 * 1024 * 1024) as usize);
        if let Err(e) = (&mut entry).take(ZIP_ENTRY_BYTES_MAX + 1).read_to_end(&mut bytes) {
            return (name, EntryOutcome::Refused(zip_unreadable(&e)));
        }
        let inflated = bytes.len() as u64;
        self.inflated_total = self.inflated_total.saturating_add(inflated);
        if inflated > ZIP_ENTRY_BYTES_MAX || ratio_exceeded(inflated, compressed) {
            return (
                name,
                EntryOutcome::Stop(FileError::zip_bomb(
                    "an entry inflates beyond what it declares",
                    "某个文件解压后超出其声明的大小",
                )),
            );
        }
        if self.inflated_total > ZIP_UNCOMPRESSED_BYTES_MAX {
            return (
                name,
                EntryOutcome::Stop(FileError::zip_bomb(
                    "the entries inflate beyond the archive limit",
                    "各文件解压后合计超出压缩包上限",
                )),
            );
        }
        (name, EntryOutcome::Bytes(bytes))
    }
}

fn nested() -> FileError {
    FileError::new(
        "zip_nested",
        "An archive inside the ZIP is not opened; put the spreadsheets in the ZIP directly.",
        "ZIP 内的压缩包不会被打开；请将表格文件直接放入 ZIP。",
    )
}

fn encrypted() -> FileError {
    FileError::new(
        "zip_encrypted",
        "The entry is password-protected; send it without a password.",
        "该文件设有密码；请提交未加密的文件。",
    )
}

fn archive_empty() -> FileError {
    FileError::new("zip_empty", "The ZIP holds no files.", "ZIP 压缩包内没有文件。")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litter_is_skipped() {
        assert!(is_litter("__MACOSX/._a.csv"));
        assert!(is_litter("dir/.DS_Store"));
        assert!(is_litter("/"));
        assert!(!is_litter("发票/2026-01.csv"));
    }

    #[test]
    fn names_decode_as_utf8_or_gbk() {
        assert_eq!(entry_name("发票.csv".as_bytes()), "发票.csv");
        let gbk = GB18030.encode("发票.csv").0.into_owned();
        assert_eq!(entry_name(&gbk), "发票.csv");
        assert_eq!(entry_name(b"a\nb"), "a\u{fffd}b");
    }
}
