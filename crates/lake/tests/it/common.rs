use lianrong_lake::file::{CellKind, FileError, Format, PartError, Parts, Row, TextEncoding};

/// A table read to the end, for assertions.
#[derive(Debug)]
pub struct Read {
    pub file_name: String,
    pub sheet_name: Option<String>,
    pub sheet_hidden: bool,
    pub format: Format,
    pub encoding: Option<TextEncoding>,
    pub delimiter: Option<u8>,
    pub merged: Vec<lianrong_lake::file::MergedRange>,
    pub rows: Vec<Result<Row, FileError>>,
}

impl Read {
    pub fn ok_rows(&self) -> Vec<&Row> {
        self.rows.iter().filter_map(|r| r.as_ref().ok()).collect()
    }

    pub fn texts(&self) -> Vec<(u64, Vec<&str>)> {
        self.ok_rows().iter().map(|r| (r.row_no, r.cells.iter().map(|c| c.text.as_str()).collect())).collect()
    }

    pub fn errors(&self) -> Vec<&FileError> {
        self.rows.iter().filter_map(|r| r.as_ref().err()).collect()
    }

    pub fn kind_at(&self, row_no: u64, col: usize) -> CellKind {
        let row = self.ok_rows().into_iter().find(|r| r.row_no == row_no).expect("row present");
        row.cells[col].kind
    }

    pub fn text_at(&self, row_no: u64, col: usize) -> String {
        let row = self.ok_rows().into_iter().find(|r| r.row_no == row_no).expect("row present");
        row.cells[col].text.clone()
    }
}

// A test helper: the size of the error variant does not matter here.
#[allow(clippy::result_large_err)]
pub fn read_all(parts: Parts) -> Vec<Result<Read, PartError>> {
    parts
        .map(|part| {
            part.map(|table| Read {
                file_name: table.file_name,
                sheet_name: table.sheet_name,
                sheet_hidden: table.sheet_hidden,
                format: table.format,
                encoding: table.encoding,
                delimiter: table.delimiter,
                merged: table.merged,
                rows: table.rows.collect(),
            })
        })
        .collect()
}

/// Opens bytes and expects exactly one table.
pub fn one_table(name: &str, bytes: impl Into<bytes::Bytes>) -> Read {
    let parts = lianrong_lake::file::open_bytes(name, bytes).expect("opens");
    let mut all = read_all(parts);
    assert_eq!(all.len(), 1, "one part expected");
    all.remove(0).expect("a table")
}

pub fn open_error(name: &str, bytes: impl Into<bytes::Bytes>) -> FileError {
    match lianrong_lake::file::open_bytes(name, bytes) {
        Ok(parts) => panic!("expected an error, got {} parts", parts.count()),
        Err(e) => e,
    }
}
