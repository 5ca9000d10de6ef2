-- Citation chains: how one passage derives from another (PROV-O wasQuotedFrom,
-- wasDerivedFrom, hadPrimarySource).

CREATE TABLE derivations (
    passage_id      BLOB NOT NULL REFERENCES passages (id),
    from_passage_id BLOB NOT NULL REFERENCES passages (id),
    relation        TEXT NOT NULL CHECK (relation IN ('quotes', 'derived_from', 'primary_source')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (passage_id, from_passage_id),
    CHECK (passage_id <> from_passage_id)
);
CREATE INDEX derivations_from ON derivations (from_passage_id);
