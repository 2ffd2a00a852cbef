-- Digital payment commitments (数字债权凭证, M11): a core's promise to pay at maturity, issued to a
-- tier-1 supplier against its confirmed payables and backed by the core's line at a bank.
CREATE TABLE commitment (
    id TEXT PRIMARY KEY,
    issuer_org_id TEXT NOT NULL REFERENCES organisation(id),
    first_holder_org_id TEXT NOT NULL REFERENCES organisation(id),
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    credit_line_id TEXT NOT NULL REFERENCES credit_line(id),
    face_fen BIGINT NOT NULL CHECK (face_fen > 0),
    settled_fen BIGINT NOT NULL DEFAULT 0,
    issue_date TEXT NOT NULL,
    maturity_date TEXT NOT NULL,
    latest_due_date TEXT,
    -- Days to maturity when beyond the six months of principle (allowed up to a year, flagged).
    beyond_principle_days BIGINT,
    state TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL,
    leaf_index BIGINT,
    settlement_reference TEXT,
    settled_at_ms BIGINT,
    CHECK (settled_fen >= 0 AND settled_fen <= face_fen)
);
CREATE INDEX commitment_issuer ON commitment(issuer_org_id, issued_at_ms);
CREATE INDEX commitment_bank ON commitment(bank_org_id, issued_at_ms);

-- The confirmed payables a commitment rests on: an invoice backs one commitment at most.
CREATE TABLE commitment_backing (
    invoice_id TEXT PRIMARY KEY,
    commitment_id TEXT NOT NULL REFERENCES commitment(id),
    outstanding_fen BIGINT NOT NULL
);
CREATE INDEX commitment_backing_commitment ON commitment_backing(commitment_id);

-- The parts: never changed but in state, so every fen's lineage is the chain of parent ids. A part moves
-- held -> pending/spent/settled only by a conditional update, which is what keeps it spent once.
CREATE TABLE commitment_part (
    commitment_id TEXT NOT NULL REFERENCES commitment(id),
    id TEXT NOT NULL,
    holder_org_id TEXT NOT NULL REFERENCES organisation(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    parent_id TEXT,
    made_by TEXT,
    state TEXT NOT NULL,
    spent_by TEXT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (commitment_id, id)
);
CREATE INDEX commitment_part_holder ON commitment_part(holder_org_id, state);

-- Every operation, under the id its caller chose: a retried id finds its first answer here.
CREATE TABLE commitment_transfer (
    commitment_id TEXT NOT NULL REFERENCES commitment(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    actor_org_id TEXT NOT NULL REFERENCES organisation(id),
    by_login TEXT NOT NULL,
    -- The request as canonical JSON, compared when an id comes again.
    request TEXT NOT NULL,
    input_part_id TEXT,
    outputs TEXT NOT NULL,
    payouts TEXT NOT NULL,
    counterparty_org_id TEXT,
    at_ms BIGINT NOT NULL,
    leaf_index BIGINT,
    PRIMARY KEY (commitment_id, id)
);
CREATE INDEX commitment_transfer_counterparty ON commitment_transfer(counterparty_org_id, state);

-- The verified trade each transfer to a supplier pays: how much of which invoice it settles between
-- them, so the same invoice cannot justify more than it is owed.
CREATE TABLE commitment_basis (
    commitment_id TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (commitment_id, transfer_id, invoice_id)
);
CREATE INDEX commitment_basis_invoice ON commitment_basis(invoice_id);
