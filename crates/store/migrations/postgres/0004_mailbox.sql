-- The designated mailbox: each organisation's registered senders, and a receipt for every message
-- received (mailed back or not). Instants are epoch milliseconds; `mailed` is 0/1.
CREATE TABLE mailbox_sender (
    org_id TEXT NOT NULL REFERENCES organisation(id),
    address TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, address)
);
CREATE INDEX mailbox_sender_by_address ON mailbox_sender(address);

CREATE TABLE mailbox_receipt (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    submission_id TEXT,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    summary_zh TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    mailed BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX mailbox_receipt_by_org ON mailbox_receipt(org_id, created_at_ms);
