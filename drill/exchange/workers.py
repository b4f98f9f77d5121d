"""The exercises of an export, made in worker processes when there are enough of them.

A large collection's export makes thousands of exercises, a few milliseconds of NumPy
each, on one core. Each depends only on its generator, seed, params and difficulty, so
worker processes can make them side by side while this process turns the finished ones
into notes. They come back in the order asked: the same exercises as made one by one.

Workers are forked, so they start in milliseconds with everything already imported; where
forking is not the norm (macOS, Windows) or not possible, or no core is idle, the
exercises are made here.
"""

from __future__ import annotations

import contextlib
import os
import sys
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
    give one that needs no NumPy, and it is then called here, one job after another)."""
    workers = worker_count(len(jobs)) if make is None else 0
    pool = _pool(workers, {job[0] for job in jobs}) if workers else None
    if pool is None:
        if make is None:
            from drill.exercises import make
        yield (make(*job) for job in jobs)
        return
    with pool:  # leaving it (an error, Ctrl-C, a consumer that stops) ends the workers
        yield pool.imap(_make, jobs, chunksize=CHUNK)


def worker_count(jobs: int) -> int:
    """How many worker processes `jobs` exercises are worth (0: none).

    One core is left to this process, which writes the notes meanwhile, and only idle
    cores are used, as `make -l` does: on a machine already busy, workers would only
    share the same cores and add the cost of handing exercises over (a tenth more CPU)."""
    if jobs < PARALLEL_FROM or sys.platform != "linux":
        return 0
    cores = len(os.sched_getaffinity(0))
    idle = int(cores - os.getloadavg()[0])
    return max(0, min(cores - 1, idle, MAX_WORKERS, jobs // PARALLEL_FROM))


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


def _make(job: Job) -> Exercise:
    from drill.exercises import make

    return make(*job)
