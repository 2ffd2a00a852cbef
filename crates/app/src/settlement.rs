//! Settlement of a commitment at maturity: the core pays the live fen, the platform pays every holder
//! its parts exactly, banks that bought parts by discount are repaid, and the core's line is released,
//! all in one transaction. It composes the commitment ledger with loans and credit lines, so it lives
//! above all three.

use lianrong_domain::commitment::{Applied, Ledger, LedgerError, Request};
use lianrong_store::StoreError;
use lianrong_store::commitment as store;
use serde_json::json;

use crate::commitment::{
    OBJECT, Outcome, PAYMENT_REFERENCE_CHARS_MAX, answer_existing, insert_transfer_row, ledger_error, log_transfer,
    transfer_row, visible_commitment, write_difference,
};
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Permission};
use crate::{App, audit, now_ms};

/// At or after maturity the core pays the commitment's live fen into the settlement account; the
/// platform pays every holder its parts exactly and releases the core's line.
pub async fn settle(
    app: &App,
    actor: &Actor,
    commitment_id: &str,
    payment_reference: &str,
    amount_fen: i64,
) -> AppResult<Outcome> {
    const ACTION: &str = "commitment.settle";
    audit::run(
        app,
        actor,
        Permission::OperateCommitment,
        ACTION,
        OBJECT,
        commitment_id,
        settle_checked(app, actor, commitment_id, payment_reference, amount_fen),
    )
    .await
}

async fn settle_checked(
    app: &App,
    actor: &Actor,
    commitment_id: &str,
    payment_reference: &str,
    amount_fen: i64,
) -> AppResult<Outcome> {
    let reference =
        lianrong_domain::text::bounded("payment_reference", payment_reference, PAYMENT_REFERENCE_CHARS_MAX)?;
    let now = now_ms();
    let mut tx = app.db.begin_write().await?;
    let c = visible_commitment(&mut tx, actor, commitment_id).await?;
    let settle_id = "settle";
    if let Some(existing) = store::transfer(&mut tx, &c.id, settle_id).await? {
        return answer_existing(existing, actor, &Request::Settle);
    }
    let maturity = c.maturity_date;
    let parts = store::parts(&mut tx, &c.id).await?;
    let mut ledger = Ledger::rebuild(&c.id, &c.issuer_org_id, c.face_fen, maturity, parts, Vec::new());
    let before = ledger.clone();
    if let Err(broken) = before.check() {
        tracing::error!(commitment = c.id, broken, "ledger invariant broken before settlement");
        return Err(AppError::internal());
    }
    let live = before.live_fen();
    let applied = ledger.apply(settle_id, &actor.org_id, Request::Settle, app.today()).map_err(ledger_error)?;
    if amount_fen != live {
        return Err(AppError::invalid(
            "amount_fen",
            "settlement_amount_mismatch",
            format!("The commitment has {live} fen outstanding; the payment must be exactly that, not {amount_fen}"),
            format!("债权凭证未兑付余额为{live}分，兑付款须与之相等，而非{amount_fen}分"),
        ));
    }
    let Applied::New(transfer) = applied else {
        return Err(AppError::internal());
    };
    write_difference(&mut tx, &before, &ledger, now).await?;
    let mut row = transfer_row(&c.id, &transfer, actor, None, now);
    insert_transfer_row(&mut tx, &row).await?;
    if !store::set_settled(&mut tx, &c.id, ledger.settled_fen, &reference, now).await? {
        return Err(ledger_error(LedgerError::AlreadySettled));
    }
    if store::live_fen(&mut tx, &c.id).await? != 0 || ledger.settled_fen != c.face_fen {
        tracing::error!(commitment = c.id, "settlement left live parts");
        return Err(AppError::internal());
    }
    // Banks that bought parts by discount are repaid by this settlement.
    crate::loan::repay_from_settlement_in(&mut tx, actor, &c.id, &transfer.payouts, app.today()).await?;
    crate::credit_line::release_in(
        &mut tx,
        &c.credit_line_id,
        c.face_fen,
        &format!("commitment:{}", c.id),
        &actor.trail_name(),
    )
    .await?;
    let mut parties: Vec<&str> = vec![c.issuer_org_id.as_str(), c.bank_org_id.as_str()];
    for (_, holder, _) in &transfer.payouts {
        parties.push(holder.as_str());
    }
    let extra = json!({"payment_reference": reference, "amount_fen": amount_fen});
    row.log_leaf_id = Some(log_transfer(&mut tx, &c, &row, &ledger, &parties, extra, now).await? as i64);
    let detail = format!("settled {amount_fen} fen, payment {reference}");
    audit::ok_in(&mut tx, actor, "commitment.settle", OBJECT, &c.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Outcome { transfer: row, repeated: false })
}
