"""Scale out: a scan's scope in shards, run by local worker processes or site workers.

    shards.py      Shard, plan_shards: the scope in address ranges (the unit of work)
    run.py         run_shard: one shard through the one pipeline; start and finish a scan
    local.py       scan --workers N: worker processes on this machine pulling shards
    sites.py       the sites file: each site's scopes, schedule, policies, login name
    celery_app.py  Celery: configuration, the shard task on queue site.<name>, the scheduler
    commands.py    camaudit worker, schedule, audit, audits, cancel

Every runner writes to the store the same way (idempotent host writes, a cursor
per shard), so a sharded scan's inventory is the one a single process writes.
"""
