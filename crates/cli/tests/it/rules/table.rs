//! What a row of a rule table expects, and the verdicts of a whole table: every row is run, and the table
//! then fails once, naming each row that did not come out as it said.

use std::fmt::Debug;

use lianrong_app::{AppError, AppResult};

/// A refusal as a row expects it: the error's stable `code` and, when the row names one, its `field`
/// (a row that leaves the field out does not judge it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub field: Option<&'static str>,
}

/// What a row expects: the figures of the outcome, or a refusal.
pub type Expect<T> = Result<T, Refusal>;

/// A refusal by code, whatever field it names.
pub const fn refused<T>(code: &'static str) -> Expect<T> {
    Err(Refusal { code, field: None })
}

/// A refusal by code that names `field`.
pub const fn refused_at<T>(code: &'static str, field: &'static str) -> Expect<T> {
    Err(Refusal { code, field: Some(field) })
}

/// A refusal as it came back: from an [`AppError`], or from a row of an import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub code: String,
    pub field: Option<String>,
    pub message: String,
}

impl From<&AppError> for Seen {
    fn from(e: &AppError) -> Seen {
        Seen { code: e.code.to_string(), field: e.field.clone(), message: e.en.clone() }
    }
}

/// The verdicts of one table.
pub struct Verdicts {
    table: &'static str,
    rows: usize,
    failures: Vec<String>,
}

impl Verdicts {
    pub fn new(table: &'static str) -> Verdicts {
        Verdicts { table, rows: 0, failures: Vec::new() }
    }

    /// Judges the use case's answer to row `case`: its figures (through `figures`) or its refusal.
    pub fn judge<T, U: PartialEq + Debug>(
        &mut self,
        case: &str,
        got: &AppResult<T>,
        expect: &Expect<U>,
        figures: impl FnOnce(&T) -> U,
    ) {
        let got = match got {
            Ok(t) => Ok(figures(t)),
            Err(e) => Err(Seen::from(e)),
        };
        self.judge_seen(case, got, expect);
    }

    /// Judges an answer already reduced to figures or a [`Seen`] refusal.
    pub fn judge_seen<U: PartialEq + Debug>(&mut self, case: &str, got: Result<U, Seen>, expect: &Expect<U>) {
        self.rows += 1;
        let wrong = match (&got, expect) {
            (Ok(figures), Ok(wanted)) if figures == wanted => None,
            (Err(seen), Err(wanted))
                if seen.code == wanted.code && wanted.field.is_none_or(|f| seen.field.as_deref() == Some(f)) =>
            {
                None
            }
            (Ok(figures), _) => Some(format!("answered {figures:?}")),
            (Err(seen), _) => {
                Some(format!("refused {} (field {:?}): {}", seen.code, seen.field.as_deref(), seen.message))
            }
        };
        if let Some(wrong) = wrong {
            let wanted = match expect {
                Ok(figures) => format!("{figures:?}"),
                Err(r) => format!("refusal {} (field {:?})", r.code, r.field),
            };
            self.failures.push(format!("  {} / {case}: expected {wanted}, {wrong}", self.table));
        }
    }

    /// Fails naming every row that went wrong.
    #[track_caller]
    pub fn finish(self) {
        assert!(self.rows > 0, "{}: the table has no rows", self.table);
        assert!(
            self.failures.is_empty(),
            "{} of {} rows of {} went wrong:\n{}",
            self.failures.len(),
            self.rows,
            self.table,
            self.failures.join("\n")
        );
    }
}
