-- Debtor confirmation (确权, issue 4 item 3). Each organisation has an SM2 key pair for signing its
-- confirmations: generated and held by the platform (the private key sealed under the platform's SM4
-- field key), or supplied by the organisation (only its public key is kept and it signs itself).
CREATE TABLE org_key (
    org_id TEXT PRIMARY KEY REFERENCES organisation(id),
    public_key_hex TEXT NOT NULL,
    held_by TEXT NOT NULL,
    private_key_sealed TEXT,
    created_at_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- One row per request to confirm one receivable (an invoice the creditor holds against the debtor) or to
-- vouch for one purchase order (确真; `subject` says which), or
-- per payable the debtor uploaded to confirm it unasked (kind 'debtor_upload', as on the central bank's
-- receivables platform). Rows made together share a batch id. The statement the debtor signs is kept byte for byte with
-- its signature and the public key that verifies it.
CREATE TABLE confirmation (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES trade_record(id),
    invoice_no TEXT NOT NULL,
    creditor_org_id TEXT NOT NULL REFERENCES organisation(id),
    debtor_org_id TEXT NOT NULL REFERENCES organisation(id),
    batch_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- receivable (确权: the debtor owes the invoice) or order (确真: the buyer vouches the order is real).
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    due_date TEXT,
    requested_by TEXT NOT NULL,
    requested_at_ms BIGINT NOT NULL,
    decided_by TEXT,
    decided_at_ms BIGINT,
    reason TEXT,
    statement TEXT,
    signature_hex TEXT,
    public_key_hex TEXT,
    leaf_index BIGINT
);
-- A receivable has at most one open or confirmed request: asking twice, or confirming twice, is refused.
CREATE UNIQUE INDEX confirmation_live ON confirmation(invoice_id) WHERE status IN ('requested', 'confirmed');
CREATE INDEX confirmation_debtor ON confirmation(debtor_org_id, status, requested_at_ms);
CREATE INDEX confirmation_creditor ON confirmation(creditor_org_id, status, requested_at_ms);
CREATE INDEX confirmation_batch ON confirmation(batch_id);
