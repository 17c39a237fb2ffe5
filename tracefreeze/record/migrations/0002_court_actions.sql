-- The signed originals of the Court's actions (the Court-internal topic
-- tracefreeze.court-actions, schemas/court_record.py): kept sealed like every payload,
-- verified when recorded against the organ key registry then in force, which is kept as it
-- was in key_registry_versions (public keys only; a State registry for an answer, the organ
-- registry for a Court action, told apart by the entry's kind). RS 93(1)(k), 57(3)(e), 75(4).
ALTER TABLE entries DROP CONSTRAINT entries_kind_check;
ALTER TABLE entries ADD CONSTRAINT entries_kind_check
    CHECK (kind IN ('event', 'escalation', 'party_message', 'answer', 'court_action'));
