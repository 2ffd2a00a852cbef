//! The core-enterprise library (核心企业库): a state machine per entry. An entry is applied for, then
//! admitted by the operator; an admitted entry may be suspended and reinstated; any entry may be withdrawn,
//! which is final. Every move is kept as history.

use std::borrow::Cow;

use crate::labelled_enum;
use crate::refusal::Refusal;

labelled_enum!(
    LibraryStatus, "status" {
        Applied => ("applied", "已申报", "Applied"),
        Admitted => ("admitted", "已入库", "Admitted"),
        Suspended => ("suspended", "已暂停", "Suspended"),
        Withdrawn => ("withdrawn", "已退出", "Withdrawn"),
    }
);

labelled_enum!(
    LibraryAction, "action" {
        Admit => ("admit", "准予入库", "Admit"),
        Suspend => ("suspend", "暂停", "Suspend"),
        Reinstate => ("reinstate", "恢复", "Reinstate"),
        Withdraw => ("withdraw", "退出", "Withdraw"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an entry that is {from}")]
pub struct IllegalTransition {
    pub from: LibraryStatus,
    pub action: LibraryAction,
}

impl Refusal for IllegalTransition {
    fn code(&self) -> &'static str {
        "illegal_transition"
    }

    /// The entry's state is at fault, not an input.
    fn field(&self) -> Option<Cow<'static, str>> {
        None
    }

    fn zh(&self) -> String {
        format!("状态为“{}”的条目不能执行“{}”", self.from.label_zh(), self.action.label_zh())
    }
}

impl LibraryAction {
    /// Suspending or withdrawing someone must be explained; admitting may carry a note.
    pub fn reason_required(self) -> bool {
        matches!(self, LibraryAction::Suspend | LibraryAction::Withdraw)
    }

    /// Only the operator decides, except that an applicant may withdraw its own entry.
    pub fn operator_only(self) -> bool {
        !matches!(self, LibraryAction::Withdraw)
    }
}

/// The one place that says which moves are legal.
pub fn transition(from: LibraryStatus, action: LibraryAction) -> Result<LibraryStatus, IllegalTransition> {
    use LibraryAction as A;
    use LibraryStatus as S;
    match (from, action) {
        (S::Applied, A::Admit) => Ok(S::Admitted),
        (S::Admitted, A::Suspend) => Ok(S::Suspended),
        (S::Suspended, A::Reinstate) => Ok(S::Admitted),
        (S::Applied | S::Admitted | S::Suspended, A::Withdraw) => Ok(S::Withdrawn),
        _ => Err(IllegalTransition { from, action }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_and_illegal_moves() {
        use LibraryAction as A;
        use LibraryStatus as S;
        assert_eq!(transition(S::Applied, A::Admit), Ok(S::Admitted));
        assert_eq!(transition(S::Admitted, A::Suspend), Ok(S::Suspended));
        assert_eq!(transition(S::Suspended, A::Reinstate), Ok(S::Admitted));
        assert_eq!(transition(S::Suspended, A::Withdraw), Ok(S::Withdrawn));
        assert!(transition(S::Admitted, A::Admit).is_err());
        assert!(transition(S::Applied, A::Suspend).is_err());
        for &a in LibraryAction::ALL {
            assert!(transition(S::Withdrawn, a).is_err(), "withdrawn is final");
        }
    }
}
