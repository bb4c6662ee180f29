"""Background jobs: the job functions (``jobs``), the runner interface with its RQ and in-process
backends (``runner``, ``rq_runner``, ``inprocess``), abandoned-run detection (``reaper``) and the
``arena worker`` process (``worker``)."""
