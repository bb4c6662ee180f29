"""The run lifecycle, in one place.

- :mod:`~app.runs.service`: start (create + submit), list, read, cancel, retry, delete runs and
  read their results — what the API, the pages and the CLI call.
- :mod:`~app.runs.queueing`: hand a run's jobs to the job layer (``workers``), cancel them.
- :mod:`~app.runs.jobs`: the job functions the queues run, with the heartbeat.
- :mod:`~app.runs.execute`: execute one run: claim it, call its kind's handler, store the result.
- :mod:`~app.runs.kinds`: one module per run kind and the explicit table of handlers.
- :mod:`~app.runs.state`: the status transitions in the database; :mod:`~app.runs.errors`.
- :mod:`~app.runs.reaper`: fail runs whose worker died or whose job vanished.
- :mod:`~app.runs.worker`: the ``arena worker`` process.

Options of each kind are declared once, as typed models, in ``engine.options``.
"""
