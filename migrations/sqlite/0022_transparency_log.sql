-- The transparency log over the audit trail (see src/domain/tlog.rs): an RFC 6962 Merkle tree
-- whose leaf s - 1 is entry s's hash. Each entry's row keeps the hashes its append stored, in
-- the layout of Go's sumdb/tlog: the leaf hash, then the root of each subtree the leaf
-- completes (32 bytes each). Written in the same transaction as the entry; filled in for
-- entries written before it existed at the next start (`App::backfill_log`).
CREATE TABLE audit_tree (
    seq    INTEGER PRIMARY KEY REFERENCES audit_log (seq),
    hashes BLOB NOT NULL
);

CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
