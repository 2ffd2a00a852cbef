//! Debtor confirmation (确权) and the data-only "four no's" path: the two ways a receivable earns credit, kept
//! apart on purpose.
//!
//! - **Confirmed** (确权): the debtor — usually a core enterprise — signs that it owes the receivable, asked by
//!   the creditor or unasked by uploading its payables (which counts as confirming them, as on the central
//!   bank's receivables financing platform; docs/domain-rules.md, "Receivables registration"). The core's own
//!   credit then stands behind it. Sharing trade data with the lake is NOT confirmation: that is what the
//!   data-only path rests on, and it must add no liability to the core.
//! - **Data-only** (数据确真, "four no's"): the trade data prove the receivable (four-flow verified, no
//!   discrepancy), so it may be financed without asking anything of the core: no confirmation, none of
//!   its credit line, none of its systems, no liability added.
//!
//! Pure rules: statuses, the statement a debtor signs, and data-only eligibility.

use serde::{Deserialize, Serialize};

use crate::four_flow::VerificationStatus;
use crate::labelled_enum;

/// Receivables in one confirmation request or one batch of decisions.
pub const CONFIRMATION_BATCH_MAX: usize = 500;
/// A rejection's reason, and a request's note.
pub const CONFIRMATION_REASON_CHARS_MAX: usize = 500;
/// The schema named in every signed statement, so a verifier knows what the bytes mean.
pub const STATEMENT_SCHEMA: &str = "lianrong/confirmation/v2";

labelled_enum!(
    /// Where a confirmation request stands.
    ConfirmationStatus, "status" {
        Requested => ("requested", "待确权", "Awaiting confirmation"),
        Confirmed => ("confirmed", "已确权", "Confirmed"),
        Rejected => ("rejected", "已拒绝", "Rejected"),
        Withdrawn => ("withdrawn", "已撤回", "Withdrawn"),
        Superseded => ("superseded", "已失效（单据已变更，须重新确权）", "Superseded (the record changed; ask again)"),
    }
);

labelled_enum!(
    /// What the debtor decides.
    Decision, "decision" {
        Confirm => ("confirm", "确认", "Confirm"),
        Reject => ("reject", "拒绝", "Reject"),
    }
);

impl Decision {
    pub fn status(self) -> ConfirmationStatus {
        match self {
            Decision::Confirm => ConfirmationStatus::Confirmed,
            Decision::Reject => ConfirmationStatus::Rejected,
        }
    }
}

labelled_enum!(
    /// What the debtor is asked to sign for: that it owes a receivable (确权), or that a purchase order
    /// is real (确真), which a supplier needs for order financing before any invoice exists.
    ConfirmationSubject, "subject" {
        Receivable => ("receivable", "应收账款确权", "Receivable confirmation"),
        Order => ("order", "订单确真", "Order authenticity"),
    }
);

labelled_enum!(
    /// How a confirmation row came about.
    ConfirmationKind, "kind" {
        Request => ("request", "债权人申请", "Asked by the creditor"),
        DebtorUpload => ("debtor_upload", "债务人上传应付", "Payables uploaded by the debtor"),
    }
);

labelled_enum!(
    /// Who holds an organisation's SM2 signing key.
    KeyHolder, "held_by" {
        Platform => ("platform", "平台托管", "Held by the platform"),
        Organisation => ("organisation", "机构自持", "Held by the organisation"),
    }
);

labelled_enum!(
    /// How a receivable came to be confirmed by its debtor.
    ConfirmationSource, "source" {
        Signed => ("signed", "债务人签名确权", "Signed by the debtor"),
        DebtorUpload => ("debtor_upload", "债务人上传应付即确权", "Confirmed by the debtor's payables upload"),
        Crcrfsp => ("crcrfsp", "中征平台确权", "Confirmed on the CRCRFSP platform"),
    }
);

labelled_enum!(
    /// Why a receivable is not eligible for data-only ("four no's") financing.
    Ineligibility, "reason" {
        NotVerified => ("not_verified", "四流未全部核验一致", "The four flows are not all verified"),
        Discrepancy => ("discrepancy", "存在核验差异", "The verification found a discrepancy"),
        NothingOutstanding => ("nothing_outstanding", "无未收金额", "Nothing is outstanding"),
        NoDueDate => ("no_due_date", "无法确定到期日", "The due date is unknown"),
        Overdue => ("overdue", "已逾期", "Already overdue"),
    }
);

/// The facts of a receivable that the debtor signs. Serialised as canonical JSON (keys sorted, no
/// white space) by the caller; the same facts always give the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub schema: String,
    pub subject: ConfirmationSubject,
    pub confirmation_id: String,
    pub decision: Decision,
    pub debtor_uscc: String,
    pub creditor_uscc: String,
    /// The invoice number, or for an order the order number.
    pub invoice_no: String,
    /// The invoice code of a paper or older electronic invoice (empty for fully digital e-invoices).
    pub invoice_code: String,
    /// SM3 of the record's canonical content as it stood when confirmation was asked: the signature
    /// covers what was confirmed, not only an id.
    pub content_sm3: String,
    pub amount_fen: i64,
    pub due_date: Option<String>,
    /// When confirmation was asked (RFC 3339, UTC); absent for a debtor's upload, which is signed
    /// before it is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

/// Whether a receivable may be financed on data alone; the reasons when not (empty when eligible).
pub fn data_only_ineligibility(
    status: VerificationStatus,
    discrepancy_count: usize,
    outstanding_fen: i64,
    has_due_date: bool,
    overdue_days: i64,
) -> Vec<Ineligibility> {
    let mut reasons = Vec::new();
    if status != VerificationStatus::Verified {
        reasons.push(Ineligibility::NotVerified);
    }
    if discrepancy_count > 0 {
        reasons.push(Ineligibility::Discrepancy);
    }
    if outstanding_fen <= 0 {
        reasons.push(Ineligibility::NothingOutstanding);
    }
    if !has_due_date {
        reasons.push(Ineligibility::NoDueDate);
    }
    if overdue_days > 0 {
        reasons.push(Ineligibility::Overdue);
    }
    reasons
}

/// Time to confirm: the figures the seed wants cut, over decided requests' waits in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitFigures {
    pub decided: usize,
    pub mean_ms: i64,
    pub median_ms: i64,
    pub p90_ms: i64,
    pub max_ms: i64,
}

/// Mean, median (lower of the middle two), 90th percentile (nearest rank) and maximum of the waits.
pub fn wait_figures(waits_ms: &[i64]) -> WaitFigures {
    if waits_ms.is_empty() {
        return WaitFigures::default();
    }
    let mut sorted: Vec<i64> = waits_ms.iter().map(|w| (*w).max(0)).collect();
    sorted.sort_unstable();
    let n = sorted.len();
    let total: i128 = sorted.iter().map(|&w| i128::from(w)).sum();
    let rank = |p: usize| sorted[((p * n).div_ceil(100)).clamp(1, n) - 1];
    WaitFigures {
        decided: n,
        mean_ms: i64::try_from(total / n as i128).unwrap_or(i64::MAX),
        median_ms: sorted[(n - 1) / 2],
        p90_ms: rank(90),
        max_ms: sorted[n - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_fully_verified_current_receivable_is_data_only_eligible() {
        assert!(data_only_ineligibility(VerificationStatus::Verified, 0, 100, true, 0).is_empty());
        assert_eq!(
            data_only_ineligibility(VerificationStatus::Partly, 0, 100, true, 0),
            vec![Ineligibility::NotVerified]
        );
        assert_eq!(
            data_only_ineligibility(VerificationStatus::Verified, 1, 0, false, 3),
            vec![
                Ineligibility::Discrepancy,
                Ineligibility::NothingOutstanding,
                Ineligibility::NoDueDate,
                Ineligibility::Overdue
            ]
        );
    }

    #[test]
    fn wait_figures_are_exact() {
        assert_eq!(wait_figures(&[]), WaitFigures::default());
        let f = wait_figures(&[10, 40, 20, 30, 1000, 50, 60, 70, 80, 90]);
        assert_eq!(f.decided, 10);
        assert_eq!(f.mean_ms, 145);
        assert_eq!(f.median_ms, 50);
        assert_eq!(f.p90_ms, 90);
        assert_eq!(f.max_ms, 1000);
        assert_eq!(wait_figures(&[7]).p90_ms, 7);
    }

    #[test]
    fn decisions_map_to_statuses() {
        assert_eq!(Decision::Confirm.status(), ConfirmationStatus::Confirmed);
        assert_eq!(Decision::Reject.status(), ConfirmationStatus::Rejected);
        assert_eq!(Decision::parse("confirm"), Ok(Decision::Confirm));
        assert!(Decision::parse("maybe").is_err());
    }
}
