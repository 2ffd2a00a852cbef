-- Long lists page by key: a page after a cursor seeks through an index that ends with the list's sort
-- key, so a deep page costs what the first costs. Trade records sort by (doc_date, id), newest first,
-- within the records a party is seller to or buyer to (and, for the operator, across all); the buyer's
-- index also holds the seller, so that "buyer but not seller" is read (and counted) from the index
-- alone. These indexes replace the ones on (party, record_type, doc_date), which no query needs beyond
-- the lists.
DROP INDEX trade_record_buyer;
DROP INDEX trade_record_seller;
CREATE INDEX trade_record_seller_date ON trade_record(seller_uscc, doc_date, id);
CREATE INDEX trade_record_buyer_date ON trade_record(buyer_uscc, doc_date, id, seller_uscc);
CREATE INDEX trade_record_date ON trade_record(doc_date, id);

-- Receivables are the verdicts still owed; they sort by due date (unknown due dates last) and invoice.
-- Partial indexes hold only what is owed, under the same condition the list writes. They also serve the
-- totals of what is owed per party, so the index on (seller, outstanding amount) goes.
DROP INDEX verification_outstanding;
CREATE INDEX verification_owed_seller ON verification(seller_uscc, (COALESCE(due_date, '9999-12-31')), invoice_id) WHERE outstanding_fen > 0 AND status <> 'inconsistent';
CREATE INDEX verification_owed_buyer ON verification(buyer_uscc, (COALESCE(due_date, '9999-12-31')), invoice_id, seller_uscc) WHERE outstanding_fen > 0 AND status <> 'inconsistent';
CREATE INDEX verification_owed ON verification((COALESCE(due_date, '9999-12-31')), invoice_id) WHERE outstanding_fen > 0 AND status <> 'inconsistent';

-- The audit trail sorts by (at_ms, id), newest first, within one organisation's actors or across all.
DROP INDEX audit_event_org;
CREATE INDEX audit_event_org ON audit_event(actor_org_id, at_ms, id);
CREATE INDEX audit_event_at ON audit_event(at_ms, id);
