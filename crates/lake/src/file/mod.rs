//! Tabular decoding: bytes in, rows of text cells out.
//!
//! A submitted file is detected by its magic bytes, then by its extension, and becomes one or more
//! [`Table`]s (a CSV file is one table, a workbook one per sheet, a ZIP one per file inside). Each table
//! yields [`Row`]s lazily; CSV is streamed in bounded memory, a worksheet is read one sheet at a time.
//! Empty rows are left out but row numbers stay those the spreadsheet shows; trailing empty cells are
//! trimmed. Nothing here panics on input: every problem is a [`FileError`] with a stable code, about the
//! whole file, one sheet or one row.
//!
//! Decoding is CPU-bound and synchronous: async callers run it in `tokio::task::spawn_blocking`.

mod archive;
mod cell;
mod detect;
mod source;
mod table;
mod text;
mod workbook;

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use bytes::Bytes;

pub use crate::error::FileError;
pub use cell::{Cell, CellKind, column_name};
pub use detect::Format;
pub use table::{MergedRange, Part, PartError, Parts, Row, Rows, Table, TextEncoding};

use source::{Depth, Source};

/// Opens a submitted file held in memory (e.g. from the raw zone) under its submitted name.
pub fn open_bytes(file_name: &str, bytes: impl Into<Bytes>) -> Result<Parts, FileError> {
    let bytes = bytes.into();
    if bytes.len() as u64 > crate::limits::FILE_BYTES_MAX {
        return Err(FileError::too_large(crate::limits::FILE_BYTES_MAX));
    }
    open_reader(file_name, Cursor::new(bytes))
}

/// Opens a file on disk; CSV is then streamed from disk in bounded memory.
pub fn open_path(path: &Path) -> Result<Parts, FileError> {
    let file = std::fs::File::open(path).map_err(|e| FileError::io(&e))?;
    let len = file.metadata().map_err(|e| FileError::io(&e))?.len();
    if len > crate::limits::FILE_BYTES_MAX {
        return Err(FileError::too_large(crate::limits::FILE_BYTES_MAX));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    open_reader(&name, file)
}

/// Opens a submitted file from any seekable reader under its submitted name. An error here concerns the
/// whole file (unsupported format, zip bomb…); problems with one sheet, entry or row come later.
pub fn open_reader<R: Read + Seek + Send + 'static>(file_name: &str, reader: R) -> Result<Parts, FileError> {
    open_source(file_name, Box::new(reader), Depth::TopLevel)
}

pub(crate) fn open_source(file_name: &str, mut source: Source, depth: Depth) -> Result<Parts, FileError> {
    let format = detect::detect(file_name, &mut source, depth)?;
    match format {
        Format::Csv => {
            let table = text::open_text(file_name, source)?;
            Ok(Parts::one(Ok(table)))
        }
        Format::Xlsx => workbook::open_xlsx(file_name, source),
        Format::Xls => workbook::open_xls(file_name, source),
        Format::Zip => archive::open_zip(file_name, source, open_source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Callers move parts and tables into `spawn_blocking` and across threads.
    #[test]
    fn parts_and_tables_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Parts>();
        assert_send::<Table>();
        assert_send::<Rows>();
        assert_send::<PartError>();
    }
}
