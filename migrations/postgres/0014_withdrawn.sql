-- Reviews gain the `withdrawn` state (a draft given up before publication, with a note).
ALTER TABLE reviews DROP CONSTRAINT reviews_state_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_state_check CHECK (state IN ('draft', 'in_review', 'changes_requested', 'approved', 'published', 'retracted', 'superseded', 'withdrawn'));
