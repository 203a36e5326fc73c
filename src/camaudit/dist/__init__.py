"""Scale out: a scan's scope in shards, run by local worker processes or site workers.

    shards.py   Shard, plan_shards: the scope in address ranges (the unit of work)
    run.py      run_shard: one shard through the one pipeline; start and finish a scan
    local.py    scan --workers N: worker processes on this machine pulling shards

Every runner writes to the store the same way (idempotent host writes, a cursor
per shard), so a sharded scan's inventory is the one a single process writes.
"""
