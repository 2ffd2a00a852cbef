//! Digital payment commitments (数字债权凭证): the rules of issuing one and the double-entry ledger of its parts,
//! pure and exact.
//!
//! A commitment of `face_fen` starts as one part held by the tier-1 supplier it was issued to. Every
//! operation is a transfer with an id that spends one held part into outputs summing exactly to it: a split
//! (outputs to the same holder), a transfer to a supplier (the amount to the recipient, the change back), a
//! discount at a bank (pending until the bank posts or voids it), and settlement at maturity. Parts are never
//! changed in place, so the lineage of every fen is a tree back to the issue. The transfer id is the
//! idempotency key (as in TigerBeetle; docs/domain-rules.md, "Transfer ids as idempotency keys"): the same id
//! with the same request is answered with the first result; with another request it is refused.
//!
//! Invariants, asserted after every operation ([`Ledger::check`]) and property-tested: the live parts
//! (held or pending) sum to the face less what was settled; a part is spent at most once; a spent part's
//! outputs sum to it; every part but the first descends from a spent one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::labelled_enum;
use crate::refusal::Refusal;

/// Outputs of one transfer (a split into more parts is several transfers).
pub const OUTPUTS_MAX: usize = 100;
/// A commitment matures within a year of issue at the very most …
pub const MATURITY_DAYS_MAX: i64 = 365;
/// … and within six months in principle (a longer one is flagged). Both bounds: docs/domain-rules.md,
/// "Receivable e-voucher terms".
pub const MATURITY_DAYS_PRINCIPLE: i64 = 183;

labelled_enum!(
    /// Whether a commitment still waits for its issuer's payment at maturity.
    CommitmentState, "commitment_state" {
        Outstanding => ("outstanding", "待兑付", "Outstanding"),
        Settled => ("settled", "已兑付", "Settled"),
    }
);

labelled_enum!(
    /// Where a part stands.
    PartState, "part_state" {
        Held => ("held", "持有", "Held"),
        Pending => ("pending", "待银行处理", "Pending at a bank"),
        Spent => ("spent", "已拆转", "Split or transferred"),
        Settled => ("settled", "已兑付", "Settled"),
    }
);

labelled_enum!(
    /// What a transfer does.
    TransferKind, "transfer_kind" {
        Split => ("split", "拆分", "Split"),
        Transfer => ("transfer", "转让", "Transfer"),
        Discount => ("discount", "贴现融资", "Discount"),
        Settle => ("settle", "到期兑付", "Settlement"),
    }
);

labelled_enum!(
    /// A transfer's phase: a discount waits for the bank; everything else posts at once.
    TransferState, "transfer_state" {
        Pending => ("pending", "待处理", "Pending"),
        Posted => ("posted", "已生效", "Posted"),
        Voided => ("voided", "已撤销", "Voided"),
    }
);

/// One part of a commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub id: String,
    pub holder: String,
    pub amount_fen: i64,
    /// The part it was split from; `None` for the issued part.
    pub parent: Option<String>,
    /// The transfer that made it.
    pub made_by: Option<String>,
    pub state: PartState,
    /// The transfer that spent it, holds it pending, or settled it.
    pub spent_by: Option<String>,
}

/// One operation, as it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The holder splits a part into parts of its own.
    Split {
        part_id: String,
        amounts_fen: Vec<i64>,
    },
    /// The holder passes `amount_fen` of a part to `to`; the rest stays with the holder.
    Transfer {
        part_id: String,
        to: String,
        amount_fen: i64,
    },
    /// The holder discounts `amount_fen` of a part at `bank`, pending the bank's decision.
    Discount {
        part_id: String,
        bank: String,
        amount_fen: i64,
    },
    /// The bank posts (pays) or voids a pending discount.
    Post {
        transfer_id: String,
    },
    Void {
        transfer_id: String,
    },
    /// At maturity, the issuer's payment settles every held part.
    Settle,
}

/// One transfer as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub kind: TransferKind,
    pub state: TransferState,
    /// Who asked (the holder; the bank for a post or void; the issuer for settlement).
    pub actor: String,
    pub request: Request,
    /// The part spent (none for settlement).
    pub input: Option<String>,
    /// The parts made, in order.
    pub outputs: Vec<String>,
    /// For settlement: what each part paid out, (part id, holder, fen).
    pub payouts: Vec<(String, String, i64)>,
}

/// Why an operation is refused. Each names what was wrong; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("transfer id {0} was already used for a different request")]
    IdReused(String),
    #[error("part {0} does not exist")]
    PartNotFound(String),
    #[error("part {0} is not held by the caller")]
    NotHolder(String),
    #[error("part {part} is {state}, not held")]
    NotHeld { part: String, state: &'static str },
    #[error("amounts must be positive, whole fen")]
    AmountNotPositive,
    #[error("the amounts add up to {given} fen, the part holds {held} fen")]
    AmountsDoNotAddUp { given: i64, held: i64 },
    #[error("{asked} fen asked of a part of {held} fen")]
    AmountExceeds { asked: i64, held: i64 },
    #[error("at most {OUTPUTS_MAX} parts, at least 2, in one split")]
    OutputCount,
    #[error("a part cannot be passed to its own holder")]
    SelfTransfer,
    #[error("transfer {0} is not a pending discount")]
    NotPending(String),
    #[error("only the bank of a pending discount posts or voids it")]
    NotTheBank,
    #[error("only the issuer settles the commitment")]
    NotTheIssuer,
    #[error("the commitment has matured; its parts can only be settled")]
    Matured,
    #[error("the commitment has not matured yet")]
    NotMatured,
    #[error("{0} discount(s) still pending; the banks decide them before settlement")]
    PendingOutstanding(usize),
    #[error("the commitment is settled")]
    AlreadySettled,
    #[error("settlement needs the whole ledger, not a view of some parts")]
    PartialView,
}

impl Refusal for LedgerError {
    fn code(&self) -> &'static str {
        match self {
            LedgerError::IdReused(_) => "transfer_id_reused",
            LedgerError::PartNotFound(_) => "part_not_found",
            LedgerError::NotHolder(_) => "not_holder",
            LedgerError::NotHeld { .. } => "part_not_held",
            LedgerError::AmountNotPositive => "amount_not_positive",
            LedgerError::AmountsDoNotAddUp { .. } => "amounts_do_not_add_up",
            LedgerError::AmountExceeds { .. } => "amount_exceeds_part",
            LedgerError::OutputCount => "split_count",
            LedgerError::SelfTransfer => "self_transfer",
            LedgerError::NotPending(_) => "not_pending",
            LedgerError::NotTheBank => "not_the_bank",
            LedgerError::NotTheIssuer => "not_the_issuer",
            LedgerError::Matured => "matured",
            LedgerError::NotMatured => "not_matured",
            LedgerError::PendingOutstanding(_) => "discounts_pending",
            LedgerError::AlreadySettled => "already_settled",
            // A view asked to settle is the platform's mistake, not the caller's: it reads as an internal error.
            LedgerError::PartialView => "internal",
        }
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        let field = match self {
            LedgerError::IdReused(_) | LedgerError::NotPending(_) | LedgerError::NotTheBank => "transfer_id",
            LedgerError::PartNotFound(_) | LedgerError::NotHolder(_) | LedgerError::NotHeld { .. } => "part_id",
            LedgerError::AmountNotPositive | LedgerError::AmountExceeds { .. } => "amount_fen",
            LedgerError::AmountsDoNotAddUp { .. } | LedgerError::OutputCount => "amounts_fen",
            LedgerError::SelfTransfer => "to_org_id",
            LedgerError::NotTheIssuer
            | LedgerError::Matured
            | LedgerError::NotMatured
            | LedgerError::PendingOutstanding(_)
            | LedgerError::AlreadySettled
            | LedgerError::PartialView => "commitment_id",
        };
        Some(Cow::Borrowed(field))
    }

    fn zh(&self) -> String {
        match self {
            LedgerError::IdReused(id) => format!("操作编号 {id} 已用于另一笔不同的操作"),
            LedgerError::PartNotFound(p) => format!("凭证份额 {p} 不存在"),
            LedgerError::NotHolder(p) => format!("凭证份额 {p} 不由您持有"),
            LedgerError::NotHeld { part, state } => {
                // The state travels as its code; a reader of Chinese is shown its label.
                let state = PartState::parse(state).map(|s| s.label_zh()).unwrap_or(state);
                format!("凭证份额 {part} 当前状态为「{state}」，不可再拆转")
            }
            LedgerError::AmountNotPositive => "金额须为正数，且最小单位为分".into(),
            LedgerError::AmountsDoNotAddUp { given, held } => format!("拆分金额合计{given}分，与份额金额{held}分不符"),
            LedgerError::AmountExceeds { asked, held } => format!("申请{asked}分，超过份额金额{held}分"),
            LedgerError::OutputCount => format!("一次拆分须为2至{OUTPUTS_MAX}份"),
            LedgerError::SelfTransfer => "不能转让给自己".into(),
            LedgerError::NotPending(t) => format!("操作 {t} 不是待处理的贴现"),
            LedgerError::NotTheBank => "只有贴现银行可以确认或撤销该贴现".into(),
            LedgerError::NotTheIssuer => "只有开立方可以到期兑付".into(),
            LedgerError::Matured => "债权凭证已到期，只能兑付，不能再拆分、转让或贴现".into(),
            LedgerError::NotMatured => "债权凭证尚未到期".into(),
            LedgerError::PendingOutstanding(n) => format!("尚有{n}笔贴现待银行处理，处理后方可兑付"),
            LedgerError::AlreadySettled => "债权凭证已兑付".into(),
            LedgerError::PartialView => "内部错误".into(),
        }
    }
}

/// The outcome of applying a request: the transfer, new or (for a retried id) the one recorded first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    New(Transfer),
    Repeated(Transfer),
}

impl Applied {
    pub fn transfer(&self) -> &Transfer {
        match self {
            Applied::New(t) | Applied::Repeated(t) => t,
        }
    }
}

/// A commitment's parts and transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub commitment_id: String,
    pub issuer: String,
    pub face_fen: i64,
    pub maturity: Date,
    pub parts: BTreeMap<String, Part>,
    pub transfers: BTreeMap<String, Transfer>,
    pub settled_fen: i64,
    /// A view holds only the parts and transfers one operation touches (the store loads no more), so
    /// its checks are local: the spent part's outputs sum to it. A full ledger checks everything.
    pub partial: bool,
}

/// The id of a transfer's `n`th output: derived, so a retried request makes the same parts.
pub fn output_id(transfer_id: &str, n: usize) -> String {
    format!("{transfer_id}/{n}")
}

impl Ledger {
    /// A freshly issued commitment: one part of `face_fen` held by `holder`.
    pub fn issue(commitment_id: &str, issuer: &str, holder: &str, face_fen: i64, maturity: Date) -> Ledger {
        let first = Part {
            id: format!("{commitment_id}/0"),
            holder: holder.to_string(),
            amount_fen: face_fen,
            parent: None,
            made_by: None,
            state: PartState::Held,
            spent_by: None,
        };
        Ledger {
            commitment_id: commitment_id.to_string(),
            issuer: issuer.to_string(),
            face_fen,
            maturity,
            parts: BTreeMap::from([(first.id.clone(), first)]),
            transfers: BTreeMap::new(),
            settled_fen: 0,
            partial: false,
        }
    }

    /// A view for one operation: the commitment's header with only `parts` and `transfers` loaded. Its
    /// face is what the loaded live parts hold, so conservation is checked for them alone. Settlement
    /// needs every part and is refused on a view.
    pub fn view(
        commitment_id: &str,
        issuer: &str,
        maturity: Date,
        parts: Vec<Part>,
        transfers: Vec<Transfer>,
    ) -> Ledger {
        let parts: BTreeMap<String, Part> = parts.into_iter().map(|p| (p.id.clone(), p)).collect();
        let mut l = Ledger {
            commitment_id: commitment_id.to_string(),
            issuer: issuer.to_string(),
            face_fen: 0,
            maturity,
            parts,
            transfers: transfers.into_iter().map(|t| (t.id.clone(), t)).collect(),
            settled_fen: 0,
            partial: true,
        };
        l.face_fen = l.live_fen();
        l
    }

    /// A full ledger rebuilt from stored parts and transfers, with what was settled.
    pub fn rebuild(
        commitment_id: &str,
        issuer: &str,
        face_fen: i64,
        maturity: Date,
        parts: Vec<Part>,
        transfers: Vec<Transfer>,
    ) -> Ledger {
        let parts: BTreeMap<String, Part> = parts.into_iter().map(|p| (p.id.clone(), p)).collect();
        let settled_fen = parts.values().filter(|p| p.state == PartState::Settled).map(|p| p.amount_fen).sum();
        Ledger {
            commitment_id: commitment_id.to_string(),
            issuer: issuer.to_string(),
            face_fen,
            maturity,
            parts,
            transfers: transfers.into_iter().map(|t| (t.id.clone(), t)).collect(),
            settled_fen,
            partial: false,
        }
    }

    /// Applies `request` by `actor` on `today` as transfer `id`, or refuses it and changes nothing.
    pub fn apply(&mut self, id: &str, actor: &str, request: Request, today: Date) -> Result<Applied, LedgerError> {
        if let Some(t) = self.transfers.get(id) {
            return if t.request == request && t.actor == actor {
                Ok(Applied::Repeated(t.clone()))
            } else {
                Err(LedgerError::IdReused(id.to_string()))
            };
        }
        if self.settled_fen > 0 && self.live_fen() == 0 {
            return Err(LedgerError::AlreadySettled);
        }
        let transfer = match &request {
            Request::Split { part_id, amounts_fen } => {
                self.not_matured(today)?;
                let held = self.held_by(part_id, actor)?;
                if amounts_fen.len() < 2 || amounts_fen.len() > OUTPUTS_MAX {
                    return Err(LedgerError::OutputCount);
                }
                if amounts_fen.iter().any(|a| *a <= 0) {
                    return Err(LedgerError::AmountNotPositive);
                }
                let given = amounts_fen.iter().try_fold(0i64, |s, a| s.checked_add(*a)).unwrap_or(i64::MAX);
                if given != held.amount_fen {
                    return Err(LedgerError::AmountsDoNotAddUp { given, held: held.amount_fen });
                }
                let outputs: Vec<(String, i64)> = amounts_fen.iter().map(|a| (actor.to_string(), *a)).collect();
                self.spend(id, actor, TransferKind::Split, request.clone(), part_id, &outputs, TransferState::Posted)
            }
            Request::Transfer { part_id, to, amount_fen } | Request::Discount { part_id, bank: to, amount_fen } => {
                self.not_matured(today)?;
                let held = self.held_by(part_id, actor)?;
                if *amount_fen <= 0 {
                    return Err(LedgerError::AmountNotPositive);
                }
                if *amount_fen > held.amount_fen {
                    return Err(LedgerError::AmountExceeds { asked: *amount_fen, held: held.amount_fen });
                }
                if to == actor {
                    return Err(LedgerError::SelfTransfer);
                }
                let mut outputs = vec![(to.clone(), *amount_fen)];
                if held.amount_fen > *amount_fen {
                    outputs.push((actor.to_string(), held.amount_fen - amount_fen));
                }
                let (kind, state) = match request {
                    Request::Discount { .. } => (TransferKind::Discount, TransferState::Pending),
                    _ => (TransferKind::Transfer, TransferState::Posted),
                };
                self.spend(id, actor, kind, request.clone(), part_id, &outputs, state)
            }
            Request::Post { transfer_id } | Request::Void { transfer_id } => {
                let post = matches!(request, Request::Post { .. });
                self.resolve(id, actor, request.clone(), transfer_id, post)?
            }
            Request::Settle => {
                if self.partial {
                    return Err(LedgerError::PartialView);
                }
                if actor != self.issuer {
                    return Err(LedgerError::NotTheIssuer);
                }
                if today < self.maturity {
                    return Err(LedgerError::NotMatured);
                }
                let pending = self.parts.values().filter(|p| p.state == PartState::Pending).count();
                if pending > 0 {
                    return Err(LedgerError::PendingOutstanding(pending));
                }
                let mut payouts = Vec::new();
                for p in self.parts.values_mut().filter(|p| p.state == PartState::Held) {
                    p.state = PartState::Settled;
                    p.spent_by = Some(id.to_string());
                    payouts.push((p.id.clone(), p.holder.clone(), p.amount_fen));
                }
                self.settled_fen += payouts.iter().map(|(_, _, a)| a).sum::<i64>();
                Transfer {
                    id: id.to_string(),
                    kind: TransferKind::Settle,
                    state: TransferState::Posted,
                    actor: actor.to_string(),
                    request: Request::Settle,
                    input: None,
                    outputs: Vec::new(),
                    payouts,
                }
            }
        };
        self.transfers.insert(id.to_string(), transfer.clone());
        debug_assert_eq!(self.check(), Ok(()), "ledger invariant broken by {id}");
        Ok(Applied::New(transfer))
    }

    fn not_matured(&self, today: Date) -> Result<(), LedgerError> {
        if today >= self.maturity { Err(LedgerError::Matured) } else { Ok(()) }
    }

    fn held_by(&self, part_id: &str, actor: &str) -> Result<Part, LedgerError> {
        let p = self.parts.get(part_id).ok_or_else(|| LedgerError::PartNotFound(part_id.to_string()))?;
        if p.holder != actor {
            return Err(LedgerError::NotHolder(part_id.to_string()));
        }
        if p.state != PartState::Held {
            return Err(LedgerError::NotHeld { part: part_id.to_string(), state: p.state.code() });
        }
        Ok(p.clone())
    }

    /// Spends a held part into `outputs` (holder, fen). A pending transfer holds the part instead, and
    /// makes its outputs only when posted.
    #[allow(clippy::too_many_arguments)]
    fn spend(
        &mut self,
        id: &str,
        actor: &str,
        kind: TransferKind,
        request: Request,
        part_id: &str,
        outputs: &[(String, i64)],
        state: TransferState,
    ) -> Transfer {
        let ids: Vec<String> = (0..outputs.len()).map(|n| output_id(id, n)).collect();
        if state == TransferState::Posted {
            self.make_outputs(id, part_id, &ids, outputs);
        }
        if let Some(p) = self.parts.get_mut(part_id) {
            p.state = if state == TransferState::Pending { PartState::Pending } else { PartState::Spent };
            p.spent_by = Some(id.to_string());
        }
        Transfer {
            id: id.to_string(),
            kind,
            state,
            actor: actor.to_string(),
            request,
            input: Some(part_id.to_string()),
            outputs: ids,
            payouts: Vec::new(),
        }
    }

    fn make_outputs(&mut self, id: &str, parent: &str, ids: &[String], outputs: &[(String, i64)]) {
        for (oid, (holder, amount)) in ids.iter().zip(outputs) {
            let part = Part {
                id: oid.clone(),
                holder: holder.clone(),
                amount_fen: *amount,
                parent: Some(parent.to_string()),
                made_by: Some(id.to_string()),
                state: PartState::Held,
                spent_by: None,
            };
            self.parts.insert(oid.clone(), part);
        }
    }

    /// Posts or voids the pending discount `pending_id`, by its bank, as transfer `id`.
    fn resolve(
        &mut self,
        id: &str,
        actor: &str,
        request: Request,
        pending_id: &str,
        post: bool,
    ) -> Result<Transfer, LedgerError> {
        let pending = self
            .transfers
            .get(pending_id)
            .filter(|t| t.kind == TransferKind::Discount && t.state == TransferState::Pending)
            .cloned()
            .ok_or_else(|| LedgerError::NotPending(pending_id.to_string()))?;
        let Request::Discount { part_id, bank, amount_fen } = &pending.request else {
            return Err(LedgerError::NotPending(pending_id.to_string()));
        };
        if bank != actor {
            return Err(LedgerError::NotTheBank);
        }
        let held = self.parts.get(part_id).cloned().ok_or_else(|| LedgerError::PartNotFound(part_id.clone()))?;
        if post {
            let mut outputs = vec![(bank.clone(), *amount_fen)];
            if held.amount_fen > *amount_fen {
                outputs.push((held.holder.clone(), held.amount_fen - amount_fen));
            }
            self.make_outputs(pending_id, part_id, &pending.outputs, &outputs);
            if let Some(p) = self.parts.get_mut(part_id) {
                p.state = PartState::Spent;
            }
        } else if let Some(p) = self.parts.get_mut(part_id) {
            p.state = PartState::Held;
            p.spent_by = None;
        }
        if let Some(t) = self.transfers.get_mut(pending_id) {
            t.state = if post { TransferState::Posted } else { TransferState::Voided };
        }
        Ok(Transfer {
            id: id.to_string(),
            kind: TransferKind::Discount,
            state: if post { TransferState::Posted } else { TransferState::Voided },
            actor: actor.to_string(),
            request,
            input: Some(part_id.clone()),
            outputs: if post { pending.outputs.clone() } else { Vec::new() },
            payouts: Vec::new(),
        })
    }

    /// Fen in held or pending parts.
    pub fn live_fen(&self) -> i64 {
        self.parts
            .values()
            .filter(|p| matches!(p.state, PartState::Held | PartState::Pending))
            .map(|p| p.amount_fen)
            .sum()
    }

    /// What each holder holds now (held parts only), by holder.
    pub fn holdings(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for p in self.parts.values().filter(|p| p.state == PartState::Held) {
            *out.entry(p.holder.clone()).or_insert(0) += p.amount_fen;
        }
        out
    }

    /// The lineage of a part: itself, its parent, … back to the issued part.
    pub fn lineage(&self, part_id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = self.parts.get(part_id);
        while let Some(p) = at {
            if out.len() > self.parts.len() {
                break;
            }
            out.push(p.id.clone());
            at = p.parent.as_deref().and_then(|id| self.parts.get(id));
        }
        out
    }

    /// The ledger's invariants; `Err` names the first one broken.
    pub fn check(&self) -> Result<(), String> {
        if self.live_fen() + self.settled_fen != self.face_fen {
            return Err(format!("live {} + settled {} ≠ face {}", self.live_fen(), self.settled_fen, self.face_fen));
        }
        let mut children: BTreeMap<&str, i64> = BTreeMap::new();
        for p in self.parts.values() {
            if p.amount_fen <= 0 {
                return Err(format!("part {} holds {} fen", p.id, p.amount_fen));
            }
            match &p.parent {
                // A view does not load the ancestors of the parts it touches.
                Some(parent) if self.partial && !self.parts.contains_key(parent) => {}
                Some(parent) => {
                    let up = self.parts.get(parent).ok_or_else(|| format!("part {} has no parent {parent}", p.id))?;
                    if up.state != PartState::Spent {
                        return Err(format!("part {} descends from {parent}, which is {}", p.id, up.state.code()));
                    }
                    *children.entry(parent.as_str()).or_insert(0) += p.amount_fen;
                }
                None if !self.partial && p.id != format!("{}/0", self.commitment_id) => {
                    return Err(format!("part {} has no parent", p.id));
                }
                None => {}
            }
        }
        // A view checks only the parts spent by the transfers it holds; earlier ones' outputs are not loaded.
        let checked = |p: &&Part| !self.partial || p.spent_by.as_ref().is_some_and(|t| self.transfers.contains_key(t));
        for p in self.parts.values().filter(|p| p.state == PartState::Spent).filter(checked) {
            let made = children.get(p.id.as_str()).copied().unwrap_or(0);
            if made != p.amount_fen {
                return Err(format!("spent part {} of {} fen made parts of {made} fen", p.id, p.amount_fen));
            }
        }
        Ok(())
    }
}

/// How an issue's maturity stands against the rules: within six months; beyond them (allowed up to a
/// year, flagged); or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaturityCheck {
    Within,
    BeyondPrinciple { days: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    #[error("maturity must be after the issue date")]
    MaturityNotAfterIssue,
    #[error("maturity {days} days after issue; at most {MATURITY_DAYS_MAX}")]
    MaturityTooFar { days: i64 },
    #[error("the commitment would pay the SME {days} days after its receivables fall due")]
    StretchesSmeTerm { days: i64 },
    #[error("the face must be positive, whole fen, and no more than the confirmed payables it rests on")]
    FaceOutOfBounds,
}

impl Refusal for IssueError {
    fn code(&self) -> &'static str {
        match self {
            IssueError::MaturityNotAfterIssue => "maturity_not_after_issue",
            IssueError::MaturityTooFar { .. } => "maturity_too_far",
            IssueError::StretchesSmeTerm { .. } => "stretches_sme_term",
            IssueError::FaceOutOfBounds => "face_out_of_bounds",
        }
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(match self {
            IssueError::FaceOutOfBounds => "face_fen",
            _ => "maturity_date",
        }))
    }

    fn zh(&self) -> String {
        match self {
            IssueError::MaturityNotAfterIssue => "到期日须晚于开立日".to_string(),
            IssueError::MaturityTooFar { days } => {
                format!("到期日距开立{days}天，最长不得超过{MATURITY_DAYS_MAX}天（一年）")
            }
            IssueError::StretchesSmeTerm { days } => {
                format!("到期日比所依据应付账款的到期日晚{days}天：大型企业不得以债权凭证变相延长中小企业账期")
            }
            IssueError::FaceOutOfBounds => "票面金额须为正数，且不超过所依据的已确权应付账款余额".to_string(),
        }
    }
}

/// Checks an issue: a positive face within the confirmed payables behind it; maturity after the issue date,
/// within a year; and — when a large core pays an SME — no later than the latest due date of those payables,
/// since a commitment may not disguise a longer payment term (SME payment regulation Art. 11, 2025 revision;
/// docs/domain-rules.md, "SME payment regulation").
pub fn check_issue(
    face_fen: i64,
    backing_fen: i64,
    issued: Date,
    maturity: Date,
    latest_due: Option<Date>,
    large_core_pays_sme: bool,
) -> Result<MaturityCheck, IssueError> {
    if face_fen <= 0 || face_fen > backing_fen {
        return Err(IssueError::FaceOutOfBounds);
    }
    let days = i64::from(issued.until(maturity).map(|s| s.get_days()).unwrap_or(0));
    if maturity <= issued {
        return Err(IssueError::MaturityNotAfterIssue);
    }
    if days > MATURITY_DAYS_MAX {
        return Err(IssueError::MaturityTooFar { days });
    }
    if large_core_pays_sme
        && let Some(due) = latest_due
        && maturity > due
    {
        let late = i64::from(due.until(maturity).map(|s| s.get_days()).unwrap_or(0));
        return Err(IssueError::StretchesSmeTerm { days: late });
    }
    Ok(if days > MATURITY_DAYS_PRINCIPLE { MaturityCheck::BeyondPrinciple { days } } else { MaturityCheck::Within })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const TODAY: Date = date(2026, 12, 1);

    fn ledger() -> Ledger {
        Ledger::issue("C1", "core", "t1", 1_000_000, date(2027, 5, 31))
    }

    #[test]
    fn a_commitment_splits_to_the_fen_passes_down_and_settles_every_holder_exactly() {
        let mut l = ledger();
        l.apply("x1", "t1", Request::Split { part_id: "C1/0".into(), amounts_fen: vec![600_000, 399_999, 1] }, TODAY)
            .unwrap();
        l.apply("x2", "t1", Request::Transfer { part_id: "x1/0".into(), to: "t2".into(), amount_fen: 250_000 }, TODAY)
            .unwrap();
        l.apply("x3", "t2", Request::Transfer { part_id: "x2/0".into(), to: "t3".into(), amount_fen: 100_000 }, TODAY)
            .unwrap();
        l.apply(
            "x4",
            "t3",
            Request::Discount { part_id: "x3/0".into(), bank: "bank".into(), amount_fen: 100_000 },
            TODAY,
        )
        .unwrap();
        assert_eq!(l.holdings().get("t3"), None, "a part pending at the bank is not held");
        assert_eq!(l.live_fen(), 1_000_000);
        l.apply("x5", "bank", Request::Post { transfer_id: "x4".into() }, TODAY).unwrap();
        assert_eq!(l.lineage("x4/0"), vec!["x4/0", "x3/0", "x2/0", "x1/0", "C1/0"], "every fen traces to the issue");
        assert_eq!(l.apply("s", "core", Request::Settle, TODAY), Err(LedgerError::NotMatured));
        let settled = l.apply("s", "core", Request::Settle, date(2027, 5, 31)).unwrap();
        let paid: BTreeMap<String, i64> =
            settled.transfer().payouts.iter().fold(BTreeMap::new(), |mut m, (_, h, a)| {
                *m.entry(h.clone()).or_insert(0) += a;
                m
            });
        assert_eq!(
            paid,
            BTreeMap::from([("bank".to_string(), 100_000), ("t1".to_string(), 750_000), ("t2".to_string(), 150_000)])
        );
        assert_eq!((l.settled_fen, l.live_fen()), (1_000_000, 0));
        assert_eq!(l.check(), Ok(()));
    }

    #[test]
    fn wrong_moves_are_refused_and_change_nothing() {
        let mut l = ledger();
        let before = l.clone();
        let split = |amounts: Vec<i64>| Request::Split { part_id: "C1/0".into(), amounts_fen: amounts };
        assert_eq!(l.apply("a", "t1", split(vec![1_000_000]), TODAY), Err(LedgerError::OutputCount));
        assert_eq!(l.apply("a", "t1", split(vec![999_999, 0, 1]), TODAY), Err(LedgerError::AmountNotPositive));
        assert_eq!(l.apply("a", "t1", split(vec![-1, 1_000_001]), TODAY), Err(LedgerError::AmountNotPositive));
        assert_eq!(
            l.apply("a", "t1", split(vec![500_000, 500_001]), TODAY),
            Err(LedgerError::AmountsDoNotAddUp { given: 1_000_001, held: 1_000_000 })
        );
        assert_eq!(l.apply("a", "t2", split(vec![1, 999_999]), TODAY), Err(LedgerError::NotHolder("C1/0".into())));
        let give = |amount: i64| Request::Transfer { part_id: "C1/0".into(), to: "t2".into(), amount_fen: amount };
        assert_eq!(
            l.apply("a", "t1", give(1_000_001), TODAY),
            Err(LedgerError::AmountExceeds { asked: 1_000_001, held: 1_000_000 })
        );
        assert_eq!(
            l.apply("a", "t1", Request::Transfer { part_id: "C1/0".into(), to: "t1".into(), amount_fen: 5 }, TODAY),
            Err(LedgerError::SelfTransfer)
        );
        assert_eq!(l.apply("a", "t1", give(5), date(2027, 6, 1)), Err(LedgerError::Matured));
        assert_eq!(l, before, "nothing changed");
        // Spent once only; a retried id is answered, a reused one refused.
        let first = l.apply("a", "t1", give(5), TODAY).unwrap();
        assert!(matches!(l.apply("a", "t1", give(5), TODAY), Ok(Applied::Repeated(t)) if t == *first.transfer()));
        assert_eq!(l.apply("a", "t1", give(6), TODAY), Err(LedgerError::IdReused("a".into())));
        assert_eq!(
            l.apply("b", "t1", give(5), TODAY),
            Err(LedgerError::NotHeld { part: "C1/0".into(), state: "spent" })
        );
        // A discount is decided once, by its bank; a voided one gives the part back.
        let discount = Request::Discount { part_id: "a/1".into(), bank: "bank".into(), amount_fen: 10 };
        l.apply("d", "t1", discount, TODAY).unwrap();
        assert_eq!(l.apply("v", "t2", Request::Void { transfer_id: "d".into() }, TODAY), Err(LedgerError::NotTheBank));
        assert_eq!(l.apply("s", "core", Request::Settle, date(2027, 6, 1)), Err(LedgerError::PendingOutstanding(1)));
        l.apply("v", "bank", Request::Void { transfer_id: "d".into() }, TODAY).unwrap();
        assert_eq!(
            l.apply("p", "bank", Request::Post { transfer_id: "d".into() }, TODAY),
            Err(LedgerError::NotPending("d".into()))
        );
        assert_eq!(l.holdings().get("t1"), Some(&999_995));
        assert_eq!(l.apply("s", "t1", Request::Settle, date(2027, 6, 1)), Err(LedgerError::NotTheIssuer));
    }

    #[test]
    fn issues_respect_the_maturity_bounds_and_the_sme_term() {
        let issued = date(2026, 12, 1);
        assert_eq!(check_issue(100, 100, issued, date(2027, 3, 1), None, true), Ok(MaturityCheck::Within));
        assert_eq!(
            check_issue(100, 100, issued, date(2027, 9, 1), None, false),
            Ok(MaturityCheck::BeyondPrinciple { days: 274 })
        );
        assert_eq!(
            check_issue(100, 100, issued, date(2027, 12, 2), None, false),
            Err(IssueError::MaturityTooFar { days: 366 })
        );
        assert_eq!(check_issue(100, 100, issued, issued, None, false), Err(IssueError::MaturityNotAfterIssue));
        assert_eq!(check_issue(101, 100, issued, date(2027, 3, 1), None, false), Err(IssueError::FaceOutOfBounds));
        assert_eq!(check_issue(0, 100, issued, date(2027, 3, 1), None, false), Err(IssueError::FaceOutOfBounds));
        // A large core paying an SME may not push payment past the receivables' due date.
        assert_eq!(
            check_issue(100, 100, issued, date(2027, 3, 1), Some(date(2027, 1, 30)), true),
            Err(IssueError::StretchesSmeTerm { days: 30 })
        );
        assert_eq!(
            check_issue(100, 100, issued, date(2027, 3, 1), Some(date(2027, 1, 30)), false),
            Ok(MaturityCheck::Within)
        );
    }

    /// What the store would load for `request`: the part it spends, or the pending discount and its part.
    fn view_for(l: &Ledger, request: &Request) -> Option<Ledger> {
        let (part_id, transfers) = match request {
            Request::Split { part_id, .. } | Request::Transfer { part_id, .. } | Request::Discount { part_id, .. } => {
                (part_id.clone(), Vec::new())
            }
            Request::Post { transfer_id } | Request::Void { transfer_id } => {
                let t = l.transfers.get(transfer_id)?;
                (t.input.clone()?, vec![t.clone()])
            }
            Request::Settle => return None,
        };
        let parts = l.parts.get(&part_id).cloned().into_iter().collect();
        Some(Ledger::view(&l.commitment_id, &l.issuer, l.maturity, parts, transfers))
    }

    /// A random operation by a random party on a random part.
    fn op() -> impl Strategy<Value = (usize, usize, u8, i64, i64)> {
        (0usize..5, 0usize..64, 0u8..6, -5i64..400_000, 0i64..400_000)
    }

    proptest! {
        #[test]
        fn the_ledger_conserves_every_fen_whatever_is_asked(ops in proptest::collection::vec(op(), 1..60)) {
            let parties = ["t1", "t2", "t3", "bank", "core"];
            let mut l = ledger();
            let mut applied = 0usize;
            for (n, (who, part, kind, a, b)) in ops.into_iter().enumerate() {
                let part_id = l.parts.keys().nth(part % l.parts.len()).cloned().unwrap_or_default();
                let pending: Vec<String> = l.transfers.values().filter(|t| t.state == TransferState::Pending).map(|t| t.id.clone()).collect();
                let request = match kind {
                    // Mostly splits that add up (the rest part of the part), sometimes ones that do not.
                    0 => {
                        let held = l.parts.get(&part_id).map(|p| p.amount_fen).unwrap_or(0);
                        let rest = if b % 7 == 0 { b } else { held - a };
                        Request::Split { part_id, amounts_fen: vec![a, rest] }
                    }
                    1 => Request::Transfer { part_id, to: parties[(who + 1) % 5].into(), amount_fen: a },
                    2 => Request::Discount { part_id, bank: "bank".into(), amount_fen: a },
                    3 => Request::Post { transfer_id: pending.first().cloned().unwrap_or_default() },
                    4 => Request::Void { transfer_id: pending.first().cloned().unwrap_or_default() },
                    _ => Request::Settle,
                };
                let before = l.clone();
                let day = if n > 50 { date(2027, 6, 1) } else { TODAY };
                // The store applies each operation to a view of the parts it touches: the view must
                // decide exactly as the whole ledger does and leave those parts the same.
                let mut view = view_for(&l, &request);
                let viewed = view.as_mut().map(|v| v.apply(&format!("t{n}"), parties[who], request.clone(), day));
                let outcome = l.apply(&format!("t{n}"), parties[who], request, day);
                if let (Some(v), Some(viewed)) = (&view, viewed) && l.settled_fen == 0 {
                    prop_assert_eq!(viewed.is_ok(), outcome.is_ok(), "view and ledger disagree");
                    prop_assert_eq!(v.check(), Ok(()));
                    for p in v.parts.values() {
                        prop_assert_eq!(Some(p), l.parts.get(&p.id), "the view's part differs");
                    }
                }
                match outcome {
                    Ok(_) => applied += 1,
                    Err(_) => prop_assert_eq!(&l, &before, "a refusal changed the ledger"),
                }
                prop_assert_eq!(l.check(), Ok(()));
                let held: i64 = l.holdings().values().sum();
                let pending_fen: i64 = l.parts.values().filter(|p| p.state == PartState::Pending).map(|p| p.amount_fen).sum();
                prop_assert_eq!(held + pending_fen + l.settled_fen, l.face_fen, "holdings sum to face less settled");
                // No part is spent twice: a spent part is the input of exactly one posted split, transfer or
                // discount (a voided discount gave it back; posting and voiding are records of their own).
                for p in l.parts.values().filter(|p| p.state == PartState::Spent) {
                    let spenders = l
                        .transfers
                        .values()
                        .filter(|t| {
                            matches!(t.request, Request::Split { .. } | Request::Transfer { .. } | Request::Discount { .. })
                                && t.input.as_deref() == Some(p.id.as_str())
                                && t.state == TransferState::Posted
                        })
                        .count();
                    prop_assert_eq!(spenders, 1, "part {} spent by {} transfers", p.id, spenders);
                }
            }
            // Every operation that went through is recorded as exactly one transfer under its id.
            prop_assert_eq!(applied, l.transfers.len());
        }
    }
}
