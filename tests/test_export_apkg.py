"""Anki packages, checked by importing them with Anki's own library into a fresh collection."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import genanki
import pytest
from export_samples import basic_deck, compute_deck, fake_make

from drill.exchange.entries import instance_seed
from drill.exchange.export import Format, render
from drill.model import Card

anki_collection = pytest.importorskip("anki.collection")

T0 = 1_700_000_000.0  # notes' modification time of the first export


@pytest.fixture
def collection(tmp_path):
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


def write_package(tmp_path, decks, timestamp, name="drill.apkg"):
    rendered = render(decks, Format.APKG, instances=2, seed=5, make=fake_make, timestamp=timestamp)
    path = tmp_path / name
    path.write_bytes(rendered.content)
    return path, rendered.notes


def import_package(col, path):
    request = anki_collection.ImportAnkiPackageRequest(
        package_path=str(path), options=anki_collection.ImportAnkiPackageOptions()
    )
    return col.import_anki_package(request).log


def note_by_key(col, key):
    note_ids = col.find_notes(f'"Key:{key}"')
    assert len(note_ids) == 1, f"{len(note_ids)} notes with key {key}"
    return col.get_note(note_ids[0])


def test_package_imports_into_anki_with_decks_fields_and_tags(tmp_path, collection):
    path, notes = write_package(tmp_path, [basic_deck(), compute_deck()], T0)
    log = import_package(collection, path)

    assert notes == 4
    assert len(log.new) == 4
    assert collection.note_count() == 4
    assert collection.card_count() == 4
    names = {deck.name for deck in collection.decks.all_names_and_ids()}
    assert {"drill", "drill::Machine learning", "drill::Gradients"} <= names

    note = note_by_key(collection, "ml/two-passes")
    assert note.note_type()["name"] == "drill"
    assert list(note.keys()) == ["Question", "Answer", "Reference", "Key"]
    assert note["Question"] == "<p>Explain the two passes of backpropagation.</p>"
    assert note["Answer"] == (
        "<p><strong>Forward</strong> pass, then the <em>backward</em> pass.</p>\n"
        "<ul>\n<li>chain rule</li>\n<li><code>x &lt; y</code> &amp; more</li>\n</ul>"
    )
    assert note["Reference"] == "Goodfellow et al., Deep Learning (2016), §6.5"
    assert sorted(note.tags) == ["core", "deep-learning", "interview"]
    assert note.guid == genanki.guid_for("ml/two-passes")
    card = note.cards()[0]
    assert collection.decks.name(card.did) == "drill::Machine learning"

    exercise = note_by_key(collection, "grads/neuron-grad#2")
    x = instance_seed(5, "grads/neuron-grad", 2) % 7
    assert f"x = {x}" in exercise["Question"]
    assert f"Answer: <code>{2 * x}</code>" in exercise["Answer"]
    assert exercise.tags == ["compute"]


def test_reimporting_an_edited_export_updates_the_note_and_adds_none(tmp_path, collection):
    first, _ = write_package(tmp_path, [basic_deck()], T0, "first.apkg")
    import_package(collection, first)
    note_id = note_by_key(collection, "ml/two-passes").id

    edited = basic_deck(
        answer="The forward pass computes the loss; the backward pass its gradients."
    )
    second, _ = write_package(tmp_path, [edited], T0 + 60, "second.apkg")
    log = import_package(collection, second)

    assert len(log.new) == 0
    assert note_id in [note.id.nid for note in log.updated]
    assert collection.note_count() == 2
    note = note_by_key(collection, "ml/two-passes")
    assert note.id == note_id
    assert note["Answer"] == (
        "<p>The forward pass computes the loss; the backward pass its gradients.</p>"
    )


def _package_ids(content: bytes) -> tuple[list[str], list[str], list[str]]:
    """Note type ids, deck ids and note GUIDs stored in a package."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        database = archive.read("collection.anki2")
    db = sqlite3.connect(":memory:")
    db.deserialize(database)
    models, decks = db.execute("SELECT models, decks FROM col").fetchone()
    guids = sorted(row[0] for row in db.execute("SELECT guid FROM notes"))
    db.close()
    deck_ids = sorted(key for key, deck in json.loads(decks).items() if deck["name"] != "Default")
    return sorted(json.loads(models)), deck_ids, guids


def test_ids_are_derived_from_drill_ids_not_drawn_at_random():
    decks = [basic_deck(), compute_deck()]
    first = render(decks, Format.APKG, instances=2, seed=5, make=fake_make, timestamp=T0)
    later = render(decks, Format.APKG, instances=2, seed=5, make=fake_make, timestamp=T0 + 99)
    assert _package_ids(first.content) == _package_ids(later.content)
    models, deck_ids, guids = _package_ids(first.content)
    assert len(models) == 1
    assert len(deck_ids) == 2
    assert guids == sorted(
        genanki.guid_for(key)
        for key in ("ml/two-passes", "ml/relu", "grads/neuron-grad#1", "grads/neuron-grad#2")
    )


def test_tags_with_spaces_become_underscored():
    from drill.exchange.apkg import anki_tags
    from drill.exchange.entries import Entry

    deck = basic_deck()
    entry = Entry(deck, Card(deck.id, "c", q="q", a="a", tags=("two words",)))
    assert anki_tags(entry) == ["two_words", "deep-learning"]


def test_template_styles_night_mode():
    from drill.exchange.apkg import CSS

    assert ".nightMode" in CSS
    assert ".night_mode" in CSS
