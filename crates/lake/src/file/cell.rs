//! Cells as text with a kind, and how spreadsheet values become text.

/// What a cell held, so a caller can refuse formulas and error values field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// Nothing, or only whitespace (the text is then empty).
    Empty,
    /// Text as typed. Every non-empty CSV cell is text (CSV has no types), except error literals.
    Text,
    /// A number in a workbook, rendered without float noise (`1234.56`, `42`). Excel serial dates
    /// stored as plain numbers stay numbers: the caller decides by field.
    Number,
    /// A cell formatted as a date or time in a workbook: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `HH:MM:SS`.
    Date,
    /// `TRUE` or `FALSE` in a workbook.
    Bool,
    /// An error value such as `#DIV/0!` or `#N/A` (also when a CSV cell holds exactly such a literal,
    /// as Excel writes them when saving CSV).
    Error,
    /// A workbook cell computed by a formula; the text is its cached value.
    Formula,
}

/// One cell: its text and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub kind: CellKind,
    pub text: String,
}

impl Cell {
    pub fn empty() -> Self {
        Cell { kind: CellKind::Empty, text: String::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.kind == CellKind::Empty
    }

    /// A cell of text as read from delimited text: empty when blank, an error value when it is exactly
    /// one of Excel's error literals, text otherwise.
    pub(crate) fn from_text(text: String) -> Self {
        if text.trim().is_empty() {
            Cell::empty()
        } else if is_error_literal(&text) {
            Cell { kind: CellKind::Error, text }
        } else {
            Cell { kind: CellKind::Text, text }
        }
    }
}

const ERROR_LITERALS: [&str; 10] =
    ["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"];

fn is_error_literal(text: &str) -> bool {
    text.starts_with('#') && ERROR_LITERALS.contains(&text)
}

/// The spreadsheet name of a 0-based column index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A spreadsheet number as text: integral values without `.0`, others in the shortest form that
/// round-trips after rounding to Excel's 15 significant digits, so `0.1+0.2` shows as `0.3` and
/// `1234.56` stays `1234.56`.
pub(crate) fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    if rounded == 0.0 {
        return "0".to_owned();
    }
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        return format!("{}", rounded as i64);
    }
    format!("{rounded}")
}

/// An Excel date-time already split into parts, as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or, for a
/// time without a date (serial below 1), `HH:MM:SS`. Milliseconds appear only when present.
pub(crate) fn format_datetime(serial: f64, parts: (u16, u8, u8, u8, u8, u8, u16)) -> String {
    let (y, mo, d, h, mi, s, ms) = parts;
    let time = if ms > 0 { format!("{h:02}:{mi:02}:{s:02}.{ms:03}") } else { format!("{h:02}:{mi:02}:{s:02}") };
    if (0.0..1.0).contains(&serial) {
        time
    } else if (h, mi, s, ms) == (0, 0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_without_float_noise() {
        assert_eq!(format_number(42.0), "42");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1234.56), "1234.56");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(1e15), "1000000000000000");
        assert_eq!(format_number(123456789012.34), "123456789012.34");
        assert_eq!(format_number(-5.5), "-5.5");
        assert_eq!(format_number(45943.0), "45943");
    }

    #[test]
    fn column_names_follow_the_spreadsheet() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
    }

    #[test]
    fn error_literals_in_text_are_error_cells() {
        assert_eq!(Cell::from_text("#DIV/0!".into()).kind, CellKind::Error);
        assert_eq!(Cell::from_text("#hashtag".into()).kind, CellKind::Text);
        assert_eq!(Cell::from_text("  ".into()), Cell::empty());
    }
}
