-- Newsroom CMS integration: where a verdict is published, every URL a source is known by
-- (in lookup form), and the change feed.

-- The public page of the newsroom that publishes the verdict, as given and in lookup form.
ALTER TABLE reviews ADD COLUMN published_url TEXT;
ALTER TABLE reviews ADD COLUMN published_url_key TEXT;
CREATE INDEX reviews_published_url ON reviews (published_url_key) WHERE published_url_key IS NOT NULL;

-- A source's own URL and its aliases (syndicated copies, AMP pages), normalized by
-- `domain::urls::lookup_form`: one URL names one source. Rows for sources stored before this
-- are filled in at start.
CREATE TABLE source_urls (
    url_key    TEXT PRIMARY KEY,
    source_id  BLOB NOT NULL REFERENCES sources (id),
    url        TEXT NOT NULL,
    alias      INTEGER NOT NULL CHECK (alias IN (0, 1)),
    created_at TEXT NOT NULL
);
CREATE INDEX source_urls_source ON source_urls (source_id);

-- What changed, in commit order (written under the write lock): the change feed, and what
-- webhooks announce. `public` rows are the ones integrations may see.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        BLOB NOT NULL UNIQUE,
    type      TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    public    INTEGER NOT NULL CHECK (public IN (0, 1)),
    data      TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX changes_public ON changes (seq) WHERE public = 1;
