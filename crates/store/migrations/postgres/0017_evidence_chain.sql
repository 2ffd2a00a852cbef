-- Who may write which statement: the operator suspends an organisation's user (never sets its
-- credentials), and the organisation sees who suspended it and why.
ALTER TABLE app_user ADD COLUMN suspended_by TEXT;
ALTER TABLE app_user ADD COLUMN suspended_reason TEXT;
ALTER TABLE app_user ADD COLUMN suspended_at_ms BIGINT;

-- A release names who released a registration and why (the financier's own decision, or its loan repaid).
ALTER TABLE registration ADD COLUMN release_reason TEXT;
