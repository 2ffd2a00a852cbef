-- Financing applications (融资申请): a supplier finances receivables or a commitment part at one or
-- several banks; each bank's offer goes through the automatic pre-check, an officer's review, a second
-- approver above the threshold, and a decision with its reason.
CREATE TABLE application (
    id TEXT PRIMARY KEY,
    applicant_org_id TEXT NOT NULL REFERENCES organisation(id),
    subject TEXT NOT NULL,
    -- JSON array of invoice record ids (receivables), empty for a commitment part.
    invoice_ids TEXT NOT NULL,
    commitment_id TEXT,
    part_id TEXT,
    -- The purchase order financed (order financing), a trade record id.
    order_id TEXT,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    term_days BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    chain_id TEXT,
    tier BIGINT,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX application_applicant ON application(applicant_org_id, created_at_ms);

-- One per bank chosen.
CREATE TABLE application_offer (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES application(id),
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    product_id TEXT NOT NULL REFERENCES product(id),
    consent_id TEXT,
    state TEXT NOT NULL,
    -- JSON array of the pre-check's findings.
    findings TEXT NOT NULL,
    submitted_at_ms BIGINT NOT NULL,
    approved_amount_fen BIGINT,
    rate_bp BIGINT,
    reason TEXT,
    first_approver TEXT,
    first_approved_at_ms BIGINT,
    second_approver TEXT,
    decided_by TEXT,
    decided_at_ms BIGINT,
    -- Working days from submission to decision (the city's goal: ten).
    service_working_days BIGINT,
    UNIQUE (application_id, bank_org_id)
);
CREATE INDEX application_offer_bank ON application_offer(bank_org_id, state, submitted_at_ms);

-- While an application is open, the trade records it finances (invoices, or the order) are claimed:
-- applying twice with one is refused.
CREATE TABLE application_claim (
    record_id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES application(id)
);
