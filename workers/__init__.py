"""Queue plumbing: run importable job functions by their path, on RQ or on a thread pool.

``runner`` (the interface, :class:`~workers.runner.RunnerConfig` and the job-function protocol),
``rq_runner`` and ``inprocess`` (the two backends), ``worker`` (a worker process's loop). This
package knows nothing about runs, strategies or the database: the application's run lifecycle
(:mod:`app.runs`) names the job functions and passes in what they need.
"""
