//! Delimited text (CSV, TSV, "Unicode text"), streamed record by record.
//!
//! The csv crate splits records on raw bytes, which is safe for GBK/GB18030 too: none of their
//! multi-byte sequences contains a delimiter, quote or line break byte. Each field is then decoded
//! on its own, so a bad byte sequence is an error naming its row and column, never mojibake.
//! UTF-16 is transcoded to UTF-8 on the fly first.

use std::io::{self, Read, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use encoding_rs::{DecoderResult, GB18030, UTF_16BE, UTF_16LE};

use super::cell::{Cell, CellKind, column_name};
use super::detect::Format;
use super::detect::{extension, read_prefix};
use super::source::Source;
use super::table::{Row, Rows, Table, TextEncoding};
use crate::error::FileError;
use crate::limits::{CELL_CHARS_MAX, COLUMNS_MAX, CSV_RECORD_BYTES_MAX, TEXT_SNIFF_BYTES};

const CSV_BUFFER_BYTES: usize = 64 * 1024;

pub(crate) fn open_text(file_name: &str, mut source: Source) -> Result<Table, FileError> {
    let prefix = read_prefix(&mut source, TEXT_SNIFF_BYTES)?;
    let (encoding, bom_len) = detect_encoding(&prefix);
    let utf8_prefix;
    let sniff_bytes: &[u8] = match encoding {
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
            let codec = if encoding == TextEncoding::Utf16Le { UTF_16LE } else { UTF_16BE };
            utf8_prefix = codec.decode_without_bom_handling(&prefix[bom_len..]).0.into_owned().into_bytes();
            &utf8_prefix
        }
        _ => &prefix[bom_len..],
    };
    let delimiter = sniff_delimiter(sniff_bytes, &extension(file_name));
    drop(prefix);
    source.seek(SeekFrom::Start(bom_len as u64)).map_err(|e| FileError::io(&e))?;
    let stream: Box<dyn Read + Send> = match encoding {
        TextEncoding::Utf16Le => Box::new(Utf16ToUtf8::new(source, UTF_16LE.new_decoder_without_bom_handling())),
        TextEncoding::Utf16Be => Box::new(Utf16ToUtf8::new(source, UTF_16BE.new_decoder_without_bom_handling())),
        _ => source,
    };
    let fields = if encoding == TextEncoding::Gb18030 { FieldCodec::Gb18030 } else { FieldCodec::Utf8 };
    Ok(Table {
        file_name: file_name.to_owned(),
        sheet_name: None,
        sheet_hidden: false,
        format: Format::Csv,
        encoding: Some(encoding),
        delimiter: Some(delimiter),
        merged: Vec::new(),
        rows: Rows::new(CsvRows::new(stream, delimiter, fields, encoding)),
    })
}

/// Chooses the encoding from the byte-order mark, else from how much of the prefix is valid UTF-8:
/// a prefix that is mostly UTF-8 stays UTF-8 (its few bad sequences become row errors), one with
/// more invalid than valid multi-byte sequences is GB18030.
pub(crate) fn detect_encoding(prefix: &[u8]) -> (TextEncoding, usize) {
    if prefix.starts_with(b"\xef\xbb\xbf") {
        return (TextEncoding::Utf8Bom, 3);
    }
    if prefix.starts_with(b"\xff\xfe") {
        return (TextEncoding::Utf16Le, 2);
    }
    if prefix.starts_with(b"\xfe\xff") {
        return (TextEncoding::Utf16Be, 2);
    }
    let (valid_multibyte, invalid) = utf8_census(prefix);
    if invalid == 0 || valid_multibyte >= invalid.saturating_mul(4) {
        (TextEncoding::Utf8, 0)
    } else {
        (TextEncoding::Gb18030, 0)
    }
}

/// Counts valid non-ASCII UTF-8 characters and invalid sequences; a sequence cut by the end of the
/// prefix is not counted.
fn utf8_census(mut rest: &[u8]) -> (usize, usize) {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let count = |s: &str| s.chars().filter(|c| !c.is_ascii()).count();
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => return (valid + count(s), invalid),
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                valid += std::str::from_utf8(good).map(count).unwrap_or(0);
                match e.error_len() {
                    None => return (valid, invalid),
                    Some(len) => {
                        invalid += 1;
                        rest = &bad[len..];
                    }
                }
            }
        }
    }
}

/// Picks the delimiter that splits the first lines into the same number of fields; ties and
/// unclear cases go to the extension's usual delimiter (tab for .tsv/.tab/.txt, comma otherwise).
pub(crate) fn sniff_delimiter(prefix: &[u8], ext: &str) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b'\t', b';'];
    const LINES_MAX: usize = 50;
    let preferred = if matches!(ext, "tsv" | "tab" | "txt") { b'\t' } else { b',' };
    let mut counts = [[0usize; LINES_MAX]; 3];
    let mut lines = 0usize;
    let mut in_quotes = false;
    let mut line_has_content = false;
    for &b in prefix {
        if lines >= LINES_MAX {
            break;
        }
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                if line_has_content {
                    lines += 1;
                }
                line_has_content = false;
            }
            _ if !in_quotes => {
                if let Some(k) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[k][lines] += 1;
                }
                if !b.is_ascii_whitespace() {
                    line_has_content = true;
                }
            }
            _ => {}
        }
    }
    let lines = if line_has_content && lines < LINES_MAX { lines + 1 } else { lines }.max(1);
    let score = |k: usize| -> (bool, usize) {
        let per_line = &counts[k][..lines];
        let consistent = per_line[0] > 0 && per_line.iter().all(|&n| n == per_line[0]);
        (consistent, per_line.iter().sum())
    };
    // Consistent candidates first; among them the extension's usual one; then the most frequent.
    let best = (0..CANDIDATES.len())
        .max_by_key(|&k| {
            let (consistent, sum) = score(k);
            let preferred_here = usize::from(CANDIDATES[k] == preferred);
            (consistent, if consistent { preferred_here } else { 0 }, sum, preferred_here)
        })
        .unwrap_or(0);
    CANDIDATES[best]
}

/// How each field's bytes become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldCodec {
    Utf8,
    Gb18030,
}

struct CsvRows {
    reader: csv::Reader<RecordGuard<Box<dyn Read + Send>>>,
    record: csv::ByteRecord,
    codec: FieldCodec,
    encoding: TextEncoding,
    stream: Arc<StreamState>,
    /// Row number of the last record read, counting blank lines as the spreadsheet does.
    row_no: u64,
    /// Line breaks consumed by the reader up to the end of the last record.
    newlines_consumed: u64,
    done: bool,
}

/// What the reader below the csv parser has seen, shared with the row iterator: where the current
/// record began (for the length guard), how much was read, whether the end was reached and the last
/// byte (to tell a final record ended by a line break from one ended by the end of the file).
#[derive(Default)]
struct StreamState {
    record_start: AtomicU64,
    read_total: AtomicU64,
    eof: AtomicBool,
    last_byte: AtomicU8,
}

impl CsvRows {
    fn new(stream: Box<dyn Read + Send>, delimiter: u8, codec: FieldCodec, encoding: TextEncoding) -> Self {
        let state = Arc::new(StreamState::default());
        let guard = RecordGuard { inner: stream, state: state.clone() };
        // Records end at LF only: a CR before it stays in the last field and is removed there, so each
        // record consumes exactly one line break and blank lines can be counted.
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(CSV_BUFFER_BYTES)
            .from_reader(guard);
        CsvRows {
            reader,
            record: csv::ByteRecord::new(),
            codec,
            encoding,
            stream: state,
            row_no: 0,
            newlines_consumed: 0,
            done: false,
        }
    }

    fn read_error(&mut self, err: &csv::Error) -> FileError {
        self.done = true;
        let row_no = self.row_no + 1;
        match err.kind() {
            csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::InvalidData => FileError::at_row(
                "csv_malformed",
                row_no,
                format!(
                    "a record is longer than {} KiB; a quote (\") is probably never closed.",
                    CSV_RECORD_BYTES_MAX / 1024
                ),
                format!("一条记录超过 {} KiB，可能有引号（\"）未闭合。", CSV_RECORD_BYTES_MAX / 1024),
            ),
            csv::ErrorKind::Io(io) => FileError { row_no: Some(row_no), ..FileError::io(io) },
            _ => FileError::at_row(
                "csv_malformed",
                row_no,
                format!("the text cannot be read as CSV ({err})."),
                format!("无法按 CSV 读取（{err}）。"),
            ),
        }
    }

    /// Advances the row number past this record and the blank lines before it: the line breaks the
    /// reader consumed, less those inside quoted fields and the record's own terminator.
    fn count_row(&mut self) {
        let end = self.reader.position();
        let newlines_total = end.line().saturating_sub(1);
        let inside = self.record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        let at_end =
            self.stream.eof.load(Ordering::Relaxed) && end.byte() >= self.stream.read_total.load(Ordering::Relaxed);
        let terminator = u64::from(!at_end || self.stream.last_byte.load(Ordering::Relaxed) == b'\n');
        let blank = newlines_total.saturating_sub(self.newlines_consumed + inside + terminator);
        self.row_no += 1 + blank;
        self.newlines_consumed = newlines_total;
        self.stream.record_start.store(end.byte(), Ordering::Relaxed);
    }

    fn decode_row(&self) -> Result<Option<Row>, FileError> {
        let row_no = self.row_no;
        let mut cells = Vec::with_capacity(self.record.len());
        let last = self.record.len().saturating_sub(1);
        for (index, field) in self.record.iter().enumerate() {
            let field = if index == last { field.strip_suffix(b"\r").unwrap_or(field) } else { field };
            if index >= COLUMNS_MAX {
                if self.record.iter().skip(index).all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    break;
                }
                return Err(too_many_columns(row_no));
            }
            let text = self.decode_field(field, row_no, index)?;
            if text.len() > CELL_CHARS_MAX && text.chars().count() > CELL_CHARS_MAX {
                return Err(cell_too_long(row_no, index));
            }
            cells.push(Cell::from_text(text));
        }
        while cells.last().is_some_and(|c| c.kind == CellKind::Empty) {
            cells.pop();
        }
        Ok((!cells.is_empty()).then_some(Row { row_no, cells }))
    }

    fn decode_field(&self, field: &[u8], row_no: u64, index: usize) -> Result<String, FileError> {
        if let Ok(text) = std::str::from_utf8(field)
            && (self.codec == FieldCodec::Utf8 || field.is_ascii())
        {
            return Ok(text.to_owned());
        }
        if self.codec == FieldCodec::Gb18030
            && let Some(text) = GB18030.decode_without_bom_handling_and_without_replacement(field)
        {
            return Ok(text.into_owned());
        }
        Err(encoding_invalid(row_no, index, self.encoding))
    }
}

impl Iterator for CsvRows {
    type Item = Result<Row, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(err) => return Some(Err(self.read_error(&err))),
            }
            self.count_row();
            match self.decode_row() {
                Ok(Some(row)) => return Some(Ok(row)),
                Ok(None) => continue,
                Err(err) => return Some(Err(err)),
            }
        }
        None
    }
}

fn encoding_invalid(row_no: u64, index: usize, encoding: TextEncoding) -> FileError {
    let column = column_name(index);
    FileError::at_row(
        "encoding_invalid",
        row_no,
        format!(
            "column {column} is not valid {} text (the file was read as {}); save the whole file in one encoding, preferably \"CSV UTF-8\".",
            encoding.code(),
            encoding.code()
        ),
        format!(
            "{column} 列不是有效的 {} 文本（文件按 {} 读取）；请将整个文件以同一编码保存，建议另存为“CSV UTF-8”。",
            encoding.code(),
            encoding.code()
        ),
    )
}

pub(crate) fn too_many_columns(row_no: u64) -> FileError {
    FileError::at_row(
        "too_many_columns",
        row_no,
        format!("the row uses more than {COLUMNS_MAX} columns."),
        format!("该行超过 {COLUMNS_MAX} 列。"),
    )
}

pub(crate) fn cell_too_long(row_no: u64, index: usize) -> FileError {
    let column = column_name(index);
    FileError::at_row(
        "cell_too_long",
        row_no,
        format!("column {column} holds more than {CELL_CHARS_MAX} characters."),
        format!("{column} 列超过 {CELL_CHARS_MAX} 个字符。"),
    )
}

/// Stops a record from growing without bound: when more than `CSV_RECORD_BYTES_MAX` bytes have been
/// read since the last record ended (an unclosed quote swallows the rest of the file), reading fails
/// with `InvalidData`, which becomes `csv_malformed` for that row.
struct RecordGuard<R> {
    inner: R,
    state: Arc<StreamState>,
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read_total = self.state.read_total.load(Ordering::Relaxed);
        let since_record = read_total.saturating_sub(self.state.record_start.load(Ordering::Relaxed));
        if since_record > CSV_RECORD_BYTES_MAX + 2 * CSV_BUFFER_BYTES as u64 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "record too long"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.state.eof.store(true, Ordering::Relaxed);
        } else {
            self.state.last_byte.store(buf[n - 1], Ordering::Relaxed);
        }
        self.state.read_total.store(read_total + n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Transcodes UTF-16 to UTF-8 while reading. A malformed sequence (a lone surrogate) becomes the
/// byte 0xFF, which is never valid UTF-8, so the row it falls in is refused with `encoding_invalid`.
struct Utf16ToUtf8<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    output: Vec<u8>,
    output_start: usize,
    output_end: usize,
    input_done: bool,
    finished: bool,
}

const TRANSCODE_INPUT_BYTES: usize = 16 * 1024;

impl<R: Read> Utf16ToUtf8<R> {
    fn new(inner: R, decoder: encoding_rs::Decoder) -> Self {
        Utf16ToUtf8 {
            inner,
            decoder,
            input: vec![0; TRANSCODE_INPUT_BYTES],
            input_start: 0,
            input_end: 0,
            output: vec![0; TRANSCODE_INPUT_BYTES * 2 + 16],
            output_start: 0,
            output_end: 0,
            input_done: false,
            finished: false,
        }
    }

    fn refill_output(&mut self) -> io::Result<()> {
        if self.input_start == self.input_end && !self.input_done {
            let n = self.inner.read(&mut self.input)?;
            self.input_start = 0;
            self.input_end = n;
            self.input_done = n == 0;
        }
        let room = self.output.len() - 4;
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.input_start..self.input_end],
            &mut self.output[..room],
            self.input_done,
        );
        self.input_start += read;
        self.output_start = 0;
        self.output_end = written;
        match result {
            DecoderResult::InputEmpty => self.finished = self.input_done,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => {
                self.output[written] = 0xFF;
                self.output_end += 1;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_start == self.output_end {
            if self.finished {
                return Ok(0);
            }
            self.refill_output()?;
        }
        let n = buf.len().min(self.output_end - self.output_start);
        buf[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
        self.output_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_follows_consistent_counts() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n", "csv"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2\t3\n", "csv"), b'\t');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3\n", "csv"), b';');
        assert_eq!(sniff_delimiter(b"\"x,y\";b\n\"1,2\";3\n", "txt"), b';');
        assert_eq!(sniff_delimiter(b"single\nvalue\n", "tsv"), b'\t');
        assert_eq!(sniff_delimiter(b"single\nvalue\n", "csv"), b',');
    }

    #[test]
    fn encoding_is_chosen_by_bom_then_validity() {
        assert_eq!(detect_encoding(b"\xef\xbb\xbfa,b"), (TextEncoding::Utf8Bom, 3));
        assert_eq!(detect_encoding(b"\xff\xfea\0"), (TextEncoding::Utf16Le, 2));
        assert_eq!(detect_encoding("名称,金额".as_bytes()).0, TextEncoding::Utf8);
        let gbk = GB18030.encode("名称,金额\n重庆,1").0.into_owned();
        assert_eq!(detect_encoding(&gbk).0, TextEncoding::Gb18030);
        let mut mostly = "名称,金额,重庆市,成都市\n".repeat(10).into_bytes();
        mostly.push(0xff);
        assert_eq!(detect_encoding(&mostly).0, TextEncoding::Utf8);
    }
}
