"""What makes a large export fast must not change what it writes.

The package's notes and cards go into SQLite in bulk rather than through genanki's note
objects; the exercises of an export may be made in worker processes; and generators
judge their draws with less repeated work (drill.exercises.screening). Each is compared
here with the plain way it replaces.
"""

from __future__ import annotations

import io
import itertools
import sqlite3
import zipfile

import genanki
import numpy as np
import pytest
from export_samples import basic_deck, compute_deck, fake_make

from drill.exchange import workers
from drill.exchange.anki_notes import note_fields, note_type_of, note_types
from drill.exchange.apkg import (
    CSS,
    _anki_deck,
    _note_type,
    anki_guid,
    anki_guids,
    anki_tags,
    base91_text,
    render_apkg,
    stable_id,
)
from drill.exchange.entries import entries, exercise_jobs
from drill.exercises import make
from drill.exercises.base import Difficulty
from drill.exercises.common import GRID, NoAcceptableDraw, draw, resample
from drill.exercises.normgraph import exact_sigma
from drill.exercises.rmsnorm import exact_rms
from drill.exercises.screening import (
    _floyd_then_shuffle,
    first_accepted,
    first_accepted_choice,
    resample_keeping,
)
from drill.model import Card, CardType, Deck

T0 = 1_700_000_000.0


def _rows(package: bytes) -> list[str]:
    """Every row of the package's collection, as SQL."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        database = archive.read("collection.anki2")
    db = sqlite3.connect(":memory:")
    db.deserialize(database)
    rows = list(db.iterdump())
    db.close()
    return rows


def _genanki_package(items, timestamp: float) -> bytes:
    """The package as genanki's own Note and Deck objects write it."""
    models = note_types(genanki, _note_type(genanki), stable_id, CSS)
    decks: dict[str, genanki.Deck] = {}
    for entry in items:
        deck = decks.setdefault(entry.deck.id, _anki_deck(genanki, entry.deck))
        name = note_type_of(entry, "drill")
        deck.add_note(
            genanki.Note(
                model=models[name],
                fields=note_fields(entry, name),
                tags=anki_tags(entry),
                guid=genanki.guid_for(entry.key),
            )
        )
    connection = sqlite3.connect(":memory:")
    genanki.Package(list(decks.values())).write_to_db(
        connection.cursor(), timestamp, itertools.count(int(timestamp * 1000))
    )
    connection.commit()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("collection.anki2", connection.serialize())
    connection.close()
    return buffer.getvalue()


def _every_note_type() -> Deck:
    cards = (
        Card("kinds", "cloze", type=CardType.CLOZE, text="{{c1::Adam}} keeps {{c2::two}} moments"),
        Card("kinds", "typed", q="2 + 2?", a="Four.", type_answer="4", reverse=True),
        Card("kinds", "typed-one-way", q="3 + 3?", a="Six.", type_answer="6"),
        Card("kinds", "reversed", q="ReLU", a="max(0, x)", reverse=True),
        Card(
            "kinds",
            "choice",
            q="Which?",
            type=CardType.CHOICE,
            choices=("a", "b", "c"),
            answers=("b",),
        ),
    )
    return Deck("kinds", "Every kind", cards, tags=("two words",))


def test_bulk_rows_are_the_rows_genanki_writes():
    decks = [basic_deck(), _every_note_type(), compute_deck(), basic_deck("ml2", "Again")]
    items = list(entries(decks, instances=3, seed=5, make=fake_make))
    content, notes = render_apkg(items, timestamp=T0)
    assert notes == len(items)
    assert _rows(content) == _rows(_genanki_package(items, T0))


def _cheap_jobs(count: int):
    deck = Deck("c", "C", (Card("c", "n", type=CardType.COMPUTE, generator="param-count"),))
    return exercise_jobs([deck], count, 3, Difficulty.HAND)


def test_exercises_made_by_workers_are_those_made_here(monkeypatch):
    jobs = _cheap_jobs(40)
    monkeypatch.setattr(workers, "PARALLEL_FROM", 10)
    monkeypatch.setattr(workers, "CHUNK", 3)
    monkeypatch.setattr(workers, "worker_count", lambda jobs: 2)
    with workers.made_in_order(jobs) as made:
        pooled = list(made)
    assert pooled == [make(*job, extras=False) for job in jobs]
    with workers.made_in_order(jobs[:3]) as made:  # too few for workers: made here, as lean
        assert list(made) == pooled[:3]


class _SlowWorkers:
    """A pool whose chunks are never done before they are asked for: this process then
    makes every job nobody has taken yet, from the back."""

    def __init__(self):
        self.ranges = []

    def apply_async(self, function, args, callback):
        self.ranges.append(args)
        return _Later(function, args, callback)


class _Later:
    def __init__(self, function, args, callback):
        self.function, self.args, self.callback = function, args, callback

    def ready(self):
        return False

    def get(self):
        made = self.function(*self.args)
        self.callback(made)
        return made


def test_this_process_makes_the_last_jobs_while_the_workers_are_busy(monkeypatch):
    jobs = _cheap_jobs(20)
    monkeypatch.setattr(workers, "CHUNK", 3)
    monkeypatch.setattr(workers, "_jobs", jobs)
    made_here = []
    make_one = workers._make
    monkeypatch.setattr(workers, "_make", lambda job: made_here.append(job) or make_one(job))
    pool = _SlowWorkers()
    exercises = list(workers._SharedJobs(pool, jobs, 1).exercises())
    assert exercises == [make(*job, extras=False) for job in jobs]
    assert pool.ranges == [(0, 3), (3, 6)]  # two chunks out; the rest was made here
    assert made_here[:14] == jobs[6:][::-1]  # from the back, before any chunk came back


def test_workers_only_for_many_exercises_and_idle_cores(monkeypatch):
    monkeypatch.setattr(workers.sys, "platform", "linux")
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    many = 10 * workers.PARALLEL_FROM
    for others, count in ((0.0, 3), (0.4, 3), (0.6, 2), (1.0, 2), (2.5, 1), (3.0, 0), (6.0, 0)):
        monkeypatch.setattr(workers, "others_running", lambda others=others: others)
        assert workers.worker_count(many) == count  # one core is this process's own
        assert workers.worker_count(workers.PARALLEL_FROM - 1) == 0
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(workers, "others_running", lambda: 1.0)  # the other core is busy
    assert workers.worker_count(many) == 0


def _proc_loadavg(text):
    def fake_open(path, *args, **kwargs):
        assert path == "/proc/loadavg"
        return io.StringIO(text)

    return fake_open


def test_others_running_is_the_load_average_unless_fewer_run_now(monkeypatch):
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (1.9, 1.0, 0.5))
    monkeypatch.setattr(
        workers, "open", _proc_loadavg("1.90 1.00 0.50 1/300 4242\n"), raising=False
    )
    assert workers.others_running() == 0  # only this process runs: the load was the past
    monkeypatch.setattr(
        workers, "open", _proc_loadavg("1.90 1.00 0.50 5/300 4242\n"), raising=False
    )
    assert workers.others_running() == 1.9  # a burst of short commands: the average holds
    monkeypatch.setattr(workers, "open", _proc_loadavg("garbled"), raising=False)
    assert workers.others_running() == 1.9


def test_guids_are_genankis():
    # Some 2 % of GUIDs have nine digits, not ten: 3,000 keys hold both kinds.
    keys = ["ml/two-passes", "grads/neuron-grad#1", "", "é/ü#12", *(f"d/c{n}" for n in range(3000))]
    expected = [genanki.guid_for(key) for key in keys]
    assert anki_guids(keys) == expected
    assert [anki_guid(key) for key in keys[:50]] == expected[:50]


def _base91_one_digit_at_a_time(number: int) -> str:
    """genanki's loop (genanki.util.guid_for) over a number of our choosing."""
    table = genanki.util.BASE91_TABLE
    digits = []
    while number > 0:
        digits.append(table[number % len(table)])
        number //= len(table)
    return "".join(reversed(digits))


def test_numbers_of_every_length_are_written_in_base_91_as_genanki_writes_them():
    numbers = [0, 1, 90, 91, 92, 91**2 - 1, 91**2, 91**9 - 1, 91**9, 2**63, 2**64 - 1]
    numbers += [int(n) for n in np.random.default_rng(3).integers(0, 2**63, size=500)]
    numbers += [91**k + d for k in range(10) for d in (-1, 0, 1) if 91**k + d >= 0]
    assert [base91_text(n) for n in numbers] == [_base91_one_digit_at_a_time(n) for n in numbers]


def test_small_exports_and_given_makers_stay_in_this_process(monkeypatch):
    monkeypatch.setattr(workers, "_pool", lambda *args: pytest.fail("no pool expected"))
    jobs = _cheap_jobs(workers.PARALLEL_FROM + 1)
    with workers.made_in_order(jobs, fake_make) as made:
        assert next(made) == fake_make(*jobs[0])


def test_a_worker_error_reaches_the_export(monkeypatch):
    deck = Deck("c", "C", (Card("c", "n", type=CardType.COMPUTE, generator="no-such-gen"),))
    jobs = exercise_jobs([deck], 12, 3, Difficulty.HAND)
    monkeypatch.setattr(workers, "worker_count", lambda jobs: 2)
    with pytest.raises(Exception, match="no-such-gen"), workers.made_in_order(jobs) as made:
        list(made)


@pytest.mark.parametrize(
    ("size", "low", "high", "accepted"),
    [(4, -2.0, 2.0, exact_sigma), (5, -2.0, 2.0, exact_sigma), (4, -2.0, 2.0, exact_rms)],
)
def test_block_draws_match_drawing_one_at_a_time(size, low, high, accepted):
    for seed in range(60):
        one, block = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = resample(one, lambda r: draw(r, Difficulty.HAND, (size,), low, high), accepted)
        got = first_accepted(block, size, low, high, accepted, 20_000)
        assert got.tolist() == expected.tolist()
        assert block.bit_generator.state == one.bit_generator.state
        assert block.random() == one.random()


def _adds_up_to(total):
    return lambda draws: (draws + 1).sum(axis=1) == total


@pytest.mark.parametrize(("population", "size", "total"), [(10, 4, 20), (10, 5, 20), (6, 2, 7)])
def test_distinct_draws_in_blocks_match_numpys_choice_one_at_a_time(population, size, total):
    for seed in range(80):
        one, block = np.random.default_rng(seed), np.random.default_rng(seed)
        if seed % 2:  # a generator holding half of a 64-bit word for its next draw
            one.integers(10), block.integers(10)

        def choice(r, population=population, size=size):
            return r.choice(population, size=size, replace=False)

        expected = resample(one, choice, lambda v: sum(v.tolist()) + size == total)
        got = first_accepted_choice(block, population, size, _adds_up_to(total), 1000)
        assert got.tolist() == expected.tolist()
        assert block.bit_generator.state == one.bit_generator.state


@pytest.mark.parametrize(("population", "size"), [(10, 4), (10, 9), (2, 1), (10_000, 60)])
def test_a_block_of_words_gives_what_numpys_choice_draws_from_them(population, size):
    rng = np.random.default_rng(population + size)
    state = rng.bit_generator.state
    words = rng.integers(0, 1 << 32, size=(300, 2 * size - 1), dtype=np.uint32)
    rng.bit_generator.state = state
    expected = [rng.choice(population, size=size, replace=False).tolist() for _ in range(300)]
    drawn, redrawn = _floyd_then_shuffle(words.astype(np.uint64), population, size)
    assert drawn.tolist() == expected and not redrawn.any()


def test_a_word_numpy_would_draw_again_is_told():
    # Seven words for 4 of 10: bounds 7, 8, 9 and 10 (Floyd), then 4, 3 and 2 (the shuffle).
    words = np.full((1, 7), (1 << 31) + 1, dtype=np.uint64)
    assert _floyd_then_shuffle(words, 10, 4)[1].tolist() == [False]
    words[0, 3] = 0  # bound 10: the low half of 0 · 10 falls under 2³² mod 10 = 6
    assert _floyd_then_shuffle(words, 10, 4)[1].tolist() == [True]


def test_distinct_draws_fall_back_to_one_at_a_time_when_a_word_is_redrawn(monkeypatch):
    from drill.exercises import screening

    def every_row_redrawn(words, population, size):
        drawn, _ = _floyd_then_shuffle(words, population, size)
        return drawn, np.ones(len(drawn), dtype=bool)

    monkeypatch.setattr(screening, "_floyd_then_shuffle", every_row_redrawn)
    for seed in range(10):
        one, block = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = resample(
            one, lambda r: r.choice(10, size=4, replace=False), lambda v: sum(v.tolist()) == 16
        )
        assert (
            first_accepted_choice(block, 10, 4, _adds_up_to(20), 1000).tolist() == expected.tolist()
        )
        assert block.bit_generator.state == one.bit_generator.state
    with pytest.raises(NoAcceptableDraw, match="in 5 tries"):
        first_accepted_choice(np.random.default_rng(0), 10, 4, lambda d: d[:, 0] < 0, 5)
    with pytest.raises(ValueError, match="not a small draw"):
        first_accepted_choice(np.random.default_rng(0), 10, 10, _adds_up_to(55), 5)


def test_block_draws_give_up_as_resample_does():
    rng = np.random.default_rng(0)
    with pytest.raises(NoAcceptableDraw, match="in 100 tries"):
        first_accepted(rng, 3, -2.0, 2.0, exact_sigma, 100)  # 3 values: σ is never exact


def test_row_judges_agree_with_one_draw_judged_alone():
    rows = np.random.default_rng(1).integers(-4, 5, size=(2000, 4)) * GRID
    for judge in (exact_sigma, exact_rms):
        assert judge(rows).tolist() == [bool(judge(row)) for row in rows]


def test_a_kept_build_comes_with_the_draw_resample_returns():
    builds = []

    def judge(value):
        builds.append(value)
        return value > 0.9, value * 2

    value, built = resample_keeping(np.random.default_rng(4), lambda r: r.random(), judge)
    assert value == resample(np.random.default_rng(4), lambda r: r.random(), lambda v: v > 0.9)
    assert built == value * 2 and builds[-1] == value


def test_an_export_runs_without_the_cyclic_collector_and_restores_it():
    import gc

    from drill.exchange.export import Format, render

    seen = []
    kept = []  # objects that live through the export, as its notes do
    decks = [compute_deck()]

    def recording_make(*job):
        seen.append(gc.isenabled())
        kept.extend([] for _ in range(1000))
        return fake_make(*job)

    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    render(decks, Format.CSV, instances=2, seed=1, make=recording_make)
    assert seen and not any(seen)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before
    # What the export left alive counts as old: the next young pass does not go over it.
    assert any(obj is kept[-1] for obj in gc.get_objects(generation=2))
    gc.disable()
    try:
        render(decks, Format.CSV, instances=2, seed=1, make=recording_make)
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()


def test_genanki_is_imported_without_asyncio_and_yaml():
    import subprocess
    import sys

    code = (
        "import sys; from drill.exchange.apkg import import_genanki, render_apkg; "
        "genanki = import_genanki(); "
        "model = genanki.Model(1, 'm', fields=[{'name': 'A'}, {'name': 'B'}], "
        "templates=[{'name': 't', 'qfmt': '{{A}}', 'afmt': '{{B}}'}]); "
        "print(model._req, 'asyncio' in sys.modules, 'cached_property' in sys.modules, "
        "'yaml' in sys.modules); "
        # A note type given as YAML text still reads: PyYAML comes in then.
        "print(genanki.Model(2, 'y', fields='- name: A', templates=[]).fields, "
        "'yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    first, second = result.stdout.splitlines()
    assert first.split("]] ")[1].strip() == "False False False"
    assert first.startswith("[[0, 'all', [0]]]")  # the required fields, as cached
    assert second == "[{'name': 'A'}] True"


@pytest.mark.parametrize("wrt", ["W", "U", "b", "h0"])
def test_rnn_step_shares_read_off_the_answer_are_an_untied_graphs(wrt):
    from drill.exercises import rnn
    from drill.exercises.common import named_nodes

    for seed in range(60):
        rng = np.random.default_rng(seed)
        difficulty = (Difficulty.HAND, Difficulty.CALC)[seed % 2]
        setup = rnn._choose_setup(rng, difficulty, {"wrt": wrt})
        inputs = rnn._draw_inputs(rng, difficulty, setup)
        untied = rnn._build(inputs, setup, untied=True)  # step 1 has its own W@1, U@1, b@1
        untied.backward()
        nodes = named_nodes(untied)
        asked = float(nodes[wrt].grad[setup.index])
        expected = (
            (float(nodes[f"{wrt}@1"].grad[setup.index]), asked) if wrt != "h0" else (asked, 0.0)
        )
        loss, answer, shares = rnn._answer_and_shares(inputs, setup)
        assert shares == expected  # exactly: they decide which draws are kept
        assert answer == float(named_nodes(loss)[wrt].grad[setup.index])
