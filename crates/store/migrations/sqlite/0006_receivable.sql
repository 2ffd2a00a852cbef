-- Receivables are the verified invoices still owed: each verdict carries the delivery date, the due date
-- under the payment term, and the outstanding amount (invoiced less paid, credited and reversed).
ALTER TABLE verification ADD COLUMN delivered_date TEXT;
ALTER TABLE verification ADD COLUMN due_date TEXT;
ALTER TABLE verification ADD COLUMN outstanding_fen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX verification_outstanding ON verification(seller_uscc, outstanding_fen);
