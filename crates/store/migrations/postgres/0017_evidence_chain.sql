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
