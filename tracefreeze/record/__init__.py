"""The record store: the Court's system of record for every request, in PostgreSQL.

Temporal deletes a closed request's history when the namespace's retention passes; the record
of what was asked, what each State answered (its signed original, byte for byte, with the key
it named and the verification result) and what the Court decided must outlive that (RS 93(1)(k),
57(3)(e), 75(4); claims and audits come years later). ``tracefreeze recorder`` (``writer.py``)
consumes the Court's topics and writes every record once (``migrations/``, applied by
``migrate.py``); ``tracefreeze record`` reads it back (``reader.py``, ``show.py``), re-verifies
the States' originals against the key registry as it was (``evidence.py``) and the Court's
signed actions against the organ key registry as it was (``decisions.py``), and feeds the
cooperation report (``report_source.py``). Payload columns are sealed under the payload codec's
keys (``seal.py``); search columns carry no names, and for an ex parte request (Rule 99(2)) not
even its reference (``rows.py``).
"""
