-- Field encryption (app::secret). One row, written on the first start: a fixed text sealed under the
-- platform's SM4 key. Every later start must open it, so a server given the wrong key refuses to start
-- instead of sealing new values under a key the old ones cannot be read with.
CREATE TABLE secret_key_check (
    id BIGINT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- Fixed repayment accounts (回款账户确定, issue 4 item 4): at most one per receivable, i.e. per blue
-- invoice record. The number itself is kept only sealed (SM4-GCM, bound to this row's invoice id); its
-- SM3 digest, computed as the lake computes a payment's payee_account_sm3, lets four-flow verification
-- flag payments made to any other account; the last four digits are all that is ever shown.
CREATE TABLE collection_account (
    invoice_id TEXT PRIMARY KEY REFERENCES trade_record(id),
    -- The creditor (seller) organisation that bound the account; only it may reveal the number.
    creditor_org_id TEXT NOT NULL REFERENCES organisation(id),
    account_sealed TEXT NOT NULL,
    account_sm3 TEXT NOT NULL,
    account_last4 TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    -- Who set the current account: the creditor on first binding, the proposer of the applied change after.
    bound_by_org_id TEXT NOT NULL REFERENCES organisation(id),
    bound_by TEXT NOT NULL,
    bound_at_ms BIGINT NOT NULL,
    -- 1 on binding, one more for every applied change: a change applies only onto the version it was
    -- proposed against, so two changes can never both apply.
    version BIGINT NOT NULL
);

-- A request to change a receivable's fixed account. It applies when every required organisation has
-- consented: the creditor, the debtor and, once financed, the financier of the active registration. The
-- set is recorded when the change is proposed and computed again when it applies, so a registration made
-- meanwhile adds its bank. At most one request per receivable is pending at a time.
CREATE TABLE collection_account_change (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES collection_account(invoice_id),
    -- The account version this change replaces.
    base_version BIGINT NOT NULL,
    -- The proposed account, sealed for this change row (re-sealed for the account row on applying).
    account_sealed TEXT NOT NULL,
    account_sm3 TEXT NOT NULL,
    account_last4 TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    proposed_by_org_id TEXT NOT NULL REFERENCES organisation(id),
    proposed_by TEXT NOT NULL,
    proposed_at_ms BIGINT NOT NULL,
    -- pending, applied, withdrawn (by its proposer) or refused (declined by a required organisation).
    status TEXT NOT NULL,
    -- Comma-joined organisation ids whose consent is required, sorted.
    required_org_ids TEXT NOT NULL,
    closed_by_org_id TEXT REFERENCES organisation(id),
    closed_by TEXT,
    closed_at_ms BIGINT,
    close_reason TEXT
);
CREATE UNIQUE INDEX collection_account_change_pending ON collection_account_change(invoice_id) WHERE status = 'pending';
CREATE INDEX collection_account_change_invoice ON collection_account_change(invoice_id, proposed_at_ms);

-- One row per organisation that consented to a change; its primary key makes consenting twice impossible.
-- The proposer's organisation consents by proposing.
CREATE TABLE collection_account_consent (
    change_id TEXT NOT NULL REFERENCES collection_account_change(id),
    org_id TEXT NOT NULL REFERENCES organisation(id),
    consented_by TEXT NOT NULL,
    consented_at_ms BIGINT NOT NULL,
    PRIMARY KEY (change_id, org_id)
);
-- The fixed accounts of one creditor's receivables, read by four-flow verification per pair.
CREATE INDEX collection_account_creditor ON collection_account(creditor_org_id);
