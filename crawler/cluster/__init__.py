"""The crawl on many machines: PostgreSQL holds the data (store/postgres/) and a Procrastinate queue of
source runs; one scheduler defers each source when it is due, ``crawler worker`` processes on any number
of machines run them, and per-host politeness is shared through the same database.

queue.py: the Procrastinate app, its schema, deferring a source's run, retrying the runs of dead workers.
worker.py: ``crawler worker``. turns.py: shared per-host turns. stream.py: the events stream in commit order.
"""
