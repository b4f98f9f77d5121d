"""The exercises of an export, made in worker processes when there are enough of them.

A large collection's export makes thousands of exercises, a few milliseconds of NumPy
each, on one core. Each depends only on its generator, seed, params and difficulty, so
worker processes can make them side by side while this process turns the finished ones
into notes. They come back in the order asked: the same exercises as made one by one.

The workers take the jobs from the front, a chunk at a time, and this process takes them
from the back, one at a time, whenever the exercise it needs next is not back yet: the
two ends meet with no core idle, whether the notes or the exercises are the larger part.

Workers are forked, so they start in milliseconds with everything already imported (the
jobs too: a task names only a range of them); where forking is not the norm (macOS,
Windows) or not possible, or no core is idle, the exercises are made here.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from drill.exercises.base import Difficulty, Exercise

Job = tuple[str, int, Mapping[str, Any], Difficulty]  # make's arguments
MakeExercise = Callable[[str, int, Mapping[str, Any], Difficulty], Exercise]

# Below this many exercises starting workers costs more than it saves (about 0.2 s of
# making them here).
PARALLEL_FROM = 200
MAX_WORKERS = 8
# Exercises per task: some tens of milliseconds of work. Smaller tasks cost this process
# more to hand out and collect (twice as much CPU at 16 as at 64, for 5,500 exercises).
CHUNK = 64


@contextlib.contextmanager
def made_in_order(
    jobs: Sequence[Job], make: MakeExercise | None = None
) -> Iterator[Iterator[Exercise]]:
    """The exercise of each job, in order; `make` is the registry's unless given (tests
    give one that needs no NumPy, and it is then called here, one job after another).

    The registry's exercises come without slips and guided steps, which no export writes."""
    global _jobs
    workers = worker_count(len(jobs)) if make is None else 0
    if workers:
        _jobs = jobs  # what the forked workers see
        try:
            pool = _pool(workers, {job[0] for job in jobs})
        finally:
            _jobs = ()
    if not workers or pool is None:
        yield (make(*job) for job in jobs) if make else _make_all(jobs)
        return
    with pool:  # leaving it (an error, Ctrl-C, a consumer that stops) ends the workers
        yield _SharedJobs(pool, jobs, workers).exercises()


class _SharedJobs:
    """The jobs between the workers (from the front) and this process (from the back).

    Each worker has two chunks handed to it at any time: as one comes back, the pool's
    result thread hands out the next, so the workers never wait for this process."""

    def __init__(self, pool: Any, jobs: Sequence[Job], workers: int) -> None:
        self.pool = pool
        self.jobs = jobs
        self.lock = threading.Lock()
        self.front = 0  # jobs[:front] are handed out or made
        self.end = len(jobs)  # jobs[end:] are made here
        self.out: collections.deque[tuple[int, int, Any]] = collections.deque()
        with self.lock:
            for _ in range(2 * workers):
                self._hand_out()

    def _hand_out(self) -> None:
        """Give the workers the next chunk, if any is left (call with the lock held)."""
        start, stop = self.front, min(self.front + CHUNK, self.end)
        if start < stop:
            self.front = stop
            result = self.pool.apply_async(_make_range, (start, stop), callback=self._came_back)
            self.out.append((start, stop, result))

    def _came_back(self, _: object) -> None:
        # In the pool's result thread; a pool being closed takes no more tasks.
        with self.lock, contextlib.suppress(ValueError):
            self._hand_out()

    def _take_last(self) -> int | None:
        """The last job nobody has taken, now this process's, or None."""
        with self.lock:
            if self.end <= self.front:
                return None
            self.end -= 1
            return self.end

    def exercises(self) -> Iterator[Exercise]:
        made_here: dict[int, Exercise] = {}
        index = 0
        while index < len(self.jobs):
            with self.lock:
                chunk = self.out.popleft() if self.out else None
                if chunk is None and index < self.end:  # nothing out: make it here
                    self.front = max(self.front, index + 1)
            if chunk is None:
                yield made_here.pop(index) if index in made_here else _make(self.jobs[index])
                index += 1
                continue
            _, stop, result = chunk
            while not result.ready():
                last = self._take_last()
                if last is None:
                    break
                made_here[last] = _make(self.jobs[last])
            yield from result.get()  # a worker's error is raised here
            index = stop


def worker_count(jobs: int) -> int:
    """How many worker processes `jobs` exercises are worth (0: none).

    Only cores that nothing else uses are taken, and one of them is this process's own,
    which writes the notes meanwhile: on a machine already busy, workers would only share
    the same cores and add the cost of handing exercises over (a tenth more CPU)."""
    if jobs < PARALLEL_FROM or sys.platform != "linux":
        return 0
    cores = len(os.sched_getaffinity(0))
    free = int(cores - others_running() + 0.5) - 1  # a core busy half the time is busy
    return max(0, min(free, MAX_WORKERS, jobs // PARALLEL_FROM))


def others_running() -> float:
    """About how many processes besides this one want a core: the last minute's load
    average, unless fewer run right now. The average alone still counts the commands
    that just ended (a previous export, say) for a while; the count of the moment alone
    misses a busy process that happens to wait for its disk."""
    average = os.getloadavg()[0]
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            now = int(file.read().split()[3].split("/")[0]) - 1  # this process counts
    except (OSError, IndexError, ValueError):
        return average
    return min(average, max(now, 0))


def _pool(workers: int, generators: set[str]) -> Any:
    import gc
    import multiprocessing

    _import_generators(generators)
    # Objects that exist now stay out of the workers' garbage collections, which would
    # otherwise touch, and so copy, every page of the decks they share with this process.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        return context.Pool(workers, initializer=_ignore_interrupts)
    except (OSError, ValueError):  # no fork, or no semaphores (/dev/shm) in a sandbox
        return None
    finally:
        gc.unfreeze()


def _import_generators(names: set[str]) -> None:
    """Import the generators' modules (and NumPy) here, once, rather than in each worker."""
    import importlib

    from drill.exercises.registry import GENERATORS

    for name in names:
        if name in GENERATORS:  # an unknown one fails in its worker, in its turn
            importlib.import_module(GENERATORS[name].module)


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process of the terminal's group: this one ends the pool, so the
    # workers must not die first with tracebacks of their own.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


_jobs: Sequence[Job] = ()  # the export's jobs, set while its workers are forked


def _make_range(start: int, stop: int) -> list[Exercise]:
    """In a worker: the exercises of jobs start to stop, as forked with it."""
    return list(_make_all(_jobs[start:stop]))


def _make_all(jobs: Sequence[Job]) -> Iterator[Exercise]:
    """The jobs' exercises without extras, their random generators seeded all at once."""
    from drill.exercises.registry import make_all

    return make_all(jobs, extras=False)


def _make(job: Job) -> Exercise:
    from drill.exercises import make

    return make(*job, extras=False)
