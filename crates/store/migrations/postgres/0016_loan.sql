-- Loans: what a bank advanced on an approved offer, and the repayments through the fixed account.
CREATE TABLE loan (
    id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL UNIQUE REFERENCES application_offer(id),
    application_id TEXT NOT NULL REFERENCES application(id),
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    borrower_org_id TEXT NOT NULL REFERENCES organisation(id),
    product_id TEXT NOT NULL,
    principal_fen BIGINT NOT NULL CHECK (principal_fen > 0),
    rate_bp BIGINT NOT NULL,
    fee_fen BIGINT NOT NULL,
    -- Interest deducted at payout (a discount), zero for a loan whose interest accrues.
    upfront_interest_fen BIGINT NOT NULL,
    -- What reached the borrower: principal less fee and upfront interest.
    advance_fen BIGINT NOT NULL,
    value_date TEXT NOT NULL,
    maturity_date TEXT NOT NULL,
    registration_id TEXT,
    credit_line_id TEXT,
    commitment_id TEXT,
    discount_transfer_id TEXT,
    repaid_principal_fen BIGINT NOT NULL DEFAULT 0,
    repaid_interest_fen BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    disbursed_by TEXT NOT NULL,
    disbursed_at_ms BIGINT NOT NULL,
    closed_at_ms BIGINT,
    leaf_index BIGINT,
    CHECK (repaid_principal_fen >= 0 AND repaid_principal_fen <= principal_fen)
);
CREATE INDEX loan_bank ON loan(bank_org_id, state);
CREATE INDEX loan_borrower ON loan(borrower_org_id, state);

CREATE TABLE repayment (
    id TEXT PRIMARY KEY,
    loan_id TEXT NOT NULL REFERENCES loan(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    interest_fen BIGINT NOT NULL,
    principal_fen BIGINT NOT NULL,
    excess_fen BIGINT NOT NULL,
    paid_on TEXT NOT NULL,
    payment_reference TEXT NOT NULL,
    by_login TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    UNIQUE (loan_id, payment_reference)
);
