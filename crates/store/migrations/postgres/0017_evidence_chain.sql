-- Who may write which statement: the operator suspends an organisation's user (never sets its
-- credentials), and the organisation sees who suspended it and why.
ALTER TABLE app_user ADD COLUMN suspended_by TEXT;
ALTER TABLE app_user ADD COLUMN suspended_reason TEXT;
ALTER TABLE app_user ADD COLUMN suspended_at_ms BIGINT;

-- A release names who released a registration and why (the financier's own decision, or its loan repaid).
ALTER TABLE registration ADD COLUMN release_reason TEXT;

-- Four eyes by person: since when a user has held a role that approves financing (bank approver or
-- organisation admin), so that a second approver must have held it before the application was made;
-- approvals are compared by user account, never by login text.
ALTER TABLE app_user ADD COLUMN approver_since_ms BIGINT;
UPDATE app_user SET approver_since_ms = created_at_ms
    WHERE ',' || roles || ',' LIKE '%,bank_approver,%' OR ',' || roles || ',' LIKE '%,org_admin,%';
ALTER TABLE application_offer ADD COLUMN first_approver_user_id TEXT;
ALTER TABLE application_offer ADD COLUMN second_approver_user_id TEXT;

-- A discount posted directly by a bank above the four-eyes threshold needs two approvers: the first
-- approval waits here for a different person's.
CREATE TABLE discount_approval (
    commitment_id TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES app_user(id),
    approver TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (commitment_id, transfer_id, user_id)
);

-- Each party owns its own statements: a trade record's identity names the document, both parties and
-- the organisation that shared it (type|issuer|counterparty|invoice code|number|submitter's credit code),
-- so a submission supersedes only its own organisation's statement and another party's statement of the
-- same document is kept beside it for four-flow to compare.
UPDATE trade_record SET natural_key = record_type || '|' ||
    CASE WHEN record_type IN ('order', 'payment') THEN buyer_uscc || '|' || seller_uscc
         ELSE seller_uscc || '|' || buyer_uscc END
    || '|' || invoice_code || '|' || doc_no || '|' ||
    COALESCE((SELECT o.uscc FROM organisation o WHERE o.id = trade_record.submitter_org_id), submitter_org_id);
-- One document of a pair, whoever stated it: four-flow reads a pair's records and the penetration of
-- credit counts each document once, however many parties shared it.
CREATE INDEX trade_record_document ON trade_record(buyer_uscc, seller_uscc, record_type, doc_no);

-- A confirmation signs content, not an id: the record's content digest and invoice code as they stood
-- when it was asked. A new version of the record supersedes a live confirmation (ask again).
ALTER TABLE confirmation ADD COLUMN content_sm3 TEXT;
ALTER TABLE confirmation ADD COLUMN invoice_code TEXT;
-- A result imported from the central bank's platform describes the record as it was; a new version of
-- the record sets it aside too (kept, never deleted).
ALTER TABLE external_confirmation ADD COLUMN superseded_at_ms BIGINT;
