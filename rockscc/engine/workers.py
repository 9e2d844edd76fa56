"""The build's compile workers, warmed by the first of them instead of by the build itself.

A compile job's first run in a process is slow (~0.7 s at the Rocks corpus: the node files parsed,
the partition program run in its sandbox, the templates compiled, the service checkers started);
every later one reuses what it left. Forked workers share that work if it is done before they are
forked. Done by the build process, it held back everything else: nothing ran on the other core
meanwhile. So the build forks one worker, which warms up and then forks its siblings from its own
warm state, while the build goes on with the jobs it runs itself (boot files, VM configs, network
files). The workers take chunks of job indexes from a shared counter (every worker holds the job
list, inherited) and send their results back on a pipe each.

The workers are a process group of their own: a Ctrl-C at the terminal reaches the build only,
which stops the whole group by its id (the first worker's pid) and reaps the first worker. A
worker that finds its parent gone (the build killed, the first worker killed) stops after its
current chunk; a job whose result never arrives is reported as that job's error, never waited
for.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

Result = tuple[int, Any, str | None]  # (index, result, error): what _Run.run_one returns
LOST = "internal error: the build worker running this job stopped before it finished"


class WarmPool:
    """`workers` processes running `run_one` on each of `indexes` (see above); `warm_up` runs in
    the first before the others are forked.

    Each worker sends its results on a pipe of its own (a worker killed while sending spoils no
    other's stream, and holds no lock the others wait for); a thread of the build reads them all
    as they come, so a worker never waits for the build to finish what it is doing. A pipe's end
    of file means its worker is gone; when all are gone, the jobs whose results never came are
    reported as lost."""

    def __init__(
        self, run_one: Callable[[int], Result], indexes: list[int], workers: int, warm_up: Callable[[], None]
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._run_one, self._indexes, self._warm_up = run_one, indexes, warm_up
        self._chunk = max(1, min(64, len(indexes) // (workers * 8)))
        self._next = context.Value("q", 0)  # the position in `indexes` of the next chunk to take
        pipes = [context.Pipe(duplex=False) for _ in range(workers)]
        self._readers = [reader for reader, _ in pipes]
        self._writers = [writer for _, writer in pipes]
        self._context = context
        self._first = context.Process(target=self._lead, name="rockscc-build-worker")
        self._first.start()
        for writer in self._writers:  # each worker holds its own; an end of file then means it is gone
            writer.close()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._reading = threading.Thread(target=self._read, name="rockscc-build-results", daemon=True)
        self._reading.start()
        self._complete = False

    def results(self) -> Iterator[Result]:
        """Each index's result, in the order they arrive; an index whose worker died, as an error."""
        pending = set(self._indexes)
        while pending:
            batch = self._inbox.get()
            if batch is None:  # every worker is gone
                break
            for item in batch:
                pending.discard(item[0])
                yield item
        for index in sorted(pending):
            yield index, None, LOST
        self._complete = not pending

    def close(self) -> None:
        """Reap the workers; stop those that still run (the build was interrupted or failed)."""
        if self._complete:
            self._first.join(timeout=10)  # done: the workers are leaving
        if self._first.exitcode is None:
            try:
                os.killpg(self._first.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._first.join()
        self._reading.join(timeout=10)  # the pipes' ends of file: bounded, should a grandchild hold one
        for reader in self._readers:
            reader.close()

    def _read(self) -> None:
        """In a thread of the build: every worker's batches into the inbox, None when all are gone
        (always: the build waits for it)."""
        open_ = list(self._readers)
        try:
            while open_:
                for reader in wait(open_):
                    try:
                        self._inbox.put(reader.recv())
                    except Exception:  # its worker exited, or was killed mid-batch: its stream ends here
                        open_.remove(reader)
        finally:
            self._inbox.put(None)

    # --- in the workers ----------------------------------------------------------------------
    def _lead(self) -> None:
        """The first worker: warm up, fork the siblings from this state, work, wait for them."""
        os.setpgrp()  # the group the build stops by this pid; a terminal's Ctrl-C goes to the build
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # not stopped for a line on the terminal (`stty tostop`)
        try:
            self._warm_up()
        except Exception:  # a job that fails here fails again where it runs, and is reported there
            pass
        gc.freeze()  # what the warm-up made stays shared with the siblings, not copied by collections
        siblings = [
            self._context.Process(target=self._work, args=(number,), daemon=True)
            for number in range(1, len(self._writers))
        ]
        for sibling in siblings:
            sibling.start()
        self._work(0)
        for sibling in siblings:
            sibling.join()

    def _work(self, number: int) -> None:
        for other, writer in enumerate(self._writers):
            if other != number:
                writer.close()
        out: Connection = self._writers[number]
        parent = os.getppid()
        indexes, chunk = self._indexes, self._chunk
        while os.getppid() == parent:  # else the process that forked this one is gone: stop
            with self._next.get_lock():
                start = self._next.value
                self._next.value = start + chunk
            if start >= len(indexes):
                break
            out.send([self._run_one(index) for index in indexes[start : start + chunk]])
        out.close()
