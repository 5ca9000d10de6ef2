-- Records that can be maintained: a source's kind (news, opinion, report, ...), and evidence
-- that is withdrawn with a note (kept and shown as withdrawn, never deleted).
ALTER TABLE sources ADD COLUMN kind TEXT;
ALTER TABLE evidence ADD COLUMN withdrawn_at TEXT;
ALTER TABLE evidence ADD COLUMN withdrawn_by TEXT;
ALTER TABLE evidence ADD COLUMN withdrawn_note TEXT;
-- A new source whose text another source already has is answered with a warning naming it.
CREATE INDEX source_versions_by_text ON source_versions (sha256);
