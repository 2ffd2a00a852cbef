//! How a rule's refusal reads, wherever it is shown. A rule that refuses knows best what it refused and how
//! to say so, so each refusal carries its stable code, the input it concerns and its message in English and
//! Chinese here, next to the rule; the channels (API, console, mail receipts) only choose how to deliver
//! it, e.g. which HTTP status it gets.

use std::borrow::Cow;

/// A rule's refusal as every channel shows it: a stable code, the field it concerns, and the message in
/// both languages. The English message is the refusal's `Display` unless the type says otherwise.
pub trait Refusal: std::fmt::Display {
    /// The snake_case code that callers, tests and documentation match on; it never changes with wording.
    fn code(&self) -> &'static str;

    /// The input the refusal concerns as the API names it (`amount_fen`, or a caller's name for a hash),
    /// or `None` when it concerns no single input.
    fn field(&self) -> Option<Cow<'static, str>>;

    /// The message in English.
    fn en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese.
    fn zh(&self) -> String;
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use jiff::civil::date;

    use super::Refusal;
    use crate::collection_account::{self, AccountError};
    use crate::commitment::{IssueError, LedgerError};
    use crate::consent::ConsentError;
    use crate::core_library::{IllegalTransition, LibraryAction, LibraryStatus};
    use crate::credit_line::LineError;
    use crate::labelled::UnknownCode;
    use crate::log::{HexError, VerifyError};
    use crate::mailbox::{AddressError, AttachmentError};
    use crate::org::RegionCodeError;
    use crate::page::PageError;
    use crate::password::WeakPassword;
    use crate::product::{self, ProductAction, ProductError, ProductState};
    use crate::text::TextError;
    use crate::trade::header::MappingError;
    use crate::uscc::UsccError;

    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| matches!(c, '\u{4E00}'..='\u{9FFF}'))
    }

    /// Each refusal has a snake_case code, a named field when it names one, an English message and a
    /// Chinese one that is Chinese.
    fn assert_worded(r: &dyn Refusal) {
        let code = r.code();
        assert!(!code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "code {code:?}");
        assert!(r.field().is_none_or(|f| !f.trim().is_empty()), "{code}: empty field");
        assert!(!r.en().trim().is_empty(), "{code}: no English");
        assert!(has_chinese(&r.zh()), "{code}: no Chinese in {:?}", r.zh());
    }

    /// Checks a table holding one value of each variant of an enum, and gives the codes they use.
    fn family<T: Refusal>(all: &[T]) -> BTreeSet<&'static str> {
        let variants: HashSet<_> = all.iter().map(std::mem::discriminant).collect();
        assert_eq!(variants.len(), all.len(), "the table holds one value per variant");
        all.iter().for_each(|r| assert_worded(r));
        all.iter().map(Refusal::code).collect()
    }

    /// An enum whose variants the API tells apart: one code each.
    fn assert_codes_unique<T: Refusal>(all: &[T]) {
        assert_eq!(family(all).len(), all.len(), "every variant has its own code");
    }

    #[test]
    fn every_ledger_refusal_has_its_own_code_and_both_languages() {
        use LedgerError::*;
        assert_codes_unique(&[
            IdReused("t1".into()),
            PartNotFound("C1/9".into()),
            NotHolder("C1/0".into()),
            NotHeld { part: "C1/0".into(), state: "pending" },
            AmountNotPositive,
            AmountsDoNotAddUp { given: 10, held: 11 },
            AmountExceeds { asked: 12, held: 11 },
            OutputCount,
            SelfTransfer,
            NotPending("t2".into()),
            NotTheBank,
            NotTheIssuer,
            Matured,
            NotMatured,
            PendingOutstanding(2),
            AlreadySettled,
            PartialView,
        ]);
        use IssueError::*;
        assert_codes_unique(&[
            MaturityNotAfterIssue,
            MaturityTooFar { days: 400 },
            StretchesSmeTerm { days: 30 },
            FaceOutOfBounds,
        ]);
    }

    #[test]
    fn a_part_not_held_shows_its_state_as_a_reader_of_each_language_knows_it() {
        let e = LedgerError::NotHeld { part: "C1/0".into(), state: "pending" };
        assert_eq!((e.code(), e.field().as_deref()), ("part_not_held", Some("part_id")));
        assert_eq!(e.en(), "part C1/0 is pending, not held");
        assert_eq!(e.zh(), "凭证份额 C1/0 当前状态为「待银行处理」，不可再拆转");
    }

    #[test]
    fn consent_and_credit_line_refusals_have_their_own_codes() {
        let day = date(2026, 3, 15);
        assert_codes_unique(&[
            ConsentError::NoCategory,
            ConsentError::EndsTooSoon { today: day },
            ConsentError::EndsTooLate { latest: day },
        ]);
        assert_codes_unique(&[
            LineError::LimitOutOfBounds,
            LineError::TermOutOfBounds,
            LineError::AmountNotPositive,
            LineError::Exceeded { asked: 61, available: 60 },
            LineError::NotInForce(day),
            LineError::ReleaseExceedsUse { asked: 41, used: 40 },
        ]);
    }

    #[test]
    fn mail_and_proof_refusals_have_their_own_codes() {
        assert_codes_unique(&[
            AttachmentError::TooMany { found: 21, max: 20 },
            AttachmentError::Unreadable("x".into()),
        ]);
        use VerifyError::*;
        assert_codes_unique(&[
            LeafIndexOutOfRange { leaf_index: 3, tree_size: 3 },
            SizesOutOfOrder { first: 4, second: 3 },
            ProofLength { expected: 2, found: 3 },
            RootMismatch,
            OldRootMismatch,
            NewRootMismatch,
            SameSizeDifferentRoots,
        ]);
    }

    /// Some families answer with one code and say in the message what was wrong; the API documents them so.
    #[test]
    fn families_with_one_code_word_every_variant() {
        let one = |code: &'static str| BTreeSet::from([code]);
        let address = [AddressError::Empty, AddressError::TooLong { found: 300, max: 254 }, AddressError::Shape];
        assert_eq!(family(&address), one("invalid_mail_address"));
        let uscc = [
            UsccError::Length { found: 17 },
            UsccError::Character { position: 5, ch: 'I' },
            UsccError::Region { position: 3, ch: 'A' },
            UsccError::Check { expected: '5', found: 'X' },
        ];
        assert_eq!(family(&uscc), one("invalid_uscc"));
        let password = [
            WeakPassword::TooShort { found: 3, min: 10 },
            WeakPassword::TooLong { found: 300, max: 128 },
            WeakPassword::TooSimple,
            WeakPassword::ContainsLogin,
        ];
        assert_eq!(family(&password), one("weak_password"));
        let text = [
            TextError::Empty { field: "name" },
            TextError::TooLong { field: "name", found: 300, max: 200 },
            TextError::Control { field: "name" },
        ];
        assert_eq!(family(&text), one("invalid_text"));
        assert_eq!(family(&[PageError::Page, PageError::PageSize { max: 200 }]), one("invalid_page"));
        let mapping = [MappingError::HeaderEmpty, MappingError::HeaderTooLong, MappingError::TooMany];
        assert_eq!(family(&mapping), BTreeSet::from(["column_header_invalid", "column_mappings_full"]));
    }

    #[test]
    fn single_refusals_and_refusals_built_by_their_rules_are_worded() {
        assert_worded(&RegionCodeError("00x".into()));
        assert_worded(&IllegalTransition { from: LibraryStatus::Withdrawn, action: LibraryAction::Suspend });
        assert_worded(&HexError { field: "root_hash".into() });
        assert_worded(&UnknownCode { field: "kind", value: "x".into(), allowed: "a, b".into() });
        let products: Vec<ProductError> = vec![
            product::check_editable(ProductState::Published).unwrap_err(),
            product::transition(ProductState::Withdrawn, ProductAction::Withdraw).unwrap_err(),
            product::transition(ProductState::Published, ProductAction::Publish).unwrap_err(),
        ];
        products.iter().for_each(|e| assert_worded(e));
        let accounts: Vec<AccountError> = vec![
            collection_account::validate("", "银行", "某公司").unwrap_err(),
            collection_account::validate("12ab", "银行", "某公司").unwrap_err(),
            collection_account::validate("6222020200112233", "", "某公司").unwrap_err(),
        ];
        accounts.iter().for_each(|e| assert_worded(e));
    }
}
