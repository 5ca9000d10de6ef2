-- A review's events in their order from the index (a claim view and a workflow step read them
-- by review, ordered by id): no sort per read. It covers the index on review_id alone.
CREATE INDEX review_events_order ON review_events (review_id, id);
DROP INDEX review_events_review;
