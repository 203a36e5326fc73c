"""Scale out: scope shards, local worker processes, Celery site workers and their routing.

    sites.py       the sites file: each site's scopes, schedule, policies, login name
    celery_app.py  the Celery app, its configuration and the shard task (queue site.<name>)
    commands.py    camaudit worker, schedule, audit, audits, cancel
"""
