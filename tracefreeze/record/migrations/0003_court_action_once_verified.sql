-- A Court action's original is recorded once by its id only when it verified (its organ's
-- signature and its power to act, tracefreeze/record/decisions.py): one that does not verify
-- is filed beside it as evidence and never takes the genuine act's place (RS 93(1)(k),
-- 57(3)(e), 75(4): who decided is part of the decision). Events of the Court's own topics stay
-- once by their id; answers are all kept, as before.
DROP INDEX entries_event_once;
CREATE UNIQUE INDEX entries_event_once ON entries (topic, event_id)
    WHERE event_id IS NOT NULL AND kind <> 'answer'
        AND (kind <> 'court_action' OR verdict = 'verified');
